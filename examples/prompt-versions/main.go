// Command prompt-versions shows a different prompt version per provider.
// The virtual model "writer/summarise" (manifest.yaml) splits calls 50/50
// between OpenAI and Anthropic, and each target's override_params name
// the prompt version tuned for that model (prompt_version_fqn, sent as an
// extra top-level field of the request body for the server that resolves
// managed prompts) together with its own temperature and max_tokens.
// Prompt versions apply to plain chat completions only: a request that
// carries tools (agent and MCP use) is sent without prompt_version_fqn,
// and the call's routing.Trace says so in its Notes.
//
//	go run ./examples/prompt-versions
//
// Both accounts are fake providers (package providers/fake) that record
// what each call sent them (Provider.Calls), so no network or API key is
// needed; the program prints, for each call, the target that served it
// and the request fields and extra body fields it received.
//
// For real endpoints, register real accounts under the manifest's names
// instead of the fakes:
//
//	claude := goopenai.DefaultConfig(os.Getenv("ANTHROPIC_API_KEY"))
//	claude.BaseURL = "https://api.anthropic.com/v1/" // its OpenAI-compatible API
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//		routing.WithProvider("anthropic-main", oai.New(claude)),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai.) An endpoint that does not know
// prompt_version_fqn may reject it; point such targets at a gateway that
// does, or leave the key out of their override_params.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

// maxCalls bounds the calls made to reach both providers (each call
// picks one with probability 1/2).
const maxCalls = 40

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "prompt-versions:", err)
		os.Exit(1)
	}
}

// run sends plain and tool-carrying requests through writer/summarise
// until each provider has served both kinds, and prints what each
// provider received to w.
func run(w io.Writer) error {
	accounts := map[string]*fake.Provider{"openai-main": fake.New(), "anthropic-main": fake.New()}
	opts := []routing.Option{routing.WithManifest(manifest)}
	for _, name := range slices.Sorted(maps.Keys(accounts)) {
		opts = append(opts, routing.WithProvider(name, accounts[name]))
	}
	c, err := routing.New(opts...)
	if err != nil {
		return err
	}

	plain := goopenai.ChatCompletionRequest{
		Model: "writer/summarise",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleUser, Content: "Summarise: the quarterly report shows ..."},
		},
		Temperature: 1, // replaced by each target's override
	}
	withTools := plain
	withTools.Tools = []goopenai.Tool{{
		Type: goopenai.ToolTypeFunction,
		Function: &goopenai.FunctionDefinition{
			Name:        "fetch_report",
			Description: "Fetch a report by its ID.",
			Parameters:  map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}},
		},
	}}

	want := map[string]string{
		"openai-main":    "chat_prompt:acme/writer/summarise-openai:3",
		"anthropic-main": "chat_prompt:acme/writer/summarise-claude:5",
	}
	fmt.Fprintln(w, "virtual model writer/summarise: weight-based, openai-main/gpt-4o 50, anthropic-main/claude-sonnet-4 50")
	var withPrompt, withoutPrompt int
	for _, kind := range []struct {
		name string
		req  goopenai.ChatCompletionRequest
	}{{"plain requests", plain}, {"requests with tools", withTools}} {
		fmt.Fprintf(w, "\n%s:\n", kind.name)
		seen := map[string]bool{}
		for n := 1; len(seen) < len(accounts) && n <= maxCalls; n++ {
			var tr routing.Trace
			ctx := routing.WithTrace(context.Background(), &tr)
			if _, err := c.Chat(ctx, kind.req); err != nil {
				return err
			}
			account, _, _ := strings.Cut(tr.Resolved, "/")
			calls := accounts[account].Calls()
			got := calls[len(calls)-1]
			fmt.Fprintf(w, "  call %d: served by %s\n", n, tr.Resolved)
			maxTokens := "not set"
			if got.Chat.MaxTokens > 0 {
				maxTokens = fmt.Sprint(got.Chat.MaxTokens)
			}
			fmt.Fprintf(w, "    request: model %s, temperature %g, max_tokens %s, tools %d\n",
				got.Chat.Model, got.Chat.Temperature, maxTokens, len(got.Chat.Tools))
			fmt.Fprintf(w, "    extra body fields: %s\n", extras(got.Extra))
			for _, note := range tr.Notes {
				fmt.Fprintf(w, "    note: %s\n", note)
			}
			if seen[account] {
				continue
			}
			seen[account] = true
			fqn, sent := got.Extra["prompt_version_fqn"]
			switch {
			case len(kind.req.Tools) == 0 && fqn == want[account]:
				withPrompt++
			case len(kind.req.Tools) > 0 && !sent:
				withoutPrompt++
			}
		}
	}
	fmt.Fprintf(w, "\neach provider got its own prompt version on plain requests (%d/%d) and none with tools (%d/%d)\n",
		withPrompt, len(accounts), withoutPrompt, len(accounts))
	return nil
}

// extras formats a call's extra body fields, sorted by key.
func extras(m map[string]any) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, fmt.Sprint(m[k])))
	}
	return strings.Join(parts, ", ")
}
