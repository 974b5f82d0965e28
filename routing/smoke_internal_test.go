package routing_test

import (
	"context"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

func TestSmoke(t *testing.T) {
	f := fake.New()
	f.Script("a", fake.Fail(503).Times(3))
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(routing.Group{
		Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/a"}, {Ref: "acct/b", Priority: 1}},
		}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	var tr routing.Trace
	resp, err := c.Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{Model: "grp/chat"})
	t.Logf("%+v %v", resp.Model, err)
	for _, a := range tr.Attempts {
		t.Logf("%+v", a)
	}
	st, err := c.ChatStream(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{Model: "grp/chat"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		ch, err := st.Recv()
		if err != nil {
			t.Log(err)
			break
		}
		t.Logf("%+v", ch)
	}
	for _, a := range tr.Attempts {
		t.Logf("%+v", a)
	}
}
