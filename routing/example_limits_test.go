package routing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/target"
)

// stillClock is a Clock that never moves, so the example's output does
// not depend on how fast it runs.
type stillClock struct{ t time.Time }

func (c stillClock) Now() time.Time                                   { return c.t }
func (c stillClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// Rate limits: the primary may be sent 2 requests a minute and the
// backup 1. A target at its limit is skipped before anything is sent to
// it; the Trace lists it under Skipped, with when it frees up. When every
// target is at its limit the call fails at once with ErrRateLimited,
// whose RetryAfter says when the first one frees.
func Example_rateLimit() {
	c, err := routing.New(
		routing.WithClock(stillClock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}),
		routing.WithProvider("acct", fake.New()),
		routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/primary", RateLimit: target.RateLimit{RequestsPerMinute: 2}},
				{Ref: "acct/backup", Priority: 1, RateLimit: target.RateLimit{RequestsPerMinute: 1}},
			}},
		}}}),
	)
	if err != nil {
		panic(err)
	}
	for range 4 {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		_, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: "grp/chat"})
		fmt.Println(&tr)
		var rle *routing.RateLimitError
		if errors.As(err, &rle) {
			fmt.Println("rate limited, retry after", rle.RetryAfter(), "status", rle.StatusCode())
		}
	}
	// Output:
	// grp/chat → acct/primary, 1 attempt
	//   acct/primary  try 1  200  ok  picked  0s
	// grp/chat → acct/primary, 1 attempt
	//   acct/primary  try 1  200  ok  picked  0s
	// grp/chat → acct/backup, 1 attempt
	//   acct/backup  try 1  200  ok  picked  0s
	//   skipped acct/primary: rate_limit, free in 30s
	// grp/chat: not served, 0 attempts
	//   skipped acct/primary: rate_limit, free in 30s
	//   skipped acct/backup: rate_limit, free in 1m0s
	// rate limited, retry after 30s status 429
}

// Shared health: two replicas of a service, each its own Client, share
// one HealthStore (stores/redis in production; a stores.Memory here).
// One failure on each is two for the fleet: the primary is demoted for
// both, reported once, and neither sends it another call until a probe
// after its cooldown.
func ExampleWithSharedHealth() {
	upstream := fake.New() // both replicas call the same provider
	upstream.Script("primary", fake.Fail(503))
	shared := stores.NewMemory()
	group := routing.Group{Name: "grp", Models: []routing.VirtualModel{{
		Name: "chat",
		Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
			{Ref: "acct/primary", Retry: &target.Retry{}}, // no retries
			{Ref: "acct/backup", Priority: 1},
		}},
	}}}
	var replicas []*routing.Client
	for i := range 2 {
		c, err := routing.New(
			routing.WithProvider("acct", upstream),
			routing.WithGroup(group),
			routing.WithSharedHealth(shared),
			routing.WithObserver(routing.ObserverFunc(func(_ context.Context, e routing.Event) {
				if e.Kind == routing.EventHealth {
					fmt.Printf("replica %d: %s %s\n", i, e.Target, e.Health)
				}
			})),
		)
		if err != nil {
			panic(err)
		}
		replicas = append(replicas, c)
	}
	for _, i := range []int{0, 1, 0, 1} {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		if _, err := replicas[i].Chat(ctx, openai.ChatCompletionRequest{Model: "grp/chat"}); err != nil {
			panic(err)
		}
		fmt.Printf("replica %d tried:", i)
		for _, a := range tr.Attempts {
			fmt.Printf(" %s %d", a.Target, a.Status)
		}
		fmt.Println()
	}
	fmt.Println("requests to the primary:", upstream.CallCount("primary"))
	// Output:
	// replica 0 tried: acct/primary 503 acct/backup 200
	// replica 1: acct/primary demoted
	// replica 1 tried: acct/primary 503 acct/backup 200
	// replica 0 tried: acct/backup 200
	// replica 1 tried: acct/backup 200
	// requests to the primary: 2
}
