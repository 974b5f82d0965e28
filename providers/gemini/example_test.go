package gemini_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	gem "github.com/llmroute/llmroute/providers/gemini"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// fakeGemini starts a local server answering every request with body (and
// status), as the Gemini API would. The examples use it in place of
// https://generativelanguage.googleapis.com.
func fakeGemini(status int, body string) (*httptest.Server, *http.Transport) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.Contains(r.URL.RawQuery, "alt=sse") {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	return srv, &http.Transport{}
}

func Example() {
	srv, tr := fakeGemini(200, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Bonjour !"}]},"finishReason":"STOP"}],`+
		`"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"thoughtsTokenCount":12},"modelVersion":"gemini-2.5-flash","responseId":"r-1"}`)
	defer srv.Close()
	defer tr.CloseIdleConnections()

	p, err := gem.New(context.Background(), &genai.ClientConfig{
		APIKey:      "your-api-key",
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  &http.Client{Transport: tr},
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}, // omit for Google's endpoint
	})
	if err != nil {
		panic(err)
	}
	resp, err := p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model: "gemini-2.5-flash",
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "Answer in French."},
			{Role: openai.ChatMessageRoleUser, Content: "Hello!"},
		},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Choices[0].Message.Content, resp.Choices[0].FinishReason)
	fmt.Println("completion tokens:", resp.Usage.CompletionTokens, "of which thinking:", resp.Usage.CompletionTokensDetails.ReasoningTokens)
	fmt.Println(p.Describe().Name)
	// Output:
	// Bonjour ! stop
	// completion tokens: 15 of which thinking: 12
	// gcp.gemini
}

// A Gemini 3 function call comes back as an OpenAI tool call whose id
// carries the call's thought signature: send the assistant message back
// as it is, with a tool message per call, and Gemini gets its signature.
func Example_toolCalls() {
	srv, tr := fakeGemini(200, `{"candidates":[{"content":{"role":"model","parts":[`+
		`{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJl"}]},"finishReason":"STOP"}],"responseId":"r-2"}`)
	defer srv.Close()
	defer tr.CloseIdleConnections()
	p, err := gem.New(context.Background(), &genai.ClientConfig{APIKey: "your-api-key",
		HTTPClient: &http.Client{Transport: tr}, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	if err != nil {
		panic(err)
	}
	resp, err := p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    "gemini-3-pro-preview",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Weather in Paris?"}},
		Tools: []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: "get_weather", Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		}}},
	}})
	if err != nil {
		panic(err)
	}
	c := resp.Choices[0]
	call := c.Message.ToolCalls[0]
	fmt.Println(c.FinishReason, call.Function.Name, call.Function.Arguments)
	fmt.Println(strings.HasPrefix(call.ID, "call_"))
	// Output:
	// tool_calls get_weather {"city":"Paris"}
	// true
}

// A Gemini account as the first target of a virtual model: its quota is
// spent (429 RESOURCE_EXHAUSTED, retry in 46s), which is longer than the
// caller's deadline allows, so the call falls back at once, and the Trace
// says why.
func Example_fallback() {
	srv, tr := fakeGemini(429, `{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED",`+
		`"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"46s"}]}}`)
	defer srv.Close()
	defer tr.CloseIdleConnections()
	gemini, err := gem.New(context.Background(), &genai.ClientConfig{APIKey: "your-api-key",
		HTTPClient: &http.Client{Transport: tr}, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	if err != nil {
		panic(err)
	}
	c, err := routing.New(
		routing.WithProvider("gemini-main", gemini),
		routing.WithProvider("backup", fake.New()),
		routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "gemini-main/gemini-2.5-flash", Priority: 0},
				{Ref: "backup/gpt-4o-mini", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		panic(err)
	}
	var trace routing.Trace
	ctx, cancel := context.WithTimeout(routing.WithTrace(context.Background(), &trace), 10*time.Second)
	defer cancel()
	if _, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: "app/chat",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hi"}}}); err != nil {
		panic(err)
	}
	for _, a := range trace.Attempts {
		fmt.Println(a.Target, a.Status, a.Class, a.Wait)
	}
	fmt.Println(trace.Attempts[0].Err)
	// Output:
	// gemini-main/gemini-2.5-flash 429 fallback 0s
	// backup/gpt-4o-mini 200 ok 0s
	// status 429 (RESOURCE_EXHAUSTED): You exceeded your current quota. (retry after 46s)
}

// A request Gemini cannot take is refused before anything is sent, with
// an *InputError naming the field.
func ExampleInputError() {
	p, err := gem.New(context.Background(), &genai.ClientConfig{APIKey: "your-api-key"})
	if err != nil {
		panic(err)
	}
	req := providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model: "gemini-2.5-flash",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://example.com/cat.png"}},
		}}},
	}}
	_, err = p.Chat(context.Background(), req)
	var ie *gem.InputError
	fmt.Println(errors.As(err, &ie), ie.Field)

	req = providers.ChatRequest{
		Request: openai.ChatCompletionRequest{Model: "gemini-2.5-flash", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Hi"}}},
		Call:    providers.Call{Extra: map[string]any{"prompt_version_fqn": "acme:support:v3"}},
	}
	_, err = p.Chat(context.Background(), req)
	fmt.Println(err)
	// Output:
	// true messages[0].content[0].image_url
	// gemini: extra.prompt_version_fqn: is not a setting this adapter sends to Gemini (it takes cached_content, labels, media_resolution, response_modalities, safety_settings, thinking_config, top_k)
}
