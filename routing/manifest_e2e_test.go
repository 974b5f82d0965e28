package routing_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/slug"
)

// mfChain is a priority chain that falls back from Azure to OpenAI on a
// rate limit without retrying it, with per-target overrides.
const mfChain = `
name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    slug: booking-gpt
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          priority: 0
          retry_config: {attempts: 2, delay: 1, on_status_codes: ["500", "502", "503"]}
          fallback_status_codes: ["429", "500", "502", "503"]
          headers_override: {set: {api-version: "2024-10-21"}}
        - target: openai-main/gpt-4o-2024-08-06
          priority: 1
          override_params: {temperature: 0.2, prompt_version_fqn: "chat_prompt:acme/booking:3"}
`

func TestManifestEndToEnd(t *testing.T) {
	azure, openaiMain := fake.New(), fake.New()
	azure.Script("gpt-4o", fake.Fail(429))
	c, err := routing.New(
		routing.WithProvider("azure-main", azure),
		routing.WithProvider("openai-main", openaiMain),
		routing.WithManifest([]byte(mfChain)),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"booking-app/gpt-prod", "booking-gpt"} {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		resp, err := c.Chat(ctx, openai.ChatCompletionRequest{
			Model:    name,
			Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hi"}},
		})
		if err != nil {
			t.Fatalf("Chat(%s): %v", name, err)
		}
		if resp.Model != "gpt-4o-2024-08-06" || tr.Resolved != "openai-main/gpt-4o-2024-08-06" {
			t.Errorf("Chat(%s) served by %q (resolved %q)", name, resp.Model, tr.Resolved)
		}
		var got []string
		for _, a := range tr.Attempts {
			got = append(got, a.Target)
		}
		// 429 is not retried on Azure; it falls back at once.
		if want := "azure-main/gpt-4o openai-main/gpt-4o-2024-08-06"; strings.Join(got, " ") != want {
			t.Errorf("Chat(%s) attempts %v, want %s", name, got, want)
		}
	}
	if n := azure.CallCount("gpt-4o"); n != 2 {
		t.Errorf("azure calls = %d, want 2 (no retry on 429)", n)
	}
	calls := openaiMain.Calls()
	if len(calls) == 0 {
		t.Fatal("openai-main was not called")
	}
	// The override_params reached the request.
	if got := calls[0].Chat.Temperature; got != 0.2 {
		t.Errorf("temperature = %v, want 0.2", got)
	}
	if got := calls[0].Extra["prompt_version_fqn"]; got != "chat_prompt:acme/booking:3" {
		t.Errorf("prompt_version_fqn = %v", got)
	}
	if _, err := c.Embed(context.Background(), openai.EmbeddingRequest{Model: "booking-gpt"}); !errors.Is(err, routing.ErrUnsupportedOperation) {
		t.Errorf("Embed on a chat model: %v, want ErrUnsupportedOperation", err)
	}
}

// Every example manifest in testdata loads into a Client.
func TestManifestTestdataLoads(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			groups, err := routing.ParseManifest(data)
			if err != nil {
				t.Fatal(err)
			}
			opts := []routing.Option{routing.WithManifest(data)}
			seen := map[string]bool{}
			for _, g := range groups {
				for _, m := range g.Models {
					for _, tg := range m.Routing.Targets {
						ref, _ := slug.ParseRef(tg.Ref)
						if !seen[ref.Account] {
							seen[ref.Account] = true
							opts = append(opts, routing.WithProvider(ref.Account, fake.New()))
						}
					}
				}
			}
			c, err := routing.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(c.Groups()); got != len(groups) {
				t.Errorf("Client serves %d groups, want %d", got, len(groups))
			}
		})
	}
}

// Problems in a manifest given to New come back with their paths and,
// for what the manifest alone shows, their lines.
func TestManifestNewErrors(t *testing.T) {
	bad := strings.Replace(mfChain, "          priority: 1\n", "          priority: 1\n          weight: 5\n", 1)
	_, err := routing.New(
		routing.WithProvider("azure-main", fake.New()),
		routing.WithProvider("openai-main", fake.New()),
		routing.WithManifest([]byte(bad)),
	)
	var fe *routing.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("New: %v, want a *routing.FieldError", err)
	}
	if want := "integrations[0].routing_config.load_balance_targets[1].weight"; fe.Path != want || fe.Line != 18 || fe.Group != "booking-app" {
		t.Errorf("problem at %s:%d:%s, want booking-app:18:%s", fe.Group, fe.Line, fe.Path, want)
	}

	// An account the Client lacks is found by New, with the target's path.
	_, err = routing.New(routing.WithProvider("azure-main", fake.New()), routing.WithManifest([]byte(mfChain)))
	if !errors.As(err, &fe) || fe.Path != "integrations[0].routing_config.load_balance_targets[1].target" {
		t.Fatalf("New without openai-main: %v", err)
	}
	// The Client annotates the problems it finds with the manifest's
	// lines (routing.Manifest.Annotate).
	if fe.Line != 16 {
		t.Errorf("unknown account reported on line %d, want 16", fe.Line)
	}
}
