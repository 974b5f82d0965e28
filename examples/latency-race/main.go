// Command latency-race shows latency-based routing. The virtual model
// "autocomplete/fast" (manifest.yaml) has three deployments of the same
// model; each call goes to the fastest one, measured as time per output
// token over the recent calls. A deployment with fewer than 3 samples
// counts as fast, so the first calls explore every deployment; after that
// only those within 1.2× of the fastest are picked. Retries are limited
// (retry_config attempts: 1, or none) so that a slow or failing
// deployment does not eat the latency budget: here the fast deployment
// answers one call with a 503 and the router retries it once.
//
//	go run ./examples/latency-race
//
// The deployments are fake providers (package providers/fake) answering
// after 50 ms (azure-us), 5 ms (azure-eu) and 20 ms (openai-main) of real
// time, so the run takes well under a second and needs no network or API
// key. It prints every attempt of 60 calls (target, try, status, wait
// before it, what the router decided and why the target was tried), then
// how the calls shifted to the fastest deployment.
//
// For real endpoints, register real accounts under the manifest's names
// instead of the fakes:
//
//	us := goopenai.DefaultAzureConfig(os.Getenv("AZURE_US_API_KEY"), "https://example-us.openai.azure.com")
//	eu := goopenai.DefaultAzureConfig(os.Getenv("AZURE_EU_API_KEY"), "https://example-eu.openai.azure.com")
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-us", oai.New(us)),
//		routing.WithProvider("azure-eu", oai.New(eu)),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai; any OpenAI-compatible server works
// too, with a config whose BaseURL points at it.)
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/strategy"
)

//go:embed manifest.yaml
var manifest []byte

const (
	calls = 60
	// warmUp is how many calls exploring the deployments may take: the
	// summary counts the calls after it.
	warmUp = 30
)

// deployment is one target and how fast its fake answers.
type deployment struct {
	account string
	latency time.Duration
}

var deployments = []deployment{
	{"azure-us", 50 * time.Millisecond},
	{"azure-eu", 5 * time.Millisecond},
	{"openai-main", 20 * time.Millisecond},
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "latency-race:", err)
		os.Exit(1)
	}
}

// run sends the calls through autocomplete/fast and prints what happened
// to w.
func run(w io.Writer) error {
	fastest := deployments[0]
	for _, d := range deployments {
		if d.latency < fastest.latency {
			fastest = d
		}
	}
	// A seeded source makes the run repeatable: the same picks, and the
	// same rechecks, every time.
	opts := []routing.Option{routing.WithManifest(manifest), routing.WithRand(routing.SeededRand(7))}
	for _, d := range deployments {
		f := fake.New()
		reply := fake.Reply("completion").WithUsage(12, 10).After(d.latency)
		f.Script(fake.AnyModel, reply)
		if d == fastest {
			// The fastest deployment fails its 25th call once; its
			// one retry serves it.
			f.Script(fake.AnyModel, reply.Times(24), fake.Fail(503).Times(1), reply)
		}
		opts = append(opts, routing.WithProvider(d.account, f))
	}
	c, err := routing.New(opts...)
	if err != nil {
		return err
	}
	fastRef := fastest.account + "/gpt-4o-mini"

	fmt.Fprintln(w, "virtual model autocomplete/fast: latency-based over", refs())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\ncall\ttarget\ttry\tstatus\twait\ttook\tclass\twhy")
	served := make([]string, calls)
	rechecked := make([]bool, calls)
	for n := range calls {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "autocomplete/fast",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "func main() {"}},
		})
		var rerr *routing.Error
		if err != nil && !errors.As(err, &rerr) {
			return err // not a provider failure: a setup problem
		}
		for _, a := range tr.Attempts {
			if a.Cause == strategy.CauseRecheck {
				rechecked[n] = true
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%v\t%v\t%s\t%s\n", n+1, a.Target, a.Try, a.Status,
				a.Wait.Round(time.Millisecond), a.Duration.Round(time.Millisecond), a.Class, a.Why())
		}
		if err != nil {
			fmt.Fprintf(tw, "%d\tfailed: %v\n", n+1, err)
		}
		served[n] = tr.Resolved
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\ncalls served, by ten:")
	for lo := 0; lo < calls; lo += 10 {
		count := map[string]int{}
		for _, ref := range served[lo:min(lo+10, calls)] {
			count[ref]++
		}
		var parts []string
		for _, ref := range refList() {
			parts = append(parts, fmt.Sprintf("%s %2d", ref, count[ref]))
		}
		fmt.Fprintf(w, "  calls %2d-%2d:  %s\n", lo+1, min(lo+10, calls), strings.Join(parts, "  "))
	}
	fast, rechecks := 0, 0
	for n, ref := range served[warmUp:] {
		switch {
		case ref == fastRef:
			fast++
		case rechecked[warmUp+n]:
			rechecks++
		}
	}
	// A small share of first picks (strategy.Recheck, 2%) goes to a
	// slower deployment, so that one that recovers is noticed.
	fmt.Fprintf(w, "after warm-up (calls %d-%d) the fastest deployment, %s (%v), served %d/%d (the other %d: rechecks of slower ones)\n",
		warmUp+1, calls, fastRef, fastest.latency, fast, calls-warmUp, calls-warmUp-fast)
	if fast+rechecks != calls-warmUp {
		return fmt.Errorf("%d calls after warm-up went to a slower deployment other than as a recheck", calls-warmUp-fast-rechecks)
	}
	return nil
}

func refList() []string {
	var out []string
	for _, d := range deployments {
		out = append(out, d.account+"/gpt-4o-mini")
	}
	return out
}

func refs() string { return strings.Join(refList(), ", ") }
