package redis_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/target"
)

// stickyReplica is one service replica: its own Client and fake provider
// over a Store shared through Redis.
func stickyReplica(t *testing.T, st *redis.Store, events *storeEvents) *routing.Client {
	t.Helper()
	opts := []routing.Option{
		routing.WithProvider("acct", fake.New()),
		routing.WithStore(st),
		routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.WeightBased,
			Sticky: &routing.Sticky{TTL: time.Hour, SessionIdentifiers: []routing.SessionIdentifier{
				{Source: "headers", Key: "x-session-id"},
			}},
			Targets: []target.Target{{Ref: "acct/a", Weight: 50}, {Ref: "acct/b", Weight: 50}},
		}}}}),
	}
	if events != nil {
		opts = append(opts, routing.WithObserver(events))
	}
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type storeEvents struct {
	mu sync.Mutex
	n  int
}

func (e *storeEvents) Observe(_ context.Context, ev routing.Event) {
	if ev.Kind == routing.EventStoreError {
		e.mu.Lock()
		e.n++
		e.mu.Unlock()
	}
}

func (e *storeEvents) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func serve(t *testing.T, c *routing.Client, session string) string {
	t.Helper()
	ctx := routing.WithHeaders(t.Context(), http.Header{"X-Session-Id": {session}})
	resp, err := c.Chat(ctx, openai.ChatCompletionRequest{Model: "grp/chat"})
	if err != nil {
		t.Fatalf("session %s: %v", session, err)
	}
	return resp.Model
}

func TestRoutingReplicasKeepSessionsOnOneTarget(t *testing.T) {
	client := sharedClient(t)
	prefix := uniquePrefix(t, client)
	replicas := []*routing.Client{
		stickyReplica(t, newStore(t, client, redis.WithPrefix(prefix)), nil),
		stickyReplica(t, newStore(t, client, redis.WithPrefix(prefix)), nil),
	}
	perTarget := map[string]int{}
	for s := range 60 {
		session := fmt.Sprintf("conv-%d", s)
		first := serve(t, replicas[0], session)
		perTarget[first]++
		for i := range 10 {
			if got := serve(t, replicas[i%2], session); got != first {
				t.Fatalf("session %s served by %s on replica %d, want %s", session, got, i%2, first)
			}
		}
	}
	if perTarget["a"] == 0 || perTarget["b"] == 0 {
		t.Errorf("sessions per target = %v, want both targets used", perTarget)
	}
}

func TestRoutingSurvivesRedisOutage(t *testing.T) {
	srv := startServer(t)
	client := newClient(t, srv.addr())
	events := &storeEvents{}
	c := stickyReplica(t, newStore(t, client), events)

	serve(t, c, "conv")
	srv.stop()
	// Every call still succeeds, unpinned, and the failure is observed.
	for range 20 {
		serve(t, c, "conv")
	}
	if events.count() == 0 {
		t.Fatal("no store errors observed while Redis was down")
	}
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	// Redis came back empty: the next call pins the session afresh, and
	// from then on it stays put.
	deadline := time.Now().Add(5 * time.Second)
	for client.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("client did not reconnect to the restarted Redis")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := events.count()
	pinned := serve(t, c, "conv")
	for range 20 {
		if got := serve(t, c, "conv"); got != pinned {
			t.Fatalf("after Redis returned, served by %s, want the new pin %s", got, pinned)
		}
	}
	if events.count() != before {
		t.Errorf("%d store errors after Redis returned, want 0", events.count()-before)
	}
}
