package routing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/target"
)

// stickyGroup is a 50/50 weight-based model pinned by the x-session-id
// header and the "user" metadata key.
func stickyGroup() routing.Group {
	return routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
		Type: routing.WeightBased,
		Sticky: &routing.Sticky{TTL: time.Hour, SessionIdentifiers: []routing.SessionIdentifier{
			{Source: "headers", Key: "x-session-id"},
			{Source: "metadata", Key: "user"},
		}},
		Targets: []target.Target{{Ref: "acct/a", Weight: 50}, {Ref: "acct/b", Weight: 50}},
	}}}}
}

func sessionCtx(ctx context.Context, session, user string) context.Context {
	ctx = routing.WithHeaders(ctx, http.Header{"X-Session-Id": {session}})
	return metadata.NewContext(ctx, metadata.MD{"user": user})
}

func servedBy(t *testing.T, c *routing.Client, ctx context.Context) string {
	t.Helper()
	resp, err := c.Chat(ctx, chatReq())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Model
}

func TestStickySessionStaysOnOneTarget(t *testing.T) {
	f := fake.New()
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(stickyGroup()),
		routing.WithRand(routing.SeededRand(1)))
	if err != nil {
		t.Fatal(err)
	}
	perTarget := map[string]int{}
	const sessions = 400
	for s := range sessions {
		ctx := sessionCtx(t.Context(), fmt.Sprintf("s-%d", s), "u")
		first := servedBy(t, c, ctx)
		for range 20 {
			if got := servedBy(t, c, ctx); got != first {
				t.Fatalf("session %d moved from %s to %s", s, first, got)
			}
		}
		perTarget[first]++
	}
	// Binomial(400, 0.5): sd = 10, so 160..240 is four standard deviations.
	for _, m := range []string{"a", "b"} {
		if n := perTarget[m]; n < 160 || n > 240 {
			t.Errorf("%d of %d sessions on %s, want about half", n, sessions, m)
		}
	}
}

func TestStickyMissingIdentifierIsNotPinned(t *testing.T) {
	store := stores.NewMemory()
	f := fake.New()
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(stickyGroup()), routing.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	// The header is there, the metadata key is not.
	ctx := routing.WithHeaders(t.Context(), http.Header{"X-Session-Id": {"s"}})
	seen := map[string]bool{}
	for range 200 {
		seen[servedBy(t, c, ctx)] = true
	}
	if len(seen) != 2 {
		t.Errorf("targets seen without a full session key = %v, want both", seen)
	}
	if n := store.Len(); n != 0 {
		t.Errorf("store holds %d pins, want 0", n)
	}
}

func TestStickyPinMovesToFallback(t *testing.T) {
	f := fake.New()
	store := stores.NewMemory()
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(stickyGroup()), routing.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx := sessionCtx(t.Context(), "s-1", "u")
	first := servedBy(t, c, ctx)
	other := map[string]string{"a": "b", "b": "a"}[first]
	// The pinned target now fails with a fallback status, without retries
	// worth waiting for: 401 is not retried.
	f.Script(first, fake.Fail(401))
	if got := servedBy(t, c, ctx); got != other {
		t.Fatalf("served by %s after the pinned target failed, want %s", got, other)
	}
	f.Script(first, fake.Reply("back"))
	for range 10 {
		if got := servedBy(t, c, ctx); got != other {
			t.Fatalf("served by %s, want the new pin %s", got, other)
		}
	}
	p, ok, err := store.GetPin(t.Context(), stores.SessionKey("grp/chat", []string{"s-1", "u"}), 0)
	if err != nil || !ok || p.Target != "acct/"+other {
		t.Errorf("pin = %+v, %v, %v; want acct/%s", p, ok, err, other)
	}
}

