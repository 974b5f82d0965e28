package openai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

func ExampleNew() {
	// A stand-in for https://api.openai.com/v1.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`)
	}))
	defer srv.Close()

	cfg := goopenai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL + "/v1"
	p := oai.New(cfg)

	resp, err := p.Chat(context.Background(), providers.ChatRequest{
		Request: goopenai.ChatCompletionRequest{
			Model:    "gpt-4o",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hi"}},
		},
		// What the router adds to this one attempt.
		Call: providers.Call{
			Header: http.Header{"X-Session-Id": {"abc"}},
			Extra:  map[string]any{"prompt_version_fqn": "greetings/hello:3"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Model, resp.Choices[0].Message.Content, resp.Usage.TotalTokens)
	// Output: gpt-4o-2024-08-06 Hello! 7
}

func ExampleProvider_Chat_errors() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"message":"Rate limit reached for key sk-example-0123456789abcdefghij",`+
			`"type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	}))
	defer srv.Close()

	cfg := goopenai.DefaultConfig("sk-example-0123456789abcdefghij")
	cfg.BaseURL = srv.URL + "/v1"
	p := oai.New(cfg)

	_, err := p.Chat(context.Background(), providers.ChatRequest{
		Request: goopenai.ChatCompletionRequest{Model: "gpt-4o"},
	})
	var pe *providers.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Status, pe.Code, pe.RetryAfter)
	}
	fmt.Println(err)
	// Output:
	// 429 rate_limit_exceeded 2s
	// status 429 (rate_limit_exceeded): Rate limit reached for key [REDACTED] (retry after 2s)
}

func ExampleProvider_ChatStream() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
			`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
			`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`[DONE]`,
		} {
			_, _ = io.WriteString(w, "data: "+ev+"\n\n")
		}
	}))
	defer srv.Close()

	cfg := goopenai.DefaultConfig("sk-example")
	cfg.BaseURL = srv.URL + "/v1"
	p := oai.New(cfg)

	st, err := p.ChatStream(context.Background(), providers.ChatRequest{
		Request: goopenai.ChatCompletionRequest{Model: "gpt-4o"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) {
			fmt.Println("[complete]")
			return
		}
		if err != nil {
			// Truncated or failed: never mistaken for the end.
			fmt.Println("interrupted:", err)
			return
		}
		for _, c := range chunk.Choices {
			fmt.Print(c.Delta.Content)
		}
	}
	// Output: Hello[complete]
}

func ExampleWithHTTPClient() {
	// Any goopenai.HTTPDoer: an instrumented client, a proxy-aware
	// transport. Give it no retries and no timeout of its own.
	client := &http.Client{Transport: http.DefaultTransport}
	p := oai.New(goopenai.DefaultConfig("sk-example"), oai.WithHTTPClient(client))
	fmt.Println(p)
	// Output: openai.Provider(OPEN_AI https://api.openai.com/v1)
}
