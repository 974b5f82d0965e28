package routing_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// healthLog collects EventHealth and EventHealthStoreError events of one
// replica.
type healthLog struct {
	mu  sync.Mutex
	got []string
}

func (h *healthLog) Observe(_ context.Context, e routing.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e.Kind {
	case routing.EventHealth:
		h.got = append(h.got, e.Target+" "+e.Health.String())
	case routing.EventHealthStoreError:
		h.got = append(h.got, "store error")
	}
}

func (h *healthLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.got
	h.got = nil
	return out
}

// fleet is n replicas of a service: each its own Client over the same
// upstream p, sharing hs; grp/chat routes by priority to "primary", then
// "backup", with no retries.
func fleet(t *testing.T, n int, p *fake.Provider, hs stores.HealthStore) ([]*routing.Client, []*healthLog) {
	t.Helper()
	rc := corePriority(
		target.Target{Ref: coreRef("primary"), Retry: &target.Retry{}},
		target.Target{Ref: coreRef("backup"), Retry: &target.Retry{}},
	)
	var cs []*routing.Client
	var logs []*healthLog
	for range n {
		log := &healthLog{}
		opts := []routing.Option{routing.WithObserver(log), routing.WithProbeCooldown(10 * time.Second)}
		if hs != nil {
			opts = append(opts, routing.WithSharedHealth(hs))
		}
		cs = append(cs, limitClient(t, p, rc, opts...))
		logs = append(logs, log)
	}
	return cs, logs
}

// first returns the first attempt of a call on c, "target reason".
func first(t *testing.T, c *routing.Client) string {
	t.Helper()
	ctx, tr := coreTraced(t.Context())
	if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	a := tr.Attempts[0]
	return a.Target + " " + a.Reason.String()
}

func TestSharedHealthDemotesForTheFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		p.Script("primary", fake.Fail(503))
		cs, logs := fleet(t, 3, p, stores.NewMemory())
		// One failure on each of two replicas: two in the fleet, which
		// demote the primary for all three, reported once.
		first(t, cs[0])
		first(t, cs[1])
		if diff := cmp.Diff(logs[1].take(), []string{coreRef("primary") + " demoted"}); diff != "" {
			t.Errorf("replica 1 events (-got +want):\n%s", diff)
		}
		for i, c := range cs {
			if got := first(t, c); got != coreRef("backup")+" picked" {
				t.Errorf("replica %d first tried %s; want the backup, the primary demoted", i, got)
			}
		}
		if n := p.CallCount("primary"); n != 2 {
			t.Errorf("primary sent %d requests, want the 2 that demoted it", n)
		}
		for i, l := range []*healthLog{logs[0], logs[2]} {
			if got := l.take(); len(got) != 0 {
				t.Errorf("replica %d events %v; want the demotion reported once, by replica 1", []int{0, 2}[i], got)
			}
		}
	})
}

func TestSharedHealthProbesOncePerCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		p.Script("primary", fake.Fail(503))
		cs, logs := fleet(t, 4, p, stores.NewMemory())
		first(t, cs[0])
		first(t, cs[0]) // demoted
		for round := range 3 {
			time.Sleep(10 * time.Second)
			// Every replica is due a probe; one wins the claim.
			var probes []int
			for i, c := range cs {
				if got := first(t, c); got == coreRef("primary")+" probe" {
					probes = append(probes, i)
				}
			}
			if len(probes) != 1 {
				t.Fatalf("round %d: replicas %v probed the primary; want exactly one", round, probes)
			}
		}
		if n := p.CallCount("primary"); n != 2+3 {
			t.Errorf("primary sent %d requests in 30s of outage, want 2 to detect and one probe per 10s cooldown", n)
		}
		// The primary heals; the next probe finds it, and every replica
		// sends to it again.
		p.Script("primary", fake.Reply("ok"))
		time.Sleep(10 * time.Second)
		var recovered []string
		for i, c := range cs {
			first(t, c)
			for _, e := range logs[i].take() {
				if e == coreRef("primary")+" recovered" {
					recovered = append(recovered, e)
				}
			}
		}
		if len(recovered) != 1 {
			t.Errorf("recoveries reported %v; want exactly one, by the replica that probed", recovered)
		}
		for i, c := range cs {
			if got := first(t, c); got != coreRef("primary")+" picked" {
				t.Errorf("after the recovery replica %d first tried %s; want the primary", i, got)
			}
		}
	})
}

// A replica that has not been called since the fleet demoted a target,
// and one whose record expired, see the state of the store, not their
// own.
func TestSharedHealthRecordExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		p.Script("primary", fake.Fail(503).Times(2), fake.Reply("ok"))
		hs := stores.NewMemory()
		cs, _ := fleet(t, 2, p, hs)
		first(t, cs[0])
		first(t, cs[0])
		// No replica renews the record: it expires at the end of the
		// failure window, whatever probes would have done.
		time.Sleep(strategy.DefaultFailureWindow)
		if got := first(t, cs[1]); got != coreRef("primary")+" picked" {
			t.Errorf("after the window, first tried %s; want the primary", got)
		}
	})
}

func TestSharedHealthStoreFailureFallsBackToLocal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		p.Script("primary", fake.Fail(503))
		hs := &failingHealth{HealthStore: stores.NewMemory()}
		hs.fail.Store(true)
		cs, logs := fleet(t, 1, p, hs)
		c, log := cs[0], logs[0]
		first(t, c)
		first(t, c)
		// Local health demoted it: the replica judges on its own.
		if got := first(t, c); got != coreRef("backup")+" picked" {
			t.Errorf("first tried %s; want the backup, the primary demoted locally", got)
		}
		got := log.take()
		if diff := cmp.Diff(got, []string{"store error", coreRef("primary") + " demoted"}); diff != "" {
			t.Errorf("events (-got +want):\n%s", diff)
		}
		// The store is back: what it says wins. It has no record, so
		// the primary is healthy for the fleet.
		hs.fail.Store(false)
		time.Sleep(time.Second)
		p.Script("primary", fake.Reply("ok"))
		if got := first(t, c); got != coreRef("primary")+" picked" {
			t.Errorf("with the store back, first tried %s; want the primary", got)
		}
	})
}

// failingHealth is a HealthStore that fails while fail is set.
type failingHealth struct {
	stores.HealthStore
	fail atomicBool
}

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) Store(v bool) { b.mu.Lock(); b.v = v; b.mu.Unlock() }
func (b *atomicBool) Load() bool   { b.mu.Lock(); defer b.mu.Unlock(); return b.v }

var errStoreDown = errors.New("health store unreachable")

func (f *failingHealth) LoadHealth(ctx context.Context, q stores.HealthQuery) (stores.HealthState, error) {
	if f.fail.Load() {
		return stores.HealthState{}, errStoreDown
	}
	return f.HealthStore.LoadHealth(ctx, q)
}

func (f *failingHealth) ReportHealth(ctx context.Context, r stores.HealthReport) (stores.HealthResult, error) {
	if f.fail.Load() {
		return stores.HealthResult{}, errStoreDown
	}
	return f.HealthStore.ReportHealth(ctx, r)
}

func (f *failingHealth) ClaimProbe(ctx context.Context, c stores.ProbeClaim) (stores.ProbeResult, error) {
	if f.fail.Load() {
		return stores.ProbeResult{}, errStoreDown
	}
	return f.HealthStore.ClaimProbe(ctx, c)
}
