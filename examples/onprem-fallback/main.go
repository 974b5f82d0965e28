// Command onprem-fallback shows an on-prem model with a cloud fallback.
// The virtual model "internal-tools/llama" (manifest.yaml) sends every call
// to a self-hosted, OpenAI-compatible server ("vllm-onprem", a vLLM
// deployment of Llama 3 70B) and only when that fails, to the same model
// at a cloud provider ("together"). The on-prem server fails in the three
// ways self-hosted servers do: overloaded (503), unreachable (connection
// refused: a transport failure, counted as 502) and hung (no answer until
// the target's request_timeout_ms turns the attempt into a 408). Then it
// recovers and takes its traffic back.
//
//	go run ./examples/onprem-fallback
//
// After two failures within two minutes on-prem counts as unhealthy: calls
// go to the cloud first, without spending time on it, and once per probe
// cooldown one call tries on-prem first again, with a single try. The
// cooldown is 15 s by default; this example sets 300 ms
// (routing.WithProbeCooldown) so that it runs in about two seconds.
//
// Both accounts are fake providers (package providers/fake), so no
// network or API key is needed. For real endpoints, register
// OpenAI-compatible accounts under the manifest's names instead:
//
//	onprem := goopenai.DefaultConfig("none") // vLLM needs no key unless started with --api-key
//	onprem.BaseURL = "http://vllm.internal:8000/v1"
//	cloud := goopenai.DefaultConfig(os.Getenv("TOGETHER_API_KEY"))
//	cloud.BaseURL = "https://api.together.xyz/v1"
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("vllm-onprem", oai.New(onprem)),
//		routing.WithProvider("together", oai.New(cloud)),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai; for OpenAI itself use
// oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY"))).)
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

const (
	onpremRef = "vllm-onprem/llama-3-70b"
	cloudRef  = "together/meta-llama/Llama-3.1-70B-Instruct-Turbo"
	// cooldown is how long the demoted on-prem target waits for a
	// probe call.
	cooldown = 300 * time.Millisecond
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onprem-fallback:", err)
		os.Exit(1)
	}
}

// scene is the on-prem server's state during one call.
type scene struct {
	what   string
	down   bool      // on-prem is failing
	onprem fake.Step // how it answers
	pause  bool      // wait out the probe cooldown before the call
}

// run sends one call per scene through internal-tools/llama and prints
// what happened to w.
func run(w io.Writer) error {
	onprem, cloud := fake.New(), fake.New()
	cloud.Script(fake.AnyModel, fake.Reply("from the cloud"))
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("vllm-onprem", onprem),
		routing.WithProvider("together", cloud),
		routing.WithProbeCooldown(cooldown),
	)
	if err != nil {
		return err
	}

	up := fake.Reply("from on-prem").After(20 * time.Millisecond)
	scenes := []scene{
		{what: "on-prem up", onprem: up},
		{what: "on-prem overloaded: 503", down: true, onprem: fake.Fail(503)},
		{what: "on-prem still overloaded", down: true, onprem: fake.Fail(503)},
		{what: "on-prem unreachable: connection refused", down: true, onprem: fake.Transport(), pause: true},
		{what: "on-prem hung: no answer", down: true, onprem: fake.Hang(), pause: true},
		{what: "on-prem recovered", onprem: up, pause: true},
		{what: "on-prem up", onprem: up},
	}

	fmt.Fprintf(w, "virtual model internal-tools/llama: priority %s, then %s\n", onpremRef, cloudRef)
	var downCalls, downCloud, upCalls, upOnprem int
	for i, s := range scenes {
		onprem.Script(fake.AnyModel, s.onprem)
		if s.pause {
			fmt.Fprintf(w, "\n(%v later: on-prem's probe is due)", cooldown)
			time.Sleep(cooldown)
		}
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		start := time.Now()
		_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "internal-tools/llama",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Summarise this incident report."}},
		})
		took := time.Since(start)
		var rerr *routing.Error
		if err != nil && !errors.As(err, &rerr) {
			return err // not a provider failure: a setup problem
		}
		fmt.Fprintf(w, "\ncall %d (%s) in %v: %+v\n", i+1, s.what, took.Round(10*time.Millisecond), &tr)
		if s.down {
			downCalls++
			if err == nil && tr.Resolved == cloudRef {
				downCloud++
			}
		} else {
			upCalls++
			if err == nil && tr.Resolved == onpremRef {
				upOnprem++
			}
		}
	}
	fmt.Fprintf(w, "\nserved by the cloud fallback while on-prem was down: %d/%d; by on-prem while it was up: %d/%d\n",
		downCloud, downCalls, upOnprem, upCalls)
	return nil
}
