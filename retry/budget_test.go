package retry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/llmroute/llmroute/retry"
)

func TestBudgetAllowsAShareOfCallsPlusAFloor(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	b := retry.NewBudget(20, 1) // 20% of calls + 10 over the 10 s window
	for i := range 100 {
		b.Call(t0.Add(time.Duration(i) * 10 * time.Millisecond))
	}
	got := 0
	for b.Retry(t0.Add(time.Second)) {
		got++
		if got > 1000 {
			t.Fatal("the budget never ran out")
		}
	}
	if want := 20 + 10; got != want {
		t.Errorf("retries allowed after 100 calls = %d, want %d", got, want)
	}
	// Calls and retries age out of the window together: 11 s later the
	// floor alone is there again.
	later := t0.Add(11 * time.Second)
	got = 0
	for b.Retry(later) {
		got++
	}
	if got != 10 {
		t.Errorf("retries allowed once the window passed = %d, want the floor, 10", got)
	}
}

func TestBudgetDefaultsAndZeroFloor(t *testing.T) {
	t0 := time.Unix(2_000_000, 0)
	b := retry.NewBudget(0, 0) // default percent, no floor
	if b.Retry(t0) {
		t.Error("a budget with no floor and no calls allowed a retry")
	}
	for range 10 {
		b.Call(t0)
	}
	if !b.Retry(t0) || !b.Retry(t0) || b.Retry(t0) {
		t.Error("10 calls at the default 20% should allow exactly 2 retries")
	}
}

func TestBudgetConcurrentUse(t *testing.T) {
	t0 := time.Unix(3_000_000, 0)
	b := retry.NewBudget(50, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				now := t0.Add(time.Duration(g*1000+i) * time.Microsecond)
				b.Call(now)
				if b.Retry(now) {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// Each retry needs two calls before it: however the goroutines
	// race, never more than half the calls are retried.
	if allowed > 4000 || allowed < 3900 {
		t.Errorf("allowed %d retries for 8000 calls at 50%%, want about 4000 and never more", allowed)
	}
}

func BenchmarkBudgetCall(b *testing.B) {
	bud := retry.NewBudget(20, 1)
	now := time.Unix(4_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		bud.Call(now)
	}
}

func TestBudgetBefore1970(t *testing.T) {
	// A virtual clock may start anywhere; a negative Unix second must
	// find its slot like any other.
	t0 := time.Unix(-5, 0)
	b := retry.NewBudget(50, 0)
	for range 4 {
		b.Call(t0)
	}
	if !b.Retry(t0) || !b.Retry(t0) || b.Retry(t0) {
		t.Error("4 calls at 50% before 1970 should allow exactly 2 retries")
	}
}

func TestBudgetWindowAcross1970(t *testing.T) {
	// Calls in every second from -1 to 8 all sit in one 10-second
	// window: each second must count in a slot of its own, or second 5
	// takes the slot of second -1 and its count is lost.
	b := retry.NewBudget(50, 0)
	for sec := int64(-1); sec <= 8; sec++ {
		b.Call(time.Unix(sec, 0))
	}
	// 10 calls at 50%: exactly 5 retries at second 8.
	at := time.Unix(8, 0)
	for i := range 5 {
		if !b.Retry(at) {
			t.Fatalf("retry %d refused; want 5 retries for 10 calls across second 0", i+1)
		}
	}
	if b.Retry(at) {
		t.Error("a 6th retry was allowed for 10 calls at 50%")
	}
}
