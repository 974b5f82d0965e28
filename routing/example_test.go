package routing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// A priority chain: the primary answers 404 (its deployment is gone), so
// the call falls back to the backup. The Trace shows every attempt.
func Example() {
	f := fake.New()
	f.Script("gpt-4o", fake.Fail(404))

	c, err := routing.New(
		routing.WithProvider("openai-main", f),
		routing.WithGroup(routing.Group{
			Name: "booking-app",
			Models: []routing.VirtualModel{{
				Name: "gpt-prod",
				Routing: routing.RoutingConfig{
					Type: routing.PriorityBased,
					Targets: []target.Target{
						{Ref: "openai-main/gpt-4o", Priority: 0},
						{Ref: "openai-main/gpt-4o-mini", Priority: 1},
					},
				},
			}},
		}),
	)
	if err != nil {
		panic(err)
	}

	var tr routing.Trace
	ctx := routing.WithTrace(context.Background(), &tr)
	resp, err := c.Chat(ctx, openai.ChatCompletionRequest{
		Model:    "booking-app/gpt-prod",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hi"}},
	})
	if err != nil {
		panic(err)
	}
	for _, a := range tr.Attempts {
		fmt.Println(a.Target, a.Try, a.Status, a.Class)
	}
	fmt.Println("served by", tr.Resolved, "model", resp.Model)
	// Output:
	// openai-main/gpt-4o 1 404 fallback
	// openai-main/gpt-4o-mini 1 200 ok
	// served by openai-main/gpt-4o-mini model gpt-4o-mini
}

// A failed call's error: errors.As finds the final upstream status, and
// a 400 is returned at once, never retried or rerouted.
func Example_errors() {
	f := fake.New()
	f.Script("gpt-4o", fake.Fail(400).WithCode("context_length_exceeded"))
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/gpt-4o"}, {Ref: "acct/gpt-4o-mini", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		panic(err)
	}
	_, err = c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "grp/chat"})
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		fmt.Println("status", sc.StatusCode())
	}
	fmt.Println(err)
	fmt.Println("calls:", f.CallCount("gpt-4o"), f.CallCount("gpt-4o-mini"))
	_, err = c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "grp/chta"})
	fmt.Println(errors.Is(err, routing.ErrUnknownModel), err)
	// Output:
	// status 400
	// routing: "grp/chat": 1 attempt failed; last: acct/gpt-4o try 1: status 400 (context_length_exceeded): Bad Request
	// calls: 1 0
	// true routing: unknown model "grp/chta" (did you mean "grp/chat"?)
}

// Weight-based routing: each call draws its first target by weight. A
// fixed random source (here, always 0.95) makes the draw predictable: it
// falls in the canary's 10%.
func ExampleWithRand() {
	c, err := routing.New(
		routing.WithProvider("acct", fake.New()),
		routing.WithRand(func() float64 { return 0.95 }),
		routing.WithGroup(routing.Group{Name: "release", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.WeightBased, Targets: []target.Target{
				{Ref: "acct/stable", Weight: 90},
				{Ref: "acct/canary", Weight: 10},
			}},
		}}}),
	)
	if err != nil {
		panic(err)
	}
	resp, err := c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "release/chat"})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Model)
	// Output: canary
}

// Metadata routing: the deployment's region is set once for the Client
// and a request's own metadata wins over it. Targets with a matching
// metadata_match take the call; otherwise the catch-all does.
func ExampleWithDefaultMetadata() {
	c, err := routing.New(
		routing.WithProvider("acct", fake.New()),
		routing.WithDefaultMetadata(metadata.MD{"tfy_gateway_region": "US"}),
		routing.WithGroup(routing.Group{Name: "geo", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/us-deployment", MetadataMatch: metadata.MD{"tfy_gateway_region": "US"}},
				{Ref: "acct/eu-deployment", MetadataMatch: metadata.MD{"tfy_gateway_region": "EU"}},
				{Ref: "acct/openai", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		panic(err)
	}
	for _, md := range []metadata.MD{nil, {"tfy_gateway_region": "EU"}, {"tfy_gateway_region": "APAC"}} {
		ctx := metadata.NewContext(context.Background(), md)
		resp, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: "geo/chat"})
		if err != nil {
			panic(err)
		}
		fmt.Println(md["tfy_gateway_region"], "→", resp.Model)
	}
	// Output:
	//  → us-deployment
	// EU → eu-deployment
	// APAC → openai
}

// Access control: a group with collaborators admits only them; anyone
// else gets ErrForbidden, whether or not the model exists, and a context
// with no subject is told so.
func ExampleWithSubject() {
	c, err := routing.New(
		routing.WithProvider("acct", fake.New()),
		routing.WithGroup(routing.Group{
			Name:          "finance",
			Collaborators: []routing.Collaborator{{Subject: "user:alice@example.com", Role: routing.RoleUser}},
			Models: []routing.VirtualModel{{
				Name:    "chat",
				Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/gpt-4o"}}},
			}},
		}),
	)
	if err != nil {
		panic(err)
	}
	for _, call := range []struct{ subject, model string }{
		{"user:alice@example.com", "finance/chat"},
		{"user:mallory@example.com", "finance/chat"},
		{"user:mallory@example.com", "finance/payroll"},
		{"", "finance/chat"},
	} {
		ctx := context.Background()
		if call.subject != "" {
			ctx = routing.WithSubject(ctx, call.subject)
		}
		_, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: call.model})
		fmt.Printf("%q %s %v\n", call.subject, call.model, err)
	}
	// Output:
	// "user:alice@example.com" finance/chat <nil>
	// "user:mallory@example.com" finance/chat routing: forbidden: "finance/chat"
	// "user:mallory@example.com" finance/payroll routing: forbidden: "finance/payroll"
	// "" finance/chat routing: forbidden: "finance/chat": no subject in the context: set one with routing.WithSubject
}

// A Trace prints what a call did: here a primary that failed twice and
// the fallback that served.
func ExampleTrace_String() {
	f := fake.New()
	f.Script("gpt-4o", fake.Fail(503).Times(2))
	f.Script("gpt-4o-mini", fake.Reply("hi"))
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithGroup(routing.Group{Name: "support", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/gpt-4o", Retry: &target.Retry{Attempts: 1, Delay: time.Millisecond}},
				{Ref: "acct/gpt-4o-mini", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	var tr routing.Trace
	if _, err := c.Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{Model: "support/chat"}); err != nil {
		fmt.Println(err)
		return
	}
	// Durations, waits and times per token vary from run to run: zero
	// them for the printout.
	for i := range tr.Attempts {
		tr.Attempts[i].Duration, tr.Attempts[i].Wait, tr.Attempts[i].TPOT = 0, 0, 0
	}
	fmt.Println(tr.String())
	// Output:
	// support/chat → acct/gpt-4o-mini, 3 attempts
	//   acct/gpt-4o       try 1  503  retry     picked    0s
	//   acct/gpt-4o       try 2  503  fallback  picked    0s
	//   acct/gpt-4o-mini  try 1  200  ok        fallback  0s
}
