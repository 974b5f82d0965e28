// Command enterprise-tier shows metadata filtering. The virtual model
// "saas-app/chat" (manifest.yaml) sends requests whose metadata says
// tier: enterprise only to a dedicated deployment, and splits all other
// requests 60/40 between two shared ones. The dedicated target carries
// metadata_match: {tier: enterprise}; the shared ones carry none, so they
// are the catch-all pool. When a target's metadata_match holds, only the
// matching targets are eligible, so enterprise traffic never lands on the
// shared deployments, not even as a fallback; and other traffic never
// reaches the dedicated one.
//
// A request's metadata comes from its context:
//
//	ctx = metadata.NewContext(ctx, metadata.MD{"tier": "enterprise"})
//
// or from an x-tfy-metadata header value parsed with metadata.Parse.
//
//	go run ./examples/enterprise-tier
//
// The three accounts are fake providers (package providers/fake), so no
// network or API key is needed. For real endpoints, register real
// accounts under the manifest's names instead of the fakes:
//
//	dedicated := goopenai.DefaultAzureConfig(os.Getenv("AZURE_DEDICATED_API_KEY"), "https://example-ptu.openai.azure.com")
//	shared := goopenai.DefaultAzureConfig(os.Getenv("AZURE_SHARED_API_KEY"), "https://example.openai.azure.com")
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-dedicated", oai.New(dedicated)),
//		routing.WithProvider("azure-shared", oai.New(shared)),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai.)
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

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

const (
	enterpriseCalls = 20
	otherCalls      = 1000
	// show is how many calls of each kind are printed in full.
	show = 3

	dedicated = "azure-dedicated/gpt-4o"
	shared    = "azure-shared/gpt-4o"
	openai    = "openai-main/gpt-4o"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "enterprise-tier:", err)
		os.Exit(1)
	}
}

// run sends enterprise and other calls through saas-app/chat and prints
// where they went to w.
func run(w io.Writer) error {
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-dedicated", fake.New()),
		routing.WithProvider("azure-shared", fake.New()),
		routing.WithProvider("openai-main", fake.New()),
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "virtual model saas-app/chat: tier=enterprise → %s; others: %s 60, %s 40\n", dedicated, shared, openai)

	// Other requests carry other tiers, or none.
	otherTiers := []metadata.MD{{"tier": "pro"}, {"tier": "free"}, nil}
	enterprise, others := map[string]int{}, map[string]int{}
	for _, kind := range []struct {
		name   string
		n      int
		md     func(i int) metadata.MD
		served map[string]int
	}{
		{"tier=enterprise", enterpriseCalls, func(int) metadata.MD { return metadata.MD{"tier": "enterprise"} }, enterprise},
		{"other tiers", otherCalls, func(i int) metadata.MD { return otherTiers[i%len(otherTiers)] }, others},
	} {
		fmt.Fprintf(w, "\n%d calls, %s (first %d shown):\n", kind.n, kind.name, show)
		for i := range kind.n {
			md := kind.md(i)
			var tr routing.Trace
			ctx := routing.WithTrace(metadata.NewContext(context.Background(), md), &tr)
			if _, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
				Model:    "saas-app/chat",
				Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Draft a reply to this ticket."}},
			}); err != nil {
				return err
			}
			kind.served[tr.Resolved]++
			if i < show {
				fmt.Fprintf(w, "  metadata %s: %2v\n", format(md), &tr)
			}
		}
		for _, ref := range []string{dedicated, shared, openai} {
			fmt.Fprintf(w, "  %-24s %5d  %5.1f%%\n", ref, kind.served[ref], percent(kind.served[ref], kind.n))
		}
	}

	fmt.Fprintf(w, "\nenterprise on %s: %d/%d; others: %s %.1f%%, %s %.1f%% (weights 60/40), %s %d\n",
		dedicated, enterprise[dedicated], enterpriseCalls,
		shared, percent(others[shared], otherCalls), openai, percent(others[openai], otherCalls),
		dedicated, others[dedicated])
	return nil
}

// format shows metadata as {key: value, ...}, sorted by key.
func format(md metadata.MD) string {
	if len(md) == 0 {
		return "(none)"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(md)) {
		parts = append(parts, k+": "+md[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func percent(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
