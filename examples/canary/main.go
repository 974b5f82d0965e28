// Command canary shows weight-based routing as a canary release: one
// virtual model, "release/chat", sends 90% of calls to the stable model
// and 10% to the canary. It sends 1000 calls with a fixed-seed random
// source (routing.WithRand), prints the first few calls in full (which
// target served, and every attempt from the call's routing.Trace), and
// then each target's share:
//
//	go run ./examples/canary
//	go run ./examples/canary -n 10000 -seed 7
//
// By default both targets are fake providers (package providers/fake), so
// it needs no network and no API key; the canary's first call fails with
// a 500 to show a retry in the trace. To send the calls to a real
// OpenAI-compatible endpoint instead, set
//
//	LLMROUTE_BASE_URL      e.g. https://api.openai.com/v1 or http://localhost:8000/v1
//	LLMROUTE_API_KEY       the endpoint's API key
//	LLMROUTE_STABLE_MODEL  default gpt-4o-mini
//	LLMROUTE_CANARY_MODEL  default gpt-4o
//
// and the program registers one account built with oai.New for both
// targets. Keep -n small then: each call is a real, billed request.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// options are what one run does.
type options struct {
	calls int    // calls to send
	show  int    // calls printed in full
	seed  uint64 // seed of the routing random source
	// account serves both targets; nil means fake providers.
	account        providers.Provider
	stable, canary string // the account's model names
}

func main() {
	o := options{stable: "gpt-4o-mini", canary: "gpt-4o"}
	flag.IntVar(&o.calls, "n", 1000, "calls to send")
	flag.IntVar(&o.show, "show", 5, "calls to print in full")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the routing random source")
	flag.Parse()
	if base := os.Getenv("LLMROUTE_BASE_URL"); base != "" {
		cfg := goopenai.DefaultConfig(os.Getenv("LLMROUTE_API_KEY"))
		cfg.BaseURL = base
		o.account = oai.New(cfg)
		o.stable = cmp.Or(os.Getenv("LLMROUTE_STABLE_MODEL"), o.stable)
		o.canary = cmp.Or(os.Getenv("LLMROUTE_CANARY_MODEL"), o.canary)
	}
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "canary:", err)
		os.Exit(1)
	}
}

// run sends o.calls calls through the canary virtual model and reports to
// w.
func run(w io.Writer, o options) error {
	account := o.account
	if account == nil {
		f := fake.New()
		f.Script(o.stable, fake.Reply("stable answer"))
		// The canary's first call fails once: its trace shows a retry.
		f.Script(o.canary, fake.Fail(500).Times(1), fake.Reply("canary answer"))
		account = f
	}
	stable, canary := "acct/"+o.stable, "acct/"+o.canary
	c, err := routing.New(
		routing.WithProvider("acct", account),
		routing.WithRand(routing.SeededRand(o.seed)),
		routing.WithGroup(routing.Group{
			Name: "release",
			Models: []routing.VirtualModel{{
				Name: "chat",
				Routing: routing.RoutingConfig{
					Type: routing.WeightBased,
					Targets: []target.Target{
						{Ref: stable, Weight: 90},
						{Ref: canary, Weight: 10},
					},
				},
			}},
		}),
	)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "virtual model release/chat: weight-based, %s 90, %s 10\n\n", stable, canary)
	served := map[string]int{}
	failed := 0
	for i := range o.calls {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "release/chat",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Say hello."}},
		})
		if err != nil {
			var rerr *routing.Error
			if !errors.As(err, &rerr) {
				return err // not a provider failure: a setup problem
			}
			failed++
		} else {
			served[tr.Resolved]++
		}
		// Print the first calls, and the canary's first call wherever
		// it falls: each call's Trace, with the errors of any attempt
		// that failed.
		if i < o.show || (tr.Resolved == canary && served[canary] == 1 && o.show > 0) {
			fmt.Fprintf(w, "call %d: %+v\n", i+1, &tr)
		}
	}

	total := o.calls
	fmt.Fprintf(w, "\nafter %d calls:\n", total)
	for _, ref := range []string{stable, canary} {
		fmt.Fprintf(w, "  %-24s %6d  %5.1f%%\n", ref, served[ref], percent(served[ref], total))
	}
	if failed > 0 {
		fmt.Fprintf(w, "  %-24s %6d  %5.1f%%\n", "failed", failed, percent(failed, total))
	}
	fmt.Fprintf(w, "canary share: %.1f%% (weight 10%%)\n", percent(served[canary], total))
	return nil
}

func percent(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
