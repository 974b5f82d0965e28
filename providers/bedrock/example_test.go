package bedrock_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// exampleServer is a local stand-in for Bedrock Runtime: it answers
// Converse with a greeting, ConverseStream with the same greeting in
// pieces, and throttles the model "busy".
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := bedrocktest.ReadRequest(r)
		switch {
		case err != nil:
			bedrocktest.WriteError(w, 400, "ValidationException", err.Error())
		case req.Model == "busy":
			w.Header().Set("Retry-After", "2")
			bedrocktest.WriteError(w, 429, "ThrottlingException", "Too many requests, please wait before trying again.")
		case req.Stream:
			ev := bedrocktest.NewEvents(w, "req-stream")
			_ = ev.MessageStart()
			for _, piece := range []string{"Hello", " from", " Bedrock."} {
				_ = ev.Text(0, piece)
			}
			_ = ev.MessageStop("end_turn")
			_ = ev.Metadata(bedrocktest.Usage{InputTokens: 9, OutputTokens: 4})
		default:
			bedrocktest.WriteJSON(w, "req-chat", bedrocktest.Answer("end_turn",
				bedrocktest.Usage{InputTokens: 9, OutputTokens: 4}, bedrocktest.Text("Hello from Bedrock.")))
		}
	}))
}

// exampleProvider is a Provider for srv. In production, cfg comes from
// config.LoadDefaultConfig and the endpoint from the region.
func exampleProvider(srv *httptest.Server) *bedrock.Provider {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "example-secret", ""),
		HTTPClient:  srv.Client(),
	}
	return bedrock.New(cfg, func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func Example() {
	srv := exampleServer()
	defer srv.Close()
	p := exampleProvider(srv)

	resp, err := p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Say hello."}},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Choices[0].Message.Content)
	fmt.Println("finish:", resp.Choices[0].FinishReason, "tokens:", resp.Usage.TotalTokens, "id:", resp.ID)
	fmt.Println(p.Describe().Name)
	// Output:
	// Hello from Bedrock.
	// finish: stop tokens: 13 id: req-chat
	// aws.bedrock
}

// A stream ends with io.EOF only after Bedrock's messageStop; the usage
// chunk comes when the request asks for it.
func ExampleProvider_ChatStream() {
	srv := exampleServer()
	defer srv.Close()
	p := exampleProvider(srv)

	st, err := p.ChatStream(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:         "us.anthropic.claude-3-5-haiku-20241022-v1:0",
		Messages:      []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Say hello."}},
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		for _, ch := range chunk.Choices {
			if ch.Delta.Content != "" {
				fmt.Printf("%q\n", ch.Delta.Content)
			}
			if ch.FinishReason != "" {
				fmt.Println("finish:", ch.FinishReason)
			}
		}
		if chunk.Usage != nil {
			fmt.Println("tokens:", chunk.Usage.TotalTokens)
		}
	}
	// Output:
	// "Hello"
	// " from"
	// " Bedrock."
	// finish: stop
	// tokens: 13
}

// Bedrock's exceptions arrive as *providers.Error with the status the
// routing layer classifies by.
func ExampleProvider_Chat_errors() {
	srv := exampleServer()
	defer srv.Close()
	p := exampleProvider(srv)

	_, err := p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    "busy",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hi"}},
	}})
	var pe *providers.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Status, pe.Code, pe.RetryAfter)
	}

	_, err = p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hi"}},
		N:        3,
	}})
	if errors.As(err, &pe) {
		fmt.Println(pe.Status, pe.Code, pe.Message)
	}
	// Output:
	// 429 ThrottlingException 2s
	// 400 client_validation bedrock: n: Bedrock returns one choice per call; n must be 1, not 3
}
