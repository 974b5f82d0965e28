package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

// localClaude starts a server that answers the Messages API as Claude
// does: a message, or its events for a stream, or 529 while overloaded.
func localClaude(overloaded bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case overloaded:
			writeJSON(w, 529, errorJSON("overloaded_error", "Overloaded"))
		case body.Stream:
			writeSSE(w, helloStream()...)
		default:
			writeJSON(w, http.StatusOK, helloJSON)
		}
	}))
}

// A go-openai request sent to Claude, and its answer as a go-openai
// response.
func Example() {
	srv := localClaude(false)
	defer srv.Close()

	p := anth.New(option.WithAPIKey("sk-ant-your-key"), option.WithBaseURL(srv.URL))
	resp, err := p.Chat(context.Background(), providers.ChatRequest{Request: goopenai.ChatCompletionRequest{
		Model: "claude-sonnet-4-5",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: "Be brief."},
			{Role: goopenai.ChatMessageRoleUser, Content: "Say hello."},
		},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Model, resp.Choices[0].FinishReason)
	fmt.Println(resp.Choices[0].Message.Content)
	fmt.Println("tokens:", resp.Usage.PromptTokens, "in,", resp.Usage.CompletionTokens, "out")
	fmt.Println(providers.Describe(p).Name)
	// Output:
	// claude-sonnet-4-5-20250929 stop
	// Hello there!
	// tokens: 9 in, 3 out
	// anthropic
}

// A stream of Claude's events, read as go-openai chunks; io.EOF comes
// only after message_stop.
func ExampleProvider_ChatStream() {
	srv := localClaude(false)
	defer srv.Close()

	p := anth.New(option.WithAPIKey("sk-ant-your-key"), option.WithBaseURL(srv.URL))
	req := providers.ChatRequest{Request: goopenai.ChatCompletionRequest{
		Model:    "claude-sonnet-4-5",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Say hello."}},
	}}
	st, err := p.ChatStream(context.Background(), req)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			fmt.Println("[end]")
			break
		}
		if err != nil {
			panic(err)
		}
		for _, c := range chunk.Choices {
			switch {
			case c.Delta.Role != "":
				fmt.Println("role:", c.Delta.Role)
			case c.Delta.Content != "":
				fmt.Printf("content: %q\n", c.Delta.Content)
			case c.FinishReason != "":
				fmt.Println("finish:", c.FinishReason, "usage:", chunk.Usage.TotalTokens)
			}
		}
	}
	// Output:
	// role: assistant
	// content: "Hello"
	// content: " there!"
	// finish: stop usage: 12
	// [end]
}

// Claude overloaded (Anthropic's 529) is a 503 with code
// overloaded_error, so the router retries it and falls back as it does
// any provider's overload: here to an OpenAI-compatible account (a fake).
func Example_fallback() {
	srv := localClaude(true)
	defer srv.Close()
	openai := fake.New()

	c, err := routing.New(
		routing.WithProvider("anthropic-main", anth.New(option.WithAPIKey("sk-ant-your-key"), option.WithBaseURL(srv.URL))),
		routing.WithProvider("openai-main", openai),
		routing.WithManifest([]byte(`
name: assistant
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: anthropic-main/claude-sonnet-4-5, priority: 0, retry_config: {attempts: 1, delay: 1}}
        - {target: openai-main/gpt-4o, priority: 1}
`)),
	)
	if err != nil {
		panic(err)
	}
	var tr routing.Trace
	resp, err := c.Chat(routing.WithTrace(context.Background(), &tr), goopenai.ChatCompletionRequest{
		Model:    "assistant/chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hi"}},
	})
	if err != nil {
		panic(err)
	}
	for _, a := range tr.Attempts {
		var pe *providers.Error
		code := ""
		if errors.As(a.Err, &pe) {
			code = pe.Code
		}
		fmt.Println(a.Target, a.Try, a.Status, code, a.Class)
	}
	fmt.Println("served by", tr.Resolved, "model", resp.Model)
	// Output:
	// anthropic-main/claude-sonnet-4-5 1 503 overloaded_error retry
	// anthropic-main/claude-sonnet-4-5 2 503 overloaded_error fallback
	// openai-main/gpt-4o 1 200  ok
	// served by openai-main/gpt-4o model gpt-4o
}
