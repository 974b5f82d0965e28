package redis_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/target"
)

// stickyGroup is a 50/50 weight-based model pinned by x-session-id.
func stickyGroup() routing.Group {
	return routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
		Type: routing.WeightBased,
		Sticky: &routing.Sticky{TTL: time.Hour, SessionIdentifiers: []routing.SessionIdentifier{
			{Source: "headers", Key: "x-session-id"},
		}},
		Targets: []target.Target{{Ref: "acct/a", Weight: 50}, {Ref: "acct/b", Weight: 50}},
	}}}}
}

// stickyReplica is one service replica: its own Client and fake provider
// over a Store shared through Redis (or its own memory store when st is
// nil).
func stickyReplica(tb testing.TB, st stores.Store, events *storeEvents) *routing.Client {
	tb.Helper()
	opts := []routing.Option{routing.WithProvider("acct", fake.New()), routing.WithGroup(stickyGroup())}
	if st != nil {
		opts = append(opts, routing.WithStore(st))
	}
	if events != nil {
		opts = append(opts, routing.WithObserver(events))
	}
	c, err := routing.New(opts...)
	if err != nil {
		tb.Fatal(err)
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
	// A pool larger than the dial failures of the outage keeps go-redis
	// from starting its background redialer, which would outlive the
	// client by up to a second.
	client := goredis.NewClient(&goredis.Options{
		Addr: srv.addr(), ContextTimeoutEnabled: true, MaxRetries: 1, PoolSize: 1000,
	})
	t.Cleanup(func() { _ = client.Close() })
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

// countHook counts the commands a go-redis client sends.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestRoutingOneRoundTripPerStickyCall(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := uniquePrefix(t, client)
	hook := &countHook{}
	client.AddHook(hook)
	c := stickyReplica(t, newStore(t, client, redis.WithPrefix(prefix)), nil)
	serve(t, c, "conv") // a miss, then the pin is set: two commands
	before := hook.n.Load()
	const calls = 50
	for range calls {
		serve(t, c, "conv")
	}
	if got := hook.n.Load() - before; got != calls {
		t.Errorf("%d Redis commands for %d pinned calls, want one each", got, calls)
	}
}

// BenchmarkRoutingSticky is a pinned call through a Client whose pins live
// in Redis (one GETEX round trip), against the in-memory store, on a
// provider that answers at once.
func BenchmarkRoutingSticky(b *testing.B) {
	client := sharedClient(b)
	prefix := uniquePrefix(b, client)
	ctx := routing.WithHeaders(context.Background(), http.Header{"X-Session-Id": {"conv"}})
	req := openai.ChatCompletionRequest{Model: "grp/chat"}
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			opts := []routing.Option{routing.WithProvider("acct", nopChat{}), routing.WithGroup(stickyGroup())}
			if name == "redis" {
				opts = append(opts, routing.WithStore(newStore(b, client, redis.WithPrefix(prefix))))
			}
			c, err := routing.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nopChat answers at once and keeps nothing, so a benchmark measures
// routing and the Store alone.
type nopChat struct{}

func (nopChat) Chat(_ context.Context, r providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	return openai.ChatCompletionResponse{Model: r.Request.Model}, nil
}
