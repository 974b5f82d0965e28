// Command sla-cutoff shows a priority chain with an SLA cutoff. The
// virtual model "realtime/voice" (manifest.yaml) sends calls to Azure
// first, with retries, and to OpenAI, then Anthropic, when it fails. Its
// sla_cutoff adds a second reason to move: while Azure's mean time per
// output token over the last 3 minutes (at least 3 calls) is above 50 ms,
// Azure counts as unhealthy and OpenAI, priority 1, takes the calls. Once
// Azure's slow calls have left the window, it is healthy again and gets
// its traffic back.
//
//	go run ./examples/sla-cutoff
//
// The three accounts are fake providers (package providers/fake) that
// answer after a few tens of milliseconds of real time, so no network or
// API key is needed. The minutes between the phases are not waited for:
// the Client's clock (routing.WithClock) is the real one plus an offset
// that the program moves forward, so the run takes about a second.
//
// For real endpoints, register real accounts under the manifest's names
// instead of the fakes and drop WithClock:
//
//	azure := goopenai.DefaultAzureConfig(os.Getenv("AZURE_OPENAI_API_KEY"), "https://example.openai.azure.com")
//	claude := goopenai.DefaultConfig(os.Getenv("ANTHROPIC_API_KEY"))
//	claude.BaseURL = "https://api.anthropic.com/v1/" // its OpenAI-compatible API
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-main", oai.New(azure)),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//		routing.WithProvider("anthropic-main", oai.New(claude)),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai.)
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

const (
	primary   = "azure-main/gpt-4o"
	secondary = "openai-main/gpt-4o"
	// tokens is the output tokens of every reply; a reply after d has a
	// time per output token of d/tokens.
	tokens = 4
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sla-cutoff:", err)
		os.Exit(1)
	}
}

// skipClock is the runtime's clock moved forward by Skip, so that the
// program can show what happens minutes later without waiting for them.
// Waits are real.
type skipClock struct{ offset atomic.Int64 }

func (c *skipClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *skipClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *skipClock) Skip(d time.Duration) { c.offset.Add(int64(d)) }

// phase is a stretch of calls with the primary in one state.
type phase struct {
	what  string
	skip  time.Duration // clock skipped before the phase
	steps []fake.Step   // the primary's script
	calls int
	want  []string // the target that should serve each call
}

// run sends the phases' calls through realtime/voice and prints what
// happened to w.
func run(w io.Writer) error {
	azure, openai, anthropic := fake.New(), fake.New(), fake.New()
	openai.Script(fake.AnyModel, reply(20*time.Millisecond))
	anthropic.Script(fake.AnyModel, reply(20*time.Millisecond))
	clock := &skipClock{}
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-main", azure),
		routing.WithProvider("openai-main", openai),
		routing.WithProvider("anthropic-main", anthropic),
		routing.WithClock(clock),
	)
	if err != nil {
		return err
	}

	fast, slow := reply(40*time.Millisecond), reply(240*time.Millisecond)
	phases := []phase{
		{what: "azure-main fast (10ms/token); one 503, retried", steps: []fake.Step{fake.Fail(503).Times(1), fast},
			calls: 3, want: []string{primary, primary, primary}},
		{what: "4m later: azure-main slow (60ms/token, cutoff 50ms)", skip: 4 * time.Minute, steps: []fake.Step{slow},
			calls: 5, want: []string{primary, primary, primary, secondary, secondary}},
		{what: "azure-main fast again, but its 3-minute mean is still above the cutoff", steps: []fake.Step{fast},
			calls: 2, want: []string{secondary, secondary}},
		{what: "3m later: the slow calls have left the window", skip: 3 * time.Minute, steps: []fake.Step{fast},
			calls: 3, want: []string{primary, primary, primary}},
	}

	fmt.Fprintf(w, "virtual model realtime/voice: priority %s (sla_cutoff 50ms/token), %s, anthropic-main/claude-sonnet-4\n", primary, secondary)
	n, asExpected, total := 0, 0, 0
	var results []string
	for _, p := range phases {
		clock.Skip(p.skip)
		azure.Script(fake.AnyModel, p.steps...)
		fmt.Fprintf(w, "\n%s:\n", p.what)
		got := 0
		for i := range p.calls {
			n++
			var tr routing.Trace
			ctx := routing.WithTrace(context.Background(), &tr)
			_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
				Model:    "realtime/voice",
				Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Say it short."}},
			})
			var rerr *routing.Error
			if err != nil && !errors.As(err, &rerr) {
				return err // not a provider failure: a setup problem
			}
			// The Trace's tpot is the time per output token the cutoff
			// judges.
			fmt.Fprintf(w, "  call %d: %+2v\n", n, &tr)
			if err == nil && tr.Resolved == p.want[i] {
				got++
			}
		}
		asExpected += got
		total += p.calls
		results = append(results, fmt.Sprintf("%d/%d", got, p.calls))
	}
	fmt.Fprintf(w, "\nserved as the SLA says: %d/%d: fast primary %s, slow primary until the cutoff then priority 1 %s, priority 1 while the mean is high %s, primary again after recovery %s\n",
		asExpected, total, results[0], results[1], results[2], results[3])
	return nil
}

// reply answers after d with tokens output tokens.
func reply(d time.Duration) fake.Step {
	return fake.Reply("ok").WithUsage(20, tokens).After(d)
}
