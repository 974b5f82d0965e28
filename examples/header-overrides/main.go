// Command header-overrides shows per-target upstream headers. The virtual
// model "platform/chat" (manifest.yaml) tries Azure first and Anthropic
// second; each target's headers_override sets the headers that provider
// needs (an API version for Azure, a beta flag for Anthropic) and removes
// the caller's debug header, so it never leaves the service. The caller's
// own headers, passed with routing.WithHeaders, go to every attempt; a
// target's override applies on top of them, per attempt, so a fallback
// never carries the previous target's headers.
//
//	go run ./examples/header-overrides
//
// Both accounts are fake providers (package providers/fake) that record
// the headers of each attempt (Provider.Calls: Header to set,
// RemoveHeader to strip), so no network or API key is needed; the program
// prints the headers each provider would have put on the wire. The real
// adapter, package providers/openai, applies both to the HTTP request.
// To use real endpoints, register them under the manifest's names:
//
//	azure := goopenai.DefaultAzureConfig(os.Getenv("AZURE_OPENAI_API_KEY"), "https://example.openai.azure.com")
//	claude := goopenai.DefaultConfig(os.Getenv("ANTHROPIC_API_KEY"))
//	claude.BaseURL = "https://api.anthropic.com/v1/" // its OpenAI-compatible API
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-main", oai.New(azure)),
//		routing.WithProvider("anthropic-main", oai.New(claude)),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, goopenai is
// github.com/sashabaranov/go-openai; oai.New(goopenai.DefaultConfig(key))
// with a BaseURL serves any OpenAI-compatible endpoint.)
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "header-overrides:", err)
		os.Exit(1)
	}
}

// run makes two calls through platform/chat, one served by Azure and one
// that falls back to Anthropic, and prints the headers each provider got
// to w.
func run(w io.Writer) error {
	azure, anthropic := fake.New(), fake.New()
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-main", azure),
		routing.WithProvider("anthropic-main", anthropic),
	)
	if err != nil {
		return err
	}
	accounts := []struct {
		name string
		f    *fake.Provider
	}{{"azure-main", azure}, {"anthropic-main", anthropic}}

	caller := http.Header{
		"X-Request-Id": {"req-42"},
		"X-Debug":      {"trace=all"},
	}
	// What each account's headers_override sets (manifest.yaml).
	want := map[string]http.Header{
		"azure-main":     {"Api-Version": {"2024-10-21"}, "X-Ms-Client-Request-Source": {"llmroute"}},
		"anthropic-main": {"Anthropic-Beta": {"prompt-caching-2024-07-31"}},
	}
	fmt.Fprintln(w, "virtual model platform/chat: priority azure-main/gpt-4o, then anthropic-main/claude-sonnet-4")
	fmt.Fprintf(w, "caller's headers: %s\n", format(caller))

	scenes := []struct {
		what  string
		azure fake.Step
	}{
		{"Azure serves", fake.Reply("ok")},
		{"Azure rejects the key (401): fallback to Anthropic", fake.Fail(401)},
	}
	attempts, own, leaked := 0, 0, 0
	for i, s := range scenes {
		azure.Reset()
		anthropic.Reset()
		azure.Script(fake.AnyModel, s.azure)

		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		ctx = routing.WithHeaders(ctx, caller)
		_, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
			Model:    "platform/chat",
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}},
		})
		var rerr *routing.Error
		if err != nil && !errors.As(err, &rerr) {
			return err // not a provider failure: a setup problem
		}
		fmt.Fprintf(w, "\ncall %d (%s): %+v\n", i+1, s.what, &tr)
		fmt.Fprintln(w, "  headers each provider got:")
		for _, acct := range accounts {
			for _, call := range acct.f.Calls() {
				sent := onWire(call.Header, call.RemoveHeader)
				fmt.Fprintf(w, "    %s/%s: %s; removed: %s\n", acct.name, call.Model, format(sent), strings.Join(call.RemoveHeader, ", "))
				attempts++
				if sent.Get("X-Debug") != "" {
					leaked++
				}
				if sent.Get("X-Request-Id") == caller.Get("X-Request-Id") && only(sent, acct.name, want) {
					own++
				}
			}
		}
	}
	fmt.Fprintf(w, "\nattempts that got their own target's headers (and the caller's x-request-id): %d/%d; that got the caller's x-debug: %d\n",
		own, attempts, leaked)
	return nil
}

// only reports whether sent holds the headers want gives account, and
// none of those it gives other accounts.
func only(sent http.Header, account string, want map[string]http.Header) bool {
	for acct, h := range want {
		for k, v := range h {
			got := sent.Get(k)
			if acct == account && got != v[0] || acct != account && got != "" {
				return false
			}
		}
	}
	return true
}

// onWire is what a provider sends: the headers to set, less those to
// remove (as package providers/openai applies them).
func onWire(set http.Header, remove []string) http.Header {
	h := set.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range remove {
		h.Del(k)
	}
	return h
}

// format lists headers sorted by name.
func format(h http.Header) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		parts = append(parts, k+": "+strings.Join(h[k], ","))
	}
	return strings.Join(parts, ", ")
}
