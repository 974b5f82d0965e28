package routing_test

import (
	"errors"
	"testing"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

func TestFallbackErrorCodes(t *testing.T) {
	for _, listed := range []bool{true, false} {
		f := fake.New()
		f.Script("short", fake.Fail(400).WithCode("context_length_exceeded").WithMessage("maximum context length is 8192 tokens"))
		f.Script("long", fake.Reply("summary of the long document"))
		primary := target.Target{Ref: "acct/short"}
		if listed {
			primary.FallbackErrorCodes = []string{"context_length_exceeded"}
		}
		c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type: routing.PriorityBased, Targets: []target.Target{primary, {Ref: "acct/long", Priority: 1}},
			}}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Chat(t.Context(), chatReq())
		if listed {
			if err != nil || resp.Model != "long" {
				t.Errorf("listed: got %q, %v; want the longer-context model to answer", resp.Model, err)
			}
		} else {
			var sc interface{ StatusCode() int }
			if !errors.As(err, &sc) || sc.StatusCode() != 400 || f.CallCount("long") != 0 {
				t.Errorf("not listed: got %v; want the 400 returned at once, no fallback", err)
			}
		}
		if n := f.CallCount("short"); n != 1 {
			t.Errorf("listed=%v: the refusing model was called %d times, want once", listed, n)
		}
	}
}
