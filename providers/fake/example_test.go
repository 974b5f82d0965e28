package fake_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
)

// A model that is rate limited twice, with Retry-After, then answers.
func Example() {
	f := fake.New()
	f.Script("gpt-4o",
		fake.Fail(429).WithRetryAfter(2*time.Second).WithCode("rate_limit_exceeded").Times(2),
		fake.Reply("hello").WithUsage(10, 5),
	)

	req := providers.ChatRequest{Request: openai.ChatCompletionRequest{Model: "gpt-4o"}}
	for range 3 {
		resp, err := f.Chat(context.Background(), req)
		if pe, ok := providers.AsError(err); ok {
			fmt.Println("error:", pe.Status, pe.Code, pe.RetryAfter)
			continue
		}
		fmt.Println(resp.ID, resp.Model, resp.Choices[0].Message.Content, resp.Usage.TotalTokens)
	}
	fmt.Println("calls:", f.CallCount("gpt-4o"))
	// Output:
	// error: 429 rate_limit_exceeded 2s
	// error: 429 rate_limit_exceeded 2s
	// fake-3 gpt-4o hello 15
	// calls: 3
}

// A stream cut after its first content chunk: Recv reports the truncation
// as an error, never as io.EOF.
func ExampleStep_CutAfter() {
	f := fake.New()
	f.Script("gpt-4o", fake.Stream("Hel", "lo", "!").CutAfter(1))

	req := providers.ChatRequest{Request: openai.ChatCompletionRequest{Model: "gpt-4o", Stream: true}}
	st, err := f.ChatStream(context.Background(), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			fmt.Println("complete")
			return
		}
		if err != nil {
			pe, _ := providers.AsError(err)
			fmt.Println("error:", pe.Status, pe.Code)
			return
		}
		d := chunk.Choices[0].Delta
		fmt.Printf("role=%q content=%q\n", d.Role, d.Content)
	}
	// Output:
	// role="assistant" content=""
	// role="" content="Hel"
	// error: 502 stream_truncated
}

// An overloaded error sent in the middle of a stream: the content before
// it arrives, then Recv fails, never with io.EOF.
func ExampleStep_ErrorAfter() {
	f := fake.New()
	f.Script("gpt-4o", fake.Stream("Hel", "lo").ErrorAfter(1, fake.Fail(503).WithCode("server_is_overloaded")))

	st, err := f.ChatStream(context.Background(), providers.ChatRequest{
		Request: openai.ChatCompletionRequest{Model: "gpt-4o", Stream: true},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer st.Close()
	for {
		chunk, err := st.Recv()
		if err != nil {
			fmt.Println("Recv error:", err)
			return
		}
		fmt.Printf("content=%q\n", chunk.Choices[0].Delta.Content)
	}
	// Output:
	// content=""
	// content="Hel"
	// Recv error: status 503 (server_is_overloaded): Service Unavailable
}

// An overloaded error sent as the first event of a stream: ChatStream
// succeeds, the first Recv fails.
func ExampleStep_InBand() {
	f := fake.New()
	f.Script("claude", fake.Fail(503).WithCode("overloaded").InBand())

	st, err := f.ChatStream(context.Background(), providers.ChatRequest{
		Request: openai.ChatCompletionRequest{Model: "claude", Stream: true},
	})
	fmt.Println("ChatStream error:", err)
	defer st.Close()
	_, err = st.Recv()
	fmt.Println("Recv error:", err)
	// Output:
	// ChatStream error: <nil>
	// Recv error: status 503 (overloaded): Service Unavailable
}

// A provider that never answers: the call ends with the ctx, as a timeout
// (408) when the deadline passes.
func ExampleHang() {
	f := fake.New()
	f.Script("silent", fake.Hang())

	ctx, cancel := context.WithDeadline(context.Background(), time.Now()) // already passed
	defer cancel()
	_, err := f.Chat(ctx, providers.ChatRequest{Request: openai.ChatCompletionRequest{Model: "silent"}})
	fmt.Println(err)
	fmt.Println("calls:", f.CallCount("silent"))
	// Output:
	// status 408: context deadline exceeded
	// calls: 1
}

// Checking what reached the provider: headers and extra body fields.
func ExampleProvider_Calls() {
	f := fake.New()
	f.Chat(context.Background(), providers.ChatRequest{
		Request: openai.ChatCompletionRequest{Model: "gpt-4o"},
		Call: providers.Call{
			Header:       http.Header{"X-Api-Version": {"2"}},
			RemoveHeader: []string{"X-Debug"},
			Extra:        map[string]any{"prompt_version_fqn": "chat:3"},
		},
	})

	for _, c := range f.Calls() {
		fmt.Println(c.Op, c.Model, c.Header.Get("X-Api-Version"), c.RemoveHeader, c.Extra["prompt_version_fqn"])
	}
	// Output:
	// chat gpt-4o 2 [X-Debug] chat:3
}

// A provider account that cannot serve embeddings or streaming.
func ExampleProvider_Without() {
	f := fake.New()
	p := f.Without(fake.Embeddings, fake.Streaming)

	_, streams := p.(providers.Streamer)
	fmt.Println("chat:", providers.Supports(p, providers.OpChat))
	fmt.Println("completion:", providers.Supports(p, providers.OpCompletion))
	fmt.Println("embedding:", providers.Supports(p, providers.OpEmbedding))
	fmt.Println("streaming:", streams)
	// Output:
	// chat: true
	// completion: true
	// embedding: false
	// streaming: false
}

// A provider whose every model is down unless a test scripts it otherwise.
func ExampleWithDefault() {
	f := fake.New(fake.WithDefault(fake.Transport()))
	f.Script("healthy", fake.Reply("fine"))

	for _, model := range []string{"healthy", "other"} {
		resp, err := f.Chat(context.Background(), providers.ChatRequest{
			Request: openai.ChatCompletionRequest{Model: model},
		})
		if err != nil {
			fmt.Println(model, "error:", err)
			continue
		}
		fmt.Println(model, resp.Choices[0].Message.Content)
	}
	// Output:
	// healthy fine
	// other error: status 502: fake: connection reset by peer
}

// A deterministic embedding for each input unless the step sets one.
func ExampleVector() {
	f := fake.New()
	f.Script("emb", fake.Vector(0.6, 0.8))

	resp, _ := f.Embed(context.Background(), providers.EmbeddingRequest{
		Request: openai.EmbeddingRequest{Model: "emb", Input: []string{"a", "b"}},
	})
	for _, e := range resp.Data {
		fmt.Println(e.Index, e.Embedding)
	}
	// Output:
	// 0 [0.6 0.8]
	// 1 [0.6 0.8]
}
