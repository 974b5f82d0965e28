package stores_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/storetest"
)

func TestMemoryLimiterContract(t *testing.T) {
	storetest.RunLimiter(t, func(t *testing.T) stores.Limiter { return stores.NewMemoryLimiter() })
}

func TestZeroMemoryLimiterContract(t *testing.T) {
	storetest.RunLimiter(t, func(t *testing.T) stores.Limiter { return new(stores.MemoryLimiter) })
}

func TestLimiterFuncContract(t *testing.T) {
	storetest.RunLimiter(t, func(t *testing.T) stores.Limiter {
		return stores.LimiterFunc(stores.NewMemoryLimiter().Take)
	})
}

// TestMemoryLimiterRefills moves Take.Now by hand: a budget refills one
// unit every period/limit, never beyond full.
func TestMemoryLimiterRefills(t *testing.T) {
	lim := stores.Limit{Requests: 4, Tokens: 100}
	type step struct {
		at       time.Duration // since epoch
		requests int
		tokens   int
		debt     bool
		want     stores.Taken
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{{
		name: "a request refills every 15s",
		steps: []step{
			{0, 4, 0, false, stores.Taken{Allowed: true}},
			{0, 1, 0, false, stores.Taken{RetryAfter: 15 * time.Second}},
			{10 * time.Second, 1, 0, false, stores.Taken{RetryAfter: 5 * time.Second}},
			{15 * time.Second, 1, 0, false, stores.Taken{Allowed: true}},
			{15 * time.Second, 1, 0, false, stores.Taken{RetryAfter: 15 * time.Second}},
			// After a minute of quiet the budget is full, no more.
			{5 * time.Minute, 4, 0, false, stores.Taken{Allowed: true}},
			{5 * time.Minute, 1, 0, false, stores.Taken{RetryAfter: 15 * time.Second}},
		},
	}, {
		name: "tokens refill at their own rate",
		steps: []step{
			{0, 1, 100, false, stores.Taken{Allowed: true}},
			{0, 1, 50, false, stores.Taken{RetryAfter: 30 * time.Second}},
			{30 * time.Second, 1, 50, false, stores.Taken{Allowed: true}},
			// 200 tokens of debt: the budget is full again a minute
			// later than it would have been, at most.
			{30 * time.Second, 0, 200, true, stores.Taken{Allowed: true}},
			{30 * time.Second, 0, 1, false, stores.Taken{RetryAfter: 60*time.Second + 600*time.Millisecond}},
			{90 * time.Second, 0, 1, false, stores.Taken{RetryAfter: 600 * time.Millisecond}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l := stores.NewMemoryLimiter()
			for i, s := range tc.steps {
				got, err := l.Take(context.Background(), stores.Take{
					Key: "k", Limit: lim, Requests: s.requests, Tokens: s.tokens, Debt: s.debt, Now: epoch.Add(s.at),
				})
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if diff := cmp.Diff(got, s.want); diff != "" {
					t.Fatalf("step %d (%+v) (-got +want):\n%s", i, s, diff)
				}
			}
		})
	}
}

func TestCost(t *testing.T) {
	for _, tc := range []struct {
		amount, limit int
		period        time.Duration
		debt          bool
		want          time.Duration
	}{
		{1, 60, time.Minute, false, time.Second},
		{1, 7, time.Minute, false, 8571428572}, // rounded up, never free
		{0, 60, time.Minute, false, 0},
		{5, 0, time.Minute, false, 0},              // no limit
		{120, 60, time.Minute, false, time.Minute}, // a whole budget at most
		{120, 60, time.Minute, true, 2 * time.Minute},
		{1 << 50, 1, time.Minute, true, 4 * time.Minute}, // bounded
		{-30, 60, time.Minute, false, -30 * time.Second},
	} {
		if got := stores.Cost(tc.amount, tc.limit, tc.period, tc.debt); got != tc.want {
			t.Errorf("Cost(%d, %d, %v, %t) = %v, want %v", tc.amount, tc.limit, tc.period, tc.debt, got, tc.want)
		}
	}
}

func BenchmarkMemoryLimiter(b *testing.B) {
	l := stores.NewMemoryLimiter()
	ctx := context.Background()
	tk := stores.Take{Key: "grp/chat|acct/m", Limit: stores.Limit{Requests: 1 << 40, Tokens: 1 << 40}, Requests: 1, Tokens: 100, Now: epoch}
	b.ReportAllocs()
	for b.Loop() {
		if got, err := l.Take(ctx, tk); err != nil || !got.Allowed {
			b.Fatal(got, err)
		}
	}
}
