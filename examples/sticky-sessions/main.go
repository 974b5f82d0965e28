// Command sticky-sessions shows sticky routing for multi-turn
// conversations. The virtual model "assistant/chat" (manifest.yaml) splits
// new conversations 60/40 between two deployments, and pins each
// conversation, identified by the caller's x-session-id header, to the
// deployment that served its first turn, so that the deployment's prompt
// cache stays warm for the later turns. The pin lives an hour after the
// last turn (ttl_seconds). When the pinned deployment fails, the turn
// falls back to the other one and the pin moves there.
//
//	go run ./examples/sticky-sessions
//
// The session header reaches the router through the call's context:
//
//	ctx = routing.WithHeaders(ctx, http.Header{"X-Session-Id": {conversationID}})
//	resp, err := c.Chat(ctx, req)
//
// Both deployments are fake providers (package providers/fake), so no
// network or API key is needed. Pins live in the Client's memory; services
// with several replicas share them through a stores/redis Store
// (routing.WithStore). For real endpoints, register real accounts under
// the manifest's names instead of the fakes:
//
//	us := goopenai.DefaultAzureConfig(os.Getenv("AZURE_US_API_KEY"), "https://example-us.openai.azure.com")
//	eu := goopenai.DefaultAzureConfig(os.Getenv("AZURE_EU_API_KEY"), "https://example-eu.openai.azure.com")
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("azure-us", oai.New(us)),
//		routing.WithProvider("azure-eu", oai.New(eu)),
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
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

const (
	conversations = 6
	turns         = 4
)

var refs = []string{"azure-us/gpt-4o", "azure-eu/gpt-4o"}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sticky-sessions:", err)
		os.Exit(1)
	}
}

// conversation is one chat: its session ID, its history so far and the
// deployment that served each turn.
type conversation struct {
	id      string
	history []goopenai.ChatCompletionMessage
	served  []string
}

// run holds the conversations through assistant/chat, turn by turn, and
// prints where each turn went to w.
func run(w io.Writer) error {
	fakes := map[string]*fake.Provider{"azure-us": fake.New(), "azure-eu": fake.New()}
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("azure-us", fakes["azure-us"]),
		routing.WithProvider("azure-eu", fakes["azure-eu"]),
	)
	if err != nil {
		return err
	}
	for name, f := range fakes {
		f.Script(fake.AnyModel, fake.Reply("answer from "+name))
	}

	convs := make([]*conversation, conversations)
	for i := range convs {
		convs[i] = &conversation{id: fmt.Sprintf("conv-%d", i+1)}
	}
	fmt.Fprintln(w, "virtual model assistant/chat: weight-based, azure-us/gpt-4o 60, azure-eu/gpt-4o 40, sticky on x-session-id")
	fmt.Fprintln(w, "\nturns interleaved as they arrive from", conversations, "conversations:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "turn\tsession\ttarget\ttry\tstatus\twait\tclass\twhy")
	for turn := 1; turn <= turns; turn++ {
		for _, cv := range convs {
			if err := say(c, tw, cv, turn); err != nil {
				return err
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nwhere each conversation's turns went:")
	stayed := 0
	perTarget := map[string]int{}
	for _, cv := range convs {
		if allSame(cv.served) {
			stayed++
			perTarget[cv.served[0]]++
		}
		fmt.Fprintf(w, "  %s: %v\n", cv.id, cv.served)
	}

	// The deployment conversation 1 is pinned to goes down: its next
	// turn falls back to the other one, and the pin follows.
	cv := convs[0]
	down := cv.served[0]
	other := refs[0]
	if down == refs[0] {
		other = refs[1]
	}
	downAccount, _, _ := strings.Cut(down, "/")
	fakes[downAccount].Script(fake.AnyModel, fake.Fail(503))
	fmt.Fprintf(w, "\n%s goes down (503); %s goes on:\n", down, cv.id)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "turn\tsession\ttarget\ttry\tstatus\twait\tclass\twhy")
	for turn := turns + 1; turn <= turns+2; turn++ {
		if err := say(c, tw, cv, turn); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	moved := "moved to " + other + " and stayed"
	if cv.served[turns] != other || cv.served[turns+1] != other {
		moved = "did not move to " + other
	}

	fmt.Fprintf(w, "\n%d/%d conversations stayed on one deployment for all %d turns (%s: %d, %s: %d); when %s failed, %s's pin %s\n",
		stayed, conversations, turns, refs[0], perTarget[refs[0]], refs[1], perTarget[refs[1]], down, cv.id, moved)
	return nil
}

// say sends one turn of cv and prints its attempts to tw.
func say(c *routing.Client, tw io.Writer, cv *conversation, turn int) error {
	cv.history = append(cv.history, goopenai.ChatCompletionMessage{
		Role:    goopenai.ChatMessageRoleUser,
		Content: fmt.Sprintf("Message %d of %s.", turn, cv.id),
	})
	var tr routing.Trace
	ctx := routing.WithTrace(context.Background(), &tr)
	ctx = routing.WithHeaders(ctx, http.Header{"X-Session-Id": {cv.id}})
	resp, err := c.Chat(ctx, goopenai.ChatCompletionRequest{Model: "assistant/chat", Messages: cv.history})
	var rerr *routing.Error
	if err != nil && !errors.As(err, &rerr) {
		return err // not a provider failure: a setup problem
	}
	for _, a := range tr.Attempts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%v\t%s\t%s\n", turn, cv.id, a.Target, a.Try, a.Status,
			a.Wait.Round(time.Millisecond), a.Class, a.Why())
	}
	if err != nil {
		fmt.Fprintf(tw, "%d\t%s\tfailed: %v\n", turn, cv.id, err)
		cv.served = append(cv.served, "failed")
		return nil
	}
	cv.history = append(cv.history, resp.Choices[0].Message)
	cv.served = append(cv.served, tr.Resolved)
	return nil
}

func allSame(s []string) bool {
	for _, v := range s {
		if v != s[0] {
			return false
		}
	}
	return len(s) > 0
}
