package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// A hedge is a request like any other: it is sent only when its target's
// budget has room.
func TestHedgeRespectsRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Reply("slow").After(time.Second))
		f.Script("b", fake.Reply("fast").After(100*time.Millisecond))
		c := budgetClient(t, f, nil, &routing.Hedge{After: 200 * time.Millisecond},
			target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b"), RateLimit: target.RateLimit{RequestsPerMinute: 1}})
		ctx, tr := coreTraced(t.Context())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil || resp.Choices[0].Message.Content != "fast" {
			t.Fatalf("first call: %v, %v; want the hedge's answer", resp.Choices, err)
		}
		// b has spent its budget (until a minute after the first
		// call's hedge, at 200ms): the second call, from 300ms, skips
		// its hedge, and the primary serves, late.
		start := time.Now()
		ctx, tr = coreTraced(t.Context())
		resp, err = c.Chat(ctx, coreReq(coreModel))
		if err != nil || resp.Choices[0].Message.Content != "slow" {
			t.Fatalf("second call: %v, %v; want the primary's answer", resp.Choices, err)
		}
		if diff := cmp.Diff(skips(tr, start), []skip{{coreRef("b"), "rate_limit", 200 * time.Millisecond, 59900 * time.Millisecond}}); diff != "" {
			t.Errorf("skips (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(traceClasses(tr), []string{"acct/a ok"}); diff != "" {
			t.Errorf("attempts (-got +want):\n%s", diff)
		}
		if n := f.CallCount("b"); n != 1 {
			t.Errorf("b was sent %d requests, want 1", n)
		}
	})
}

// Each kind of call is estimated from what it sends: with a budget of
// exactly one estimate, the first call fits and the second waits for
// the whole of it.
func TestTokenEstimates(t *testing.T) {
	long := strings.Repeat("x", 400) // 100 tokens
	for _, tc := range []struct {
		name     string
		estimate int
		call     func(c *routing.Client, ctx context.Context) error
	}{
		{"chat text", 100 + 4 + 4 + 50, func(c *routing.Client, ctx context.Context) error {
			req := coreReq(coreModel)
			req.Messages = []openai.ChatCompletionMessage{{Role: "system", Content: long}, {Role: "user"}}
			req.MaxTokens = 50
			_, err := c.Chat(ctx, req)
			return err
		}},
		{"chat parts, tool calls, max_completion_tokens", 1 + 3 + 4 + 4 + 20, func(c *routing.Client, ctx context.Context) error {
			req := coreReq(coreModel)
			req.Messages = []openai.ChatCompletionMessage{
				{Role: "user", MultiContent: []openai.ChatMessagePart{{Type: "text", Text: "abcd"}, {Type: "image_url"}}},
				{Role: "assistant", ToolCalls: []openai.ToolCall{{Function: openai.FunctionCall{Name: "get", Arguments: `{"a":1}`}}}},
			}
			req.MaxTokens, req.MaxCompletionTokens = 500, 20
			_, err := c.Chat(ctx, req)
			return err
		}},
		{"completion", 100 + 10, func(c *routing.Client, ctx context.Context) error {
			_, err := c.Completion(ctx, openai.CompletionRequest{Model: coreModel, Prompt: long, MaxTokens: 10})
			return err
		}},
		{"completion, several prompts", 100 + 1, func(c *routing.Client, ctx context.Context) error {
			_, err := c.Completion(ctx, openai.CompletionRequest{Model: coreModel, Prompt: []string{long[:200], long[:200], "a"}})
			return err
		}},
		{"embedding", 100 + 1, func(c *routing.Client, ctx context.Context) error {
			_, err := c.Embed(ctx, openai.EmbeddingRequest{Model: coreModel, Input: []string{long, "abc"}})
			return err
		}},
		{"embedding token ids", 7, func(c *routing.Client, ctx context.Context) error {
			_, err := c.Embed(ctx, openai.EmbeddingRequest{Model: coreModel, Input: [][]int{{1, 2, 3}, {4, 5, 6, 7}}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The answers report no usage: the estimates stand.
				f := fake.New()
				f.Script(fake.AnyModel, fake.Reply("ok").WithUsage(0, 0).WithVector(1).Times(10))
				rc := corePriority(target.Target{Ref: coreRef("a"), RateLimit: target.RateLimit{TokensPerMinute: tc.estimate}})
				g := coreGroup(rc)
				g.Models[0].ModelTypes = []routing.ModelType{routing.Chat, routing.Completion, routing.Embedding}
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(g))
				if err := tc.call(c, t.Context()); err != nil {
					t.Fatalf("first call: %v", err)
				}
				err := tc.call(c, t.Context())
				var rle *routing.RateLimitError
				if !errors.As(err, &rle) {
					t.Fatalf("second call: %v; want a RateLimitError", err)
				}
				if got := rle.RetryAfter(); got != time.Minute {
					t.Errorf("RetryAfter() = %v; want a minute, the estimate of %d being the whole budget", got, tc.estimate)
				}
			})
		})
	}
}
