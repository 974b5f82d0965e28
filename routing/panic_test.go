package routing_test

import (
	"context"
	"errors"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

type panicky struct{}

func (panicky) Chat(context.Context, providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	panic("provider bug")
}

func TestProviderPanicIsRecordedAndRepanicked(t *testing.T) {
	var seen []routing.Attempt
	c, err := routing.New(routing.WithProvider("acct", panicky{}),
		routing.WithObserver(routing.ObserverFunc(func(_ context.Context, e routing.Event) {
			seen = append(seen, e.Attempt)
		})),
		routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/m"}},
		}}}}))
	if err != nil {
		t.Fatal(err)
	}
	var tr routing.Trace
	func() {
		defer func() {
			if p := recover(); p != "provider bug" {
				t.Errorf("recovered %v, want the provider's own panic", p)
			}
		}()
		c.Chat(routing.WithTrace(t.Context(), &tr), openai.ChatCompletionRequest{Model: "grp/chat"})
		t.Error("Chat returned; want the provider's panic to reach the caller")
	}()
	if len(tr.Attempts) != 1 || tr.Attempts[0].Class != "panic" || tr.Attempts[0].Target != "acct/m" {
		t.Errorf("trace = %+v, want one panic attempt on acct/m", tr.Attempts)
	}
	if len(seen) != 1 || seen[0].Class != "panic" {
		t.Errorf("observed %+v, want one panic attempt", seen)
	}
}

func TestNilContextIsAnError(t *testing.T) {
	c, err := routing.New(routing.WithProvider("acct", panicky{}),
		routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/m"}},
		}}}}))
	if err != nil {
		t.Fatal(err)
	}
	// A nil context is the input under test.
	if _, err := c.Chat(nil, openai.ChatCompletionRequest{Model: "grp/chat"}); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Chat(nil ctx) = %v, want an error", err)
	}
	if _, err := c.ChatStream(nil, openai.ChatCompletionRequest{Model: "grp/chat"}); err == nil {
		t.Errorf("ChatStream(nil ctx) = %v, want an error", err)
	}
}
