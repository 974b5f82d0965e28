package routing_test

import (
	"context"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
)

type nopChat struct{}

func (nopChat) Chat(_ context.Context, r providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	return goopenai.ChatCompletionResponse{Model: r.Request.Model}, nil
}

// BenchmarkSticky is the cost a sticky session adds to a call: the session
// key, the pin lookup (and TTL refresh) in the in-memory store, against the
// same weight-based model without sticky routing, on a provider that
// answers at once.
func BenchmarkSticky(b *testing.B) {
	ctx := sessionCtx(context.Background(), "conversation-42", "alice")
	req := goopenai.ChatCompletionRequest{Model: "grp/chat"}
	for _, sticky := range []bool{false, true} {
		name := "plain"
		g := stickyGroup()
		g.Models[0].Routing.Targets[0].Ref = "nop/a"
		g.Models[0].Routing.Targets[1].Ref = "nop/b"
		if sticky {
			name = "sticky"
		} else {
			g.Models[0].Routing.Sticky = nil
		}
		b.Run(name, func(b *testing.B) {
			c, err := routing.New(routing.WithProvider("nop", nopChat{}), routing.WithGroup(g))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
