package routing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/benchcpu"
	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// BenchmarkChatOverhead measures what routing adds to a chat call: the
// same request to the same loopback OpenAI-compatible server, over the
// same tuned transport, sent directly with go-openai ("direct"), through
// the OpenAI adapter alone ("adapter"), and through a Client whose
// virtual model has 1 or 8 weighted targets ("routed/targets=N"). Compare
// ns/op and allocs/op across the sub-benchmarks:
//
//	go test -run '^$' -bench BenchmarkChatOverhead -benchmem -count 5 ./routing/
func BenchmarkChatOverhead(b *testing.B) {
	const body = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	b.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	b.Cleanup(transport.CloseIdleConnections)
	cfg := goopenai.DefaultConfig("sk-bench-0123456789abcdefghij")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: transport}

	ctx := context.Background()
	req := goopenai.ChatCompletionRequest{
		Model:    "gpt-4o-mini",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hello there"}},
	}

	b.Run("direct", func(b *testing.B) {
		client := goopenai.NewClientWithConfig(cfg)
		b.ReportAllocs()
		defer benchcpu.Start(b)()
		for b.Loop() {
			if _, err := client.CreateChatCompletion(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The adapter alone, without routing: splits the routed overhead
	// between package providers/openai and package routing.
	b.Run("adapter", func(b *testing.B) {
		p := oai.New(cfg)
		preq := providers.ChatRequest{Request: req}
		b.ReportAllocs()
		defer benchcpu.Start(b)()
		for b.Loop() {
			if _, err := p.Chat(ctx, preq); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("routed/targets=%d", n), func(b *testing.B) {
			ts := make([]target.Target, n)
			for i := range ts {
				// Every target is the same real model, so each call
				// costs the server the same whichever is picked.
				ts[i] = target.Target{Ref: fmt.Sprintf("acct%d/gpt-4o-mini", i), Weight: 1}
			}
			opts := []routing.Option{routing.WithGroup(coreGroup(coreWeighted(ts...)))}
			p := oai.New(cfg)
			for i := range n {
				opts = append(opts, routing.WithProvider(fmt.Sprintf("acct%d", i), p))
			}
			c := coreClient(b, opts...)
			r := req
			r.Model = coreModel
			b.ReportAllocs()
			defer benchcpu.Start(b)()
			for b.Loop() {
				if _, err := c.Chat(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChatFake measures the routing layer alone, over the fake
// provider: resolve, access check, eligibility, plan, one attempt,
// trace-free.
func BenchmarkChatFake(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			benchFake(b, n, nil)
		})
	}
}

// BenchmarkChatFakeSettings measures what the retry budget and an armed
// hedge add to the routing layer's success path, one target each: the
// budget off ("no-budget"), on as by default ("budget"), a hedge armed
// on every call that never fires ("hedge-armed"), and override_params
// set on the request ("override-params").
//
//	go test -run '^$' -bench BenchmarkChatFakeSettings -benchmem -count 5 ./routing/
func BenchmarkChatFakeSettings(b *testing.B) {
	for _, tc := range []struct {
		name string
		set  func(*routing.RoutingConfig)
	}{
		{"no-budget", func(rc *routing.RoutingConfig) { rc.RetryBudget = &routing.RetryBudget{Disabled: true} }},
		{"budget", func(*routing.RoutingConfig) {}},
		{"hedge-armed", func(rc *routing.RoutingConfig) { rc.Hedge = &routing.Hedge{After: time.Hour} }},
		{"override-params", func(rc *routing.RoutingConfig) {
			for i := range rc.Targets {
				rc.Targets[i].Params = map[string]any{"temperature": 0.2, "top_p": 0.9, "max_tokens": 256,
					"seed": 7, "stop": []any{"END"}, "user": "svc", "logit_bias": map[string]any{"50256": -100}}
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchFake(b, 2, tc.set) })
	}
}

// benchFake runs chat calls through a virtual model of n weighted
// targets over a provider that answers at once.
func benchFake(b *testing.B, n int, set func(*routing.RoutingConfig)) {
	ts := make([]target.Target, n)
	for i := range ts {
		ts[i] = target.Target{Ref: coreRef(fmt.Sprintf("m%d", i)), Weight: 1}
	}
	rc := coreWeighted(ts...)
	if set != nil {
		set(&rc)
	}
	c := coreClient(b, routing.WithProvider(coreAcct, benchProvider{}), routing.WithGroup(coreGroup(rc)))
	ctx := context.Background()
	req := coreReq(coreModel)
	b.ReportAllocs()
	defer benchcpu.Start(b)()
	for b.Loop() {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchProvider answers every chat at once and keeps nothing, so the
// benchmark measures the routing layer, not a fake's bookkeeping.
type benchProvider struct{}

func (benchProvider) Chat(_ context.Context, req providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	return goopenai.ChatCompletionResponse{Model: req.Request.Model}, nil
}
