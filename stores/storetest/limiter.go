package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmroute/llmroute/stores"
)

// hour is the period of the suite's budgets: long enough that nothing
// refills noticeably while the suite runs, so each answer is exact but
// for RetryAfter, which may be shorter by the time the suite has taken.
const hour = time.Hour

// slack is how much shorter than exact a RetryAfter may be: the time the
// suite takes between Takes on a budget that a server's clock refills.
const slack = 5 * time.Second

// RunLimiter runs the contract suite for [stores.Limiter], one subtest
// each, on limiters made by newLimiter. Each call of newLimiter must
// return a Limiter that shares no budgets with those of other calls.
//
// The suite checks what holds without waiting: bursts up to the budget,
// requests and tokens charged together or not at all, oversized amounts,
// debt, refunds, unlimited amounts, keys kept apart, invalid input and
// concurrent use. Refilling in time is each implementation's own test,
// since only some can move time by hand.
func RunLimiter(t *testing.T, newLimiter func(t *testing.T) stores.Limiter) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(t *testing.T, l stores.Limiter)
	}{
		{"Burst", testBurst},
		{"Together", testTogether},
		{"Oversized", testOversized},
		{"Debt", testDebt},
		{"Refund", testRefund},
		{"NoBanking", testNoBanking},
		{"Unlimited", testUnlimited},
		{"KeysApart", testLimiterKeysApart},
		{"InvalidInput", testLimiterInvalidInput},
		{"Concurrent", testLimiterConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newLimiter(t))
		})
	}
}

func take(t *testing.T, l stores.Limiter, tk stores.Take) stores.Taken {
	t.Helper()
	got, err := l.Take(context.Background(), tk)
	if err != nil {
		t.Fatalf("Take(%+v) error = %v", tk, err)
	}
	return got
}

// wantAllowed checks that tk is allowed.
func wantAllowed(t *testing.T, l stores.Limiter, tk stores.Take) {
	t.Helper()
	if got := take(t, l, tk); !got.Allowed {
		t.Fatalf("Take(%+v) = %+v; want it allowed", tk, got)
	}
}

// wantRefused checks that tk is refused with a RetryAfter of wait, less
// at most slack.
func wantRefused(t *testing.T, l stores.Limiter, tk stores.Take, wait time.Duration) {
	t.Helper()
	got := take(t, l, tk)
	if got.Allowed || got.RetryAfter > wait || got.RetryAfter <= wait-slack || got.RetryAfter <= 0 {
		t.Fatalf("Take(%+v) = %+v; want refused with RetryAfter in (%v, %v]", tk, got, wait-slack, wait)
	}
}

func testBurst(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Requests: 10, Period: hour}
	for i := range 10 {
		if got := take(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1}); !got.Allowed {
			t.Fatalf("request %d of a budget of 10: %+v; want allowed", i+1, got)
		}
	}
	// One request refills every period/10.
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1}, hour/10)
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 3}, 3*hour/10)
	// A refused Take charged nothing: the wait did not grow.
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1}, hour/10)
}

func testTogether(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Requests: 10, Tokens: 1000, Period: hour}
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: 900})
	// The tokens do not fit: the request is not charged either.
	for range 5 {
		wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: 200}, hour/10)
	}
	// Nine requests are left, and 100 tokens.
	for i := range 9 {
		tokens := 0
		if i == 0 {
			tokens = 100
		}
		wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: tokens})
	}
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1}, hour/10)
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour/1000)
}

func testOversized(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Tokens: 1000, Period: hour}
	// More than the whole budget waits for a full one, then spends it.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 5000})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour/1000)
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 5000}, hour)
}

func testDebt(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Tokens: 1000, Period: hour}
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1000})
	// An answer used 500 more than it was charged: the budget is half a
	// period in debt.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 500, Debt: true})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour/2+hour/1000)
	// Debt runs at most one period beyond empty.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1_000_000, Debt: true})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour+hour/1000)
}

func testRefund(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Requests: 5, Tokens: 1000, Period: hour}
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: 1000})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: 100}, hour/10)
	// The answer used 600 of the 1000 charged.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: -400})
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1, Tokens: 400})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour/1000)
	// Giving back tokens gives back no requests: 3 are left.
	for range 3 {
		wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1})
	}
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1}, hour/5)
}

func testNoBanking(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Tokens: 1000, Period: hour}
	// Tokens given back to a full budget are not kept for later.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: -5000})
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1000})
	wantRefused(t, l, stores.Take{Key: "k", Limit: lim, Tokens: 1}, hour/1000)
}

func testUnlimited(t *testing.T, l stores.Limiter) {
	// Tokens are limited, requests are not.
	lim := stores.Limit{Tokens: 10, Period: hour}
	for range 100 {
		wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1})
	}
	// Nothing is limited, or nothing is charged.
	wantAllowed(t, l, stores.Take{Key: "k", Requests: 1_000_000, Tokens: 1_000_000})
	wantAllowed(t, l, stores.Take{Key: "k", Limit: stores.Limit{Requests: 1, Tokens: 1}})
	// A zero Period is a minute.
	minute := stores.Limit{Requests: 2}
	wantAllowed(t, l, stores.Take{Key: "m", Limit: minute, Requests: 2})
	wantRefused(t, l, stores.Take{Key: "m", Limit: minute, Requests: 1}, 30*time.Second)
}

func testLimiterKeysApart(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Requests: 1, Period: hour}
	keys := []string{"k", "K", "k ", "grp/chat|acct/m", "grp/chat|acct/m2", "{k}", "ключ", "k\x00"}
	for _, k := range keys {
		wantAllowed(t, l, stores.Take{Key: k, Limit: lim, Requests: 1})
	}
	for _, k := range keys {
		wantRefused(t, l, stores.Take{Key: k, Limit: lim, Requests: 1}, hour)
	}
}

func testLimiterInvalidInput(t *testing.T, l stores.Limiter) {
	lim := stores.Limit{Requests: 1, Period: hour}
	for _, tk := range []stores.Take{
		{Limit: lim, Requests: 1},
		{Key: "k", Limit: lim, Requests: -1},
		{Key: "k", Limit: stores.Limit{Requests: -1}, Requests: 1},
		{Key: "k", Limit: stores.Limit{Tokens: -1}, Tokens: 1},
		{Key: "k", Limit: stores.Limit{Requests: 1, Period: -time.Second}, Requests: 1},
	} {
		if got, err := l.Take(context.Background(), tk); err == nil {
			t.Errorf("Take(%+v) = %+v, nil; want an error", tk, got)
		}
	}
	// Rejected Takes charged nothing.
	wantAllowed(t, l, stores.Take{Key: "k", Limit: lim, Requests: 1})
}

func testLimiterConcurrent(t *testing.T, l stores.Limiter) {
	const (
		workers = 8
		each    = 20
		budget  = 50
	)
	lim := stores.Limit{Requests: budget, Period: hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := "shared"
				if i%4 == 0 {
					key = fmt.Sprintf("own-%d", w)
				}
				got, err := l.Take(context.Background(), stores.Take{Key: key, Limit: lim, Requests: 1})
				if err != nil {
					errs <- err
					continue
				}
				if got.Allowed && key == "shared" {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := allowed.Load(); got != budget {
		t.Errorf("%d concurrent requests allowed on a budget of %d; want exactly the budget", got, budget)
	}
}
