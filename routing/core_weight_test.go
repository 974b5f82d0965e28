package routing_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// TestWeightedShares sends many calls through weight-based routing and
// checks each target's share of first picks. With n calls, a target of
// share p serves Binomial(n, p) calls: mean n·p, standard deviation
// σ = sqrt(n·p·(1−p)). The tolerance is 5σ (for 90/10 over 10,000 calls:
// 1000 ± 150), which a correct router misses with probability below 1e-6;
// the seed is fixed anyway, so the test is deterministic.
func TestWeightedShares(t *testing.T) {
	const n = 10000
	tests := []struct {
		name    string
		weights []int
	}{
		{"90/10", []int{90, 10}},
		{"50/50", []int{50, 50}},
		{"70/20/10", []int{70, 20, 10}},
		{"weights need not sum to 100", []int{3, 1}},
	}
	names := []string{"m0", "m1", "m2"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			ts := make([]target.Target, len(tt.weights))
			total := 0
			for i, w := range tt.weights {
				ts[i] = target.Target{Ref: coreRef(names[i]), Weight: w}
				total += w
			}
			rng := rand.New(rand.NewPCG(1, 2))
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(rng.Float64),
				routing.WithGroup(coreGroup(coreWeighted(ts...))))
			for i := range n {
				if _, err := c.Chat(context.Background(), coreReq(coreModel)); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			for i, w := range tt.weights {
				p := float64(w) / float64(total)
				mean, sigma := n*p, math.Sqrt(n*p*(1-p))
				got := f.CallCount(names[i])
				if math.Abs(float64(got)-mean) > 5*sigma {
					t.Errorf("%s (weight %d) served %d of %d calls, want %.0f ± %.0f (5σ)", names[i], w, got, n, mean, 5*sigma)
				}
			}
		})
	}
}

// TestWeightZero checks that a weight-0 target is never picked first while
// a weighted target is eligible, and that it still serves as a fallback.
func TestWeightZero(t *testing.T) {
	rc := coreWeighted(
		target.Target{Ref: coreRef("main"), Weight: 100},
		target.Target{Ref: coreRef("spare"), Weight: 0},
	)
	t.Run("never first", func(t *testing.T) {
		f := fake.New()
		// The extremes of the random source first, then the default one.
		for _, r := range []float64{0, 0.5, 0.999999} {
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(coreRand(r)), routing.WithGroup(coreGroup(rc)))
			if _, err := c.Chat(context.Background(), coreReq(coreModel)); err != nil {
				t.Fatal(err)
			}
		}
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
		for range 1000 {
			if _, err := c.Chat(context.Background(), coreReq(coreModel)); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.CallCount("spare"); got != 0 {
			t.Errorf("weight-0 target served %d calls first, want 0", got)
		}
	})
	t.Run("fallback", func(t *testing.T) {
		f := fake.New()
		f.Script("main", fake.Fail(500))
		spare := target.Target{Ref: coreRef("spare")}
		main := target.Target{Ref: coreRef("main"), Weight: 100, Retry: &target.Retry{Attempts: 0}}
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(coreWeighted(main, spare))))
		ctx, tr := coreTraced(context.Background())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Model != "spare" {
			t.Errorf("served by %q, want spare", resp.Model)
		}
		want := []coreTry{
			{Target: "acct/main", Try: 1, Status: 500, Class: "fallback", Reason: "picked"},
			{Target: "acct/spare", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
		}
		if diff := cmp.Diff(coreTries(tr), want); diff != "" {
			t.Errorf("attempts (-got +want):\n%s", diff)
		}
	})
}

// TestWeightedFallbackOrder checks that fallbacks are further weighted
// draws without replacement: with three targets and the first failing,
// the second try goes to one of the two others, never again to the first,
// and every target is tried at most once.
//
// The failures are 404s: they fall back by default but say nothing about
// a target's health, so no target is ever demoted and every
// call's order is the strategy's alone.
func TestWeightedFallbackOrder(t *testing.T) {
	f := fake.New()
	f.Script(fake.AnyModel, fake.Fail(404))
	noRetry := &target.Retry{Attempts: 0}
	rc := coreWeighted(
		target.Target{Ref: coreRef("a"), Weight: 60, Retry: noRetry},
		target.Target{Ref: coreRef("b"), Weight: 30, Retry: noRetry},
		target.Target{Ref: coreRef("c"), Weight: 10, Retry: noRetry},
	)
	rng := rand.New(rand.NewPCG(3, 4))
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(rng.Float64), routing.WithGroup(coreGroup(rc)))
	firsts := map[string]int{}
	for range 2000 {
		ctx, tr := coreTraced(context.Background())
		_, err := c.Chat(ctx, coreReq(coreModel))
		if got := coreStatus(err); got != 404 {
			t.Fatalf("status %d (%v), want 404", got, err)
		}
		seen := map[string]bool{}
		for i, a := range tr.Attempts {
			if seen[a.Target] {
				t.Fatalf("target %s tried twice in one call: %+v", a.Target, coreTries(tr))
			}
			seen[a.Target] = true
			wantReason := "fallback"
			if i == 0 {
				wantReason = "picked"
				firsts[a.Target]++
			}
			if a.Reason.String() != wantReason {
				t.Errorf("attempt %d reason %s, want %s", i, a.Reason, wantReason)
			}
		}
		if len(tr.Attempts) != 3 {
			t.Fatalf("%d attempts, want 3 (each target once)", len(tr.Attempts))
		}
	}
	// Binomial(2000, 0.6): 1200 ± 110 (5σ).
	if got := firsts["acct/a"]; got < 1090 || got > 1310 {
		t.Errorf("acct/a first in %d of 2000 calls, want 1200 ± 110", got)
	}
}