func TestStickyStoreFailureNeverFailsACall(t *testing.T) {
	broken := errors.New("store down")
	var mu sync.Mutex
	var events []routing.Event
	f := fake.New()
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(stickyGroup()),
		routing.WithStore(stores.Funcs{
			GetPinFunc: func(context.Context, string, time.Duration) (stores.Pin, bool, error) {
				return stores.Pin{}, false, broken
			},
			SetPinFunc: func(context.Context, string, stores.Pin, time.Duration) error { return broken },
		}),
		routing.WithObserver(routing.ObserverFunc(func(_ context.Context, e routing.Event) {
			if e.Kind == routing.EventStoreError {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
		})))
	if err != nil {
		t.Fatal(err)
	}
	ctx := sessionCtx(t.Context(), "s", "u")
	for range 5 {
		servedBy(t, c, ctx)
	}
	// Each call reports the failed lookup and the failed pin.
	if len(events) != 10 {
		t.Fatalf("got %d store events, want 10", len(events))
	}
	if !errors.Is(events[0].Err, broken) || events[0].Model != "grp/chat" {
		t.Errorf("event = %+v, want the store's error for grp/chat", events[0])
	}
}

func TestStickySharedStoreAcrossClients(t *testing.T) {
	store := stores.NewMemory()
	newClient := func(seed uint64) *routing.Client {
		c, err := routing.New(routing.WithProvider("acct", fake.New()), routing.WithGroup(stickyGroup()),
			routing.WithStore(store), routing.WithRand(routing.SeededRand(seed)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	replicas := []*routing.Client{newClient(1), newClient(2), newClient(3)}
	for s := range 50 {
		ctx := sessionCtx(t.Context(), fmt.Sprintf("s-%d", s), "u")
		first := servedBy(t, replicas[0], ctx)
		for i := range 30 {
			if got := servedBy(t, replicas[i%3], ctx); got != first {
				t.Fatalf("session %d served by %s on replica %d, want %s", s, got, i%3, first)
			}
		}
	}
}

func TestStickyStreamsPinToo(t *testing.T) {
	f := fake.New()
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(stickyGroup()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := sessionCtx(t.Context(), "s", "u")
	first := servedBy(t, c, ctx)
	for range 20 {
		st, err := c.ChatStream(ctx, chatReq())
		if err != nil {
			t.Fatal(err)
		}
		_, models, _ := drain(st)
		st.Close()
		if len(models) != 1 || models[0] != first {
			t.Fatalf("stream served by %v, want the pinned %s", models, first)
		}
	}
}

func TestStickyHeaderKeyInAnyCase(t *testing.T) {
	store := stores.NewMemory()
	c, err := routing.New(routing.WithProvider("acct", fake.New()), routing.WithGroup(stickyGroup()), routing.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Header{{"X-Session-Id": {"s"}}, {"x-session-id": {"s"}}} {
		ctx := metadata.NewContext(routing.WithHeaders(t.Context(), h), metadata.MD{"user": "u"})
		servedBy(t, c, ctx)
	}
	if n := store.Len(); n != 1 {
		t.Errorf("store holds %d pins for one session spelled two ways, want 1", n)
	}
}

func TestStickyPinFindsItsTarget(t *testing.T) {
	// A pin written elsewhere (another replica, a Store that copies
	// strings) names its target with a string of its own: each target is
	// found by name, in a small model and in one with many targets. A
	// pin naming a target the model no longer has is ignored, and moved.
	for _, n := range []int{2, 8, 9, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := stickyGroup()
			rc := &g.Models[0].Routing
			rc.Targets = nil
			for i := range n {
				rc.Targets = append(rc.Targets, target.Target{Ref: fmt.Sprintf("acct/t%d", i), Weight: 1})
			}
			store := stores.NewMemory()
			c, err := routing.New(routing.WithProvider("acct", fake.New()), routing.WithGroup(g), routing.WithStore(store))
			if err != nil {
				t.Fatal(err)
			}
			pinTo := func(session, ref string) {
				t.Helper()
				key := stores.SessionKey("grp/chat", []string{session, "u"})
				if err := store.SetPin(t.Context(), key, stores.Pin{Target: ref}, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				session := fmt.Sprintf("s-%d", i)
				pinTo(session, fmt.Sprintf("acct/t%d", i))
				if got, want := servedBy(t, c, sessionCtx(t.Context(), session, "u")), fmt.Sprintf("t%d", i); got != want {
					t.Errorf("session pinned to %s served by %s", want, got)
				}
			}
			pinTo("gone", "acct/t-gone")
			ctx := sessionCtx(t.Context(), "gone", "u")
			first := servedBy(t, c, ctx)
			for range 5 {
				if got := servedBy(t, c, ctx); got != first {
					t.Fatalf("session pinned to a missing target moved from %s to %s", first, got)
				}
			}
		})
	}
}
