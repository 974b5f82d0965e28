// Command region-routing shows region-based routing with gateway metadata.
// The same service runs in three regions; each deployment tells its Client
// where it runs, once:
//
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithDefaultMetadata(metadata.MD{"tfy_gateway_region": "US"}),
//		...
//	)
//
// and the virtual model "global-app/chat" (manifest.yaml) sends US traffic
// to the US deployment of the model, EU traffic to the EU one, and
// everything else to OpenAI: two targets with a metadata_match on
// tfy_gateway_region and one catch-all. When a target matches, only the
// matching targets are eligible, so EU traffic never leaves the EU, even
// when the EU deployment is down (the EU target is also marked
// fallback_candidate: false). A request's own metadata
// (metadata.NewContext) wins over the deployment's default.
//
//	go run ./examples/region-routing
//
// The three accounts are fake providers (package providers/fake), so no
// network or API key is needed. For real endpoints, register real
// accounts under the manifest's names instead of the fakes:
//
//	us := goopenai.DefaultAzureConfig(os.Getenv("AZURE_US_API_KEY"), "https://example-us.openai.azure.com")
//	eu := goopenai.DefaultAzureConfig(os.Getenv("AZURE_EU_API_KEY"), "https://example-eu.openai.azure.com")
//	routing.WithProvider("azure-us", oai.New(us)),
//	routing.WithProvider("azure-eu", oai.New(eu)),
//	routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
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
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

// callsPerRegion is how many calls each deployment makes.
const callsPerRegion = 3

// region is one deployment of the service and where its calls should go.
type region struct {
	name string // its tfy_gateway_region
	want string // the target that should serve its calls
}

var regions = []region{
	{"US", "azure-us/gpt-4o"},
	{"EU", "azure-eu/gpt-4o"},
	{"APAC", "openai-main/gpt-4o"},
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "region-routing:", err)
		os.Exit(1)
	}
}

// run makes the calls of one Client per region and prints where they went
// to w.
func run(w io.Writer) error {
	fakes := map[string]*fake.Provider{"azure-us": fake.New(), "azure-eu": fake.New(), "openai-main": fake.New()}
	clients := map[string]*routing.Client{}
	for _, r := range regions {
		c, err := routing.New(
			routing.WithManifest(manifest),
			routing.WithProvider("azure-us", fakes["azure-us"]),
			routing.WithProvider("azure-eu", fakes["azure-eu"]),
			routing.WithProvider("openai-main", fakes["openai-main"]),
			routing.WithDefaultMetadata(metadata.MD{"tfy_gateway_region": r.name}),
		)
		if err != nil {
			return err
		}
		clients[r.name] = c
	}

	fmt.Fprintln(w, "virtual model global-app/chat: US → azure-us/gpt-4o, EU → azure-eu/gpt-4o, others → openai-main/gpt-4o")
	var summary []string
	for _, r := range regions {
		fmt.Fprintf(w, "\ndeployment with tfy_gateway_region=%s:\n", r.name)
		ok := 0
		for n := 1; n <= callsPerRegion; n++ {
			tr, err := call(clients[r.name], fmt.Sprintf("  call %d: ", n), w)
			if err != nil {
				return err
			}
			if tr.Resolved == r.want {
				ok++
			}
		}
		summary = append(summary, fmt.Sprintf("%s %d/%d on %s", r.name, ok, callsPerRegion, r.want))
	}

	// A request's own metadata wins over the deployment's default.
	fmt.Fprintln(w, "\nUS deployment, request metadata tfy_gateway_region=EU:")
	ctx := metadata.NewContext(context.Background(), metadata.MD{"tfy_gateway_region": "EU"})
	if _, err := callCtx(ctx, clients["US"], "  call 1: ", w); err != nil {
		return err
	}

	// The EU deployment goes down: EU calls fail rather than leave the
	// EU; the other regions are not affected.
	fakes["azure-eu"].Script(fake.AnyModel, fake.Fail(503))
	fmt.Fprintln(w, "\nazure-eu down (503); EU deployment:")
	tr, err := call(clients["EU"], "  call 1: ", w)
	if err != nil {
		return err
	}
	stayed := "stayed in the EU"
	for _, a := range tr.Attempts {
		if a.Target != "azure-eu/gpt-4o" {
			stayed = "LEFT the EU"
		}
	}

	fmt.Fprintf(w, "\nevery call went to its region's target: %s; with azure-eu down the EU call %s\n",
		strings.Join(summary, ", "), stayed)
	return nil
}

// call sends one chat through c and prints its Trace, prefixed by label,
// to w.
func call(c *routing.Client, label string, w io.Writer) (*routing.Trace, error) {
	return callCtx(context.Background(), c, label, w)
}

func callCtx(ctx context.Context, c *routing.Client, label string, w io.Writer) (*routing.Trace, error) {
	var tr routing.Trace
	ctx = routing.WithTrace(ctx, &tr)
	_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
		Model:    "global-app/chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}},
	})
	var rerr *routing.Error
	if err != nil && !errors.As(err, &rerr) {
		return nil, err // not a provider failure: a setup problem
	}
	// The width keeps the attempts under the label's indented line.
	fmt.Fprintf(w, "%s%+2v\n", label, &tr)
	return &tr, nil
}
