package openai_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

// The benchmarks compare one chat call through the adapter with the same
// call made directly with go-openai, against a real httptest server and
// against an in-memory HTTP client (which counts only client-side
// allocations, so the difference is exactly the adapter's).

// memDoer answers every request with chatOK, in memory.
var memDoer = doerFunc(func(r *http.Request) (*http.Response, error) {
	return respond(r, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, chatOK), nil
})

type chatFunc func(context.Context) error

func directChat(cfg goopenai.ClientConfig) chatFunc {
	c := goopenai.NewClientWithConfig(cfg)
	req := chatRequest()
	return func(ctx context.Context) error {
		_, err := c.CreateChatCompletion(ctx, req)
		return err
	}
}

func adapterChat(cfg goopenai.ClientConfig) chatFunc {
	p := oai.New(cfg)
	req := providers.ChatRequest{Request: chatRequest()}
	return func(ctx context.Context) error {
		_, err := p.Chat(ctx, req)
		return err
	}
}

func benchChat(b *testing.B, chat chatFunc) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := chat(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// benchServer answers every request with chatOK.
func benchServer(b *testing.B) goopenai.ClientConfig {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatOK)
	}))
	b.Cleanup(srv.Close)
	cfg := goopenai.DefaultConfig(testKey)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = srv.Client()
	return cfg
}

func memConfig() goopenai.ClientConfig {
	cfg := goopenai.DefaultConfig(testKey)
	cfg.HTTPClient = memDoer
	return cfg
}

func BenchmarkChat(b *testing.B) {
	b.Run("httptest/direct", func(b *testing.B) { benchChat(b, directChat(benchServer(b))) })
	b.Run("httptest/adapter", func(b *testing.B) { benchChat(b, adapterChat(benchServer(b))) })
	b.Run("memory/direct", func(b *testing.B) { benchChat(b, directChat(memConfig())) })
	b.Run("memory/adapter", func(b *testing.B) { benchChat(b, adapterChat(memConfig())) })
}

// TestChatAllocations pins the adapter's cost: one allocation per call
// (its call state) on top of go-openai's own.
func TestChatAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	ctx := context.Background()
	direct, adapter := directChat(memConfig()), adapterChat(memConfig())
	count := func(chat chatFunc) float64 {
		return testing.AllocsPerRun(200, func() {
			if err := chat(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	if got := count(adapter) - count(direct); got != 1 {
		t.Errorf("adapter allocates %v more per call than go-openai; want 1", got)
	}
}
