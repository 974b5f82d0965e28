package routing_test

import (
	"context"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// BenchmarkChatLimits is BenchmarkChatFake's call (one target, a
// provider that answers at once) with a rate limit the calls never
// reach, kept in memory: what a limit adds to the success path. With
// "corrected", the answer reports usage that differs from the estimate,
// so the tokens are charged twice: the estimate, then the difference.
//
//	go test -run '^$' -bench BenchmarkChatLimits -benchmem -count 5 ./routing/
func BenchmarkChatLimits(b *testing.B) {
	for _, tc := range []struct {
		name  string
		limit target.RateLimit
		prov  providers.Provider
	}{
		{"none", target.RateLimit{}, benchProvider{}},
		{"requests", target.RateLimit{RequestsPerMinute: 1 << 40}, benchProvider{}},
		{"requests+tokens", target.RateLimit{RequestsPerMinute: 1 << 40, TokensPerMinute: 1 << 40}, benchProvider{}},
		{"requests+tokens/corrected", target.RateLimit{RequestsPerMinute: 1 << 40, TokensPerMinute: 1 << 40}, usageProvider{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := coreClient(b, routing.WithProvider(coreAcct, tc.prov),
				routing.WithGroup(coreGroup(coreWeighted(target.Target{Ref: coreRef("m0"), Weight: 1, RateLimit: tc.limit}))))
			ctx := context.Background()
			req := coreReq(coreModel)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// usageProvider answers at once with usage, as providers do.
type usageProvider struct{}

func (usageProvider) Chat(_ context.Context, req providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	return goopenai.ChatCompletionResponse{Model: req.Request.Model, Usage: goopenai.Usage{PromptTokens: 8, CompletionTokens: 12, TotalTokens: 20}}, nil
}
