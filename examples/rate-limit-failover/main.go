// Command rate-limit-failover shows a priority chain that fails over on
// rate limits. The virtual model "support-bot/chat" (manifest.yaml) tries
// Azure first; when Azure answers 429 the call moves on to OpenAI at once,
// without waiting out Azure's Retry-After, and to Anthropic when OpenAI is
// rate limited too. A short Retry-After from OpenAI is honoured with one
// retry; one longer than a minute is not waited for at all. After two
// rate limits within two minutes Azure counts as unhealthy: later calls
// start on OpenAI and try Azure only as a last resort, until a probe call
// finds it serving again.
//
//	go run ./examples/rate-limit-failover
//
// The three accounts are fake providers (package providers/fake) scripted
// call by call, so no network or API key is needed; the run takes about
// one second, OpenAI's one Retry-After. It prints each call's Trace with
// %+v: which target served, and every attempt (target, try, status, what
// the router decided, why the target was tried, the wait before it, and
// the error with the Retry-After the provider asked for).
//
// To send the calls to real endpoints, register real accounts under the
// manifest's names instead of the fakes:
//
//	azureCfg := goopenai.DefaultAzureConfig(os.Getenv("AZURE_OPENAI_API_KEY"), "https://example.openai.azure.com")
//	cfg := goopenai.DefaultConfig(os.Getenv("ANTHROPIC_API_KEY"))
//	cfg.BaseURL = "https://api.anthropic.com/v1/" // its OpenAI-compatible API
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-main", oai.New(azureCfg)),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//		routing.WithProvider("anthropic-main", oai.New(cfg)),
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
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rate-limit-failover:", err)
		os.Exit(1)
	}
}

// scene is the state of the providers during one call.
type scene struct {
	what          string
	azure, openai []fake.Step // nil: replies
}

// run sends one call per scene through support-bot/chat and prints what
// happened to w.
func run(w io.Writer) error {
	azure, openai, anthropic := fake.New(), fake.New(), fake.New()
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-main", azure),
		routing.WithProvider("openai-main", openai),
		routing.WithProvider("anthropic-main", anthropic),
	)
	if err != nil {
		return err
	}

	rateLimited := func(retryAfter time.Duration) fake.Step {
		return fake.Fail(429).WithCode("rate_limit_exceeded").WithRetryAfter(retryAfter)
	}
	scenes := []scene{
		{what: "Azure within its quota"},
		{what: "Azure rate limited (429, Retry-After 20s)", azure: []fake.Step{rateLimited(20 * time.Second)}},
		{what: "Azure still rate limited", azure: []fake.Step{rateLimited(20 * time.Second)}},
		{what: "OpenAI rate limited too, Retry-After 1s", azure: []fake.Step{rateLimited(20 * time.Second)},
			openai: []fake.Step{rateLimited(time.Second).Times(1), fake.Reply("ok")}},
		{what: "OpenAI rate limited for 90s", azure: []fake.Step{rateLimited(20 * time.Second)},
			openai: []fake.Step{rateLimited(90 * time.Second)}},
	}

	fmt.Fprintln(w, "virtual model support-bot/chat: priority azure-main/gpt-4o, openai-main/gpt-4o, anthropic-main/claude-sonnet-4")
	served := map[string]int{}
	var waited time.Duration
	for i, s := range scenes {
		azure.Script("gpt-4o", orReply(s.azure)...)
		openai.Script("gpt-4o", orReply(s.openai)...)
		anthropic.Script("claude-sonnet-4", fake.Reply("ok"))

		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "support-bot/chat",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Where is my order?"}},
		})
		var rerr *routing.Error
		if err != nil && !errors.As(err, &rerr) {
			return err // not a provider failure: a setup problem
		}
		fmt.Fprintf(w, "\ncall %d (%s): %+v\n", i+1, s.what, &tr)
		if err == nil {
			served[tr.Resolved]++
		}
		for _, a := range tr.Attempts {
			waited += a.Wait
		}
	}

	total := 0
	for _, n := range served {
		total += n
	}
	fmt.Fprintf(w, "\nserved %d/%d calls while the primary was rate limited: azure-main %d, openai-main %d, anthropic-main %d; time spent waiting: %v\n",
		total, len(scenes), served["azure-main/gpt-4o"], served["openai-main/gpt-4o"], served["anthropic-main/claude-sonnet-4"], waited.Round(time.Millisecond))
	return nil
}

// orReply is steps, or a plain reply when there are none.
func orReply(steps []fake.Step) []fake.Step {
	if len(steps) == 0 {
		return []fake.Step{fake.Reply("ok")}
	}
	return steps
}
