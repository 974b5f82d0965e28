// Command environments shows environment-specific virtual models. One
// manifest (manifest.yaml) defines the group "booking-app" with two
// virtual models: "booking-app/gpt-prod", a priority chain over big
// models (Azure's gpt-4o, then OpenAI's), and "booking-app/gpt-dev", a
// cheap model. The service's code is the same in every environment; only
// the model name it is configured with differs, so what runs behind each
// name can change without a deploy (Client.ApplyManifest). Slugs
// (booking-gpt, booking-gpt-dev) are short aliases for the same models.
// The group's collaborators admit each environment's virtual account
// (routing.WithSubject); any other caller gets routing.ErrForbidden.
//
//	go run ./examples/environments
//
// The accounts are fake providers (package providers/fake), so no network
// or API key is needed. For real endpoints, register real accounts under
// the manifest's names instead of the fakes:
//
//	azure := goopenai.DefaultAzureConfig(os.Getenv("AZURE_OPENAI_API_KEY"), "https://example.openai.azure.com")
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-main", oai.New(azure)),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai; a config with a BaseURL serves any
// OpenAI-compatible endpoint.)
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

// callsPerEnv is how many calls each environment's service makes.
const callsPerEnv = 3

// environment is one deployment of the booking service: the model name
// and the subject it is configured with.
type environment struct {
	name    string
	model   string
	subject string
	allowed []string // the targets its calls may be served by
	kind    string   // what they are
}

var environments = []environment{
	{"prod", "booking-app/gpt-prod", "virtualaccount:booking-prod", []string{"azure-main/gpt-4o", "openai-main/gpt-4o"}, "big models"},
	{"dev", "booking-gpt-dev", "virtualaccount:booking-dev", []string{"openai-main/gpt-4o-mini"}, "the cheap model"},
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "environments:", err)
		os.Exit(1)
	}
}

// run makes each environment's calls and prints where they went to w.
func run(w io.Writer) error {
	azure, openai := fake.New(), fake.New()
	// Azure serves prod's first two calls, then has an outage.
	azure.Script("gpt-4o", fake.Reply("ok").Times(2), fake.Fail(503))
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-main", azure),
		routing.WithProvider("openai-main", openai),
	)
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "group booking-app: gpt-prod (slug booking-gpt): priority azure-main/gpt-4o, then openai-main/gpt-4o;")
	fmt.Fprintln(w, "                   gpt-dev (slug booking-gpt-dev): openai-main/gpt-4o-mini")
	var summary []string
	for _, env := range environments {
		fmt.Fprintf(w, "\n%s service: model %q, subject %s\n", env.name, env.model, env.subject)
		served := map[string]int{}
		for n := 1; n <= callsPerEnv; n++ {
			var tr routing.Trace
			ctx := routing.WithSubject(context.Background(), env.subject)
			ctx = routing.WithTrace(ctx, &tr)
			_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
				Model:    env.model,
				Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Find me a hotel in Lisbon."}},
			})
			var rerr *routing.Error
			if err != nil && !errors.As(err, &rerr) {
				return err // not a provider failure: a setup problem
			}
			fmt.Fprintf(w, "  call %d: %+2v\n", n, &tr)
			if err == nil {
				served[tr.Resolved]++
			}
		}
		total := 0
		var counts []string
		for _, ref := range env.allowed {
			counts = append(counts, fmt.Sprintf("%s %d", ref, served[ref]))
			total += served[ref]
		}
		summary = append(summary, fmt.Sprintf("%s (%s) %d/%d on %s (%s)",
			env.name, env.model, total, callsPerEnv, env.kind, strings.Join(counts, ", ")))
	}

	// A caller that is not a collaborator of the group.
	ctx := routing.WithSubject(context.Background(), "user:mallory@example.com")
	_, err = c.Chat(ctx, goopenai.ChatCompletionRequest{Model: "booking-app/gpt-prod"})
	fmt.Fprintf(w, "\nuser:mallory@example.com calling booking-app/gpt-prod: %v; errors.Is(err, routing.ErrForbidden) = %v\n",
		err, errors.Is(err, routing.ErrForbidden))

	fmt.Fprintf(w, "\none manifest, two environments: %s\n", strings.Join(summary, "; "))
	return nil
}
