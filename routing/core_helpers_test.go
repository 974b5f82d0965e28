package routing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// Names shared by the core tests: one provider account "acct" holding
// fake models, one group "grp" with a chat model "chat". Every helper of
// these files starts with "core" so that other test files of the package
// can pick their own names freely.
const (
	coreAcct  = "acct"
	coreGrp   = "grp"
	coreModel = "grp/chat"
)

// coreClient builds a Client or fails the test.
func coreClient(t testing.TB, opts ...routing.Option) *routing.Client {
	t.Helper()
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	return c
}

// coreGroup is group "grp" with one chat model "chat" routed by rc.
func coreGroup(rc routing.RoutingConfig) routing.Group {
	return routing.Group{Name: coreGrp, Models: []routing.VirtualModel{{Name: "chat", Routing: rc}}}
}

// corePriority returns priority-based routing over ts; when every
// Priority is zero, each target gets its index as priority.
func corePriority(ts ...target.Target) routing.RoutingConfig {
	set := false
	for _, t := range ts {
		set = set || t.Priority != 0
	}
	if !set {
		for i := range ts {
			ts[i].Priority = i
		}
	}
	return routing.RoutingConfig{Type: routing.PriorityBased, Targets: ts}
}

// coreWeighted returns weight-based routing over ts.
func coreWeighted(ts ...target.Target) routing.RoutingConfig {
	return routing.RoutingConfig{Type: routing.WeightBased, Targets: ts}
}

// coreRef is the target "acct/<m>".
func coreRef(m string) string { return coreAcct + "/" + m }

// coreReq is a minimal chat request for the virtual model name.
func coreReq(name string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:    name,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello there"}},
	}
}

// coreRand is a random source that always returns r.
func coreRand(r float64) func() float64 { return func() float64 { return r } }

// coreTry is the part of a Trace attempt that tests compare whole; times
// and errors are checked separately.
type coreTry struct {
	Target          string
	Try             int
	Status          int
	Class           string
	Reason          string
	Retry, Fallback bool
}

// coreTries returns the comparable part of every attempt in tr.
func coreTries(tr *routing.Trace) []coreTry {
	out := make([]coreTry, len(tr.Attempts))
	for i, a := range tr.Attempts {
		out[i] = coreTry{
			Target: a.Target, Try: a.Try, Status: a.Status, Class: a.Class,
			Reason: a.Reason.String(), Retry: a.Retry, Fallback: a.Fallback,
		}
	}
	return out
}

// coreWaits returns the Wait of every attempt in tr.
func coreWaits(tr *routing.Trace) []time.Duration {
	out := make([]time.Duration, len(tr.Attempts))
	for i, a := range tr.Attempts {
		out[i] = a.Wait
	}
	return out
}

// coreTraced returns ctx carrying a fresh Trace.
func coreTraced(ctx context.Context) (context.Context, *routing.Trace) {
	tr := new(routing.Trace)
	return routing.WithTrace(ctx, tr), tr
}

// coreStatus returns the final upstream status err offers errors.As, or
// 0 when it offers none.
func coreStatus(err error) int {
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		return sc.StatusCode()
	}
	return 0
}
