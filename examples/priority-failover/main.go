// Command priority-failover shows priority-based routing with retries and
// fallback: the virtual model "support/chat" tries its primary first and
// falls over to a backup when the primary keeps failing. It prints each
// call's Trace, every attempt with its target, try, status, what the
// router decided, why the target was tried, the wait before it and its
// error, and which target served:
//
//	go run ./examples/priority-failover
//
// With the default fake providers (package providers/fake), the primary
// is first rate limited (429 with Retry-After: 1s, which the router
// honours), then overloaded (503) on both retries, so the call falls over
// to the backup. No network and no API key are needed. To run it against
// a real OpenAI-compatible endpoint instead, set
//
//	LLMROUTE_BASE_URL       e.g. https://api.openai.com/v1 or http://localhost:8000/v1
//	LLMROUTE_API_KEY        the endpoint's API key
//	LLMROUTE_PRIMARY_MODEL  default gpt-4o
//	LLMROUTE_BACKUP_MODEL   default gpt-4o-mini
//
// and both targets are served by one account built with oai.New; a
// primary model name that does not exist (a 404) shows the fallback.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// options are what one run does.
type options struct {
	calls int // calls to send
	// account serves both targets; nil means fake providers.
	account         providers.Provider
	primary, backup string // the account's model names
}

func main() {
	o := options{calls: 1, primary: "gpt-4o", backup: "gpt-4o-mini"}
	flag.IntVar(&o.calls, "n", o.calls, "calls to send")
	flag.Parse()
	if base := os.Getenv("LLMROUTE_BASE_URL"); base != "" {
		cfg := goopenai.DefaultConfig(os.Getenv("LLMROUTE_API_KEY"))
		cfg.BaseURL = base
		o.account = oai.New(cfg)
		o.primary = cmp.Or(os.Getenv("LLMROUTE_PRIMARY_MODEL"), o.primary)
		o.backup = cmp.Or(os.Getenv("LLMROUTE_BACKUP_MODEL"), o.backup)
	}
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "priority-failover:", err)
		os.Exit(1)
	}
}

// run sends o.calls calls through the failover virtual model and prints
// every attempt to w.
func run(w io.Writer, o options) error {
	account := o.account
	if account == nil {
		f := fake.New()
		f.Script(o.primary,
			fake.Fail(429).WithCode("rate_limit_exceeded").WithRetryAfter(time.Second).Times(1),
			fake.Fail(503).WithCode("overloaded"),
		)
		f.Script(o.backup, fake.Reply("backup answer"))
		account = f
	}
	primary, backup := "acct/"+o.primary, "acct/"+o.backup
	c, err := routing.New(
		routing.WithProvider("acct", account),
		routing.WithRand(routing.SeededRand(1)),
		routing.WithGroup(routing.Group{
			Name: "support",
			Models: []routing.VirtualModel{{
				Name: "chat",
				Routing: routing.RoutingConfig{
					Type: routing.PriorityBased,
					Targets: []target.Target{
						// Defaults: 2 retries on 429/500/502/503 from
						// 100 ms, doubling, ±25% jitter; fall back on
						// 401/403/404/429/500/502/503.
						{Ref: primary, Priority: 0},
						{Ref: backup, Priority: 1},
					},
					RequestTimeout: 30 * time.Second,
				},
			}},
		}),
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "virtual model support/chat: priority %s, then %s\n", primary, backup)
	for n := 1; n <= o.calls; n++ {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		start := time.Now()
		resp, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "support/chat",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Where is my order?"}},
		})
		elapsed := time.Since(start)
		// %+v prints every attempt with its error: the 429's Retry-After
		// and the wait it bought show side by side.
		fmt.Fprintf(w, "\ncall %d: %+v\n", n, &tr)
		if err != nil {
			fmt.Fprintf(w, "failed after %v: %v\n", elapsed.Round(time.Millisecond), err)
			continue
		}
		fmt.Fprintf(w, "served by: %s in %v: %q\n", tr.Resolved, elapsed.Round(time.Millisecond), resp.Choices[0].Message.Content)
	}
	return nil
}
