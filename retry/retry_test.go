package retry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/target"
)

// defaultPolicy is the policy of a target that sets no retry or fallback
// rules: 2 retries, 100 ms, on 429/500/502/503; fallback on
// 401/403/404/429/500/502/503.
func defaultPolicy() retry.Policy {
	var t target.Target
	return retry.NewPolicy(t.RetryOrDefault(), t.FallbackCodesOrDefault())
}

func TestClassify(t *testing.T) {
	def := defaultPolicy()
	custom := retry.NewPolicy(target.Retry{Attempts: 1, Delay: time.Second, OnStatusCodes: []int{408, 500}}, []int{400})
	none := retry.NewPolicy(target.Retry{Attempts: 3, OnStatusCodes: []int{}}, []int{})
	tests := []struct {
		name   string
		policy retry.Policy
		status int
		try    int
		want   retry.Decision
	}{
		{"429 first try retries", def, 429, 1, retry.Again},
		{"500 first try retries", def, 500, 1, retry.Again},
		{"502 second try retries", def, 502, 2, retry.Again},
		{"503 second try retries", def, 503, 2, retry.Again},
		{"503 after the last try falls back", def, 503, 3, retry.Fallback},
		{"429 after the last try falls back", def, 429, 3, retry.Fallback},
		{"past the last try still falls back", def, 500, 9, retry.Fallback},
		{"401 falls back at once", def, 401, 1, retry.Fallback},
		{"403 falls back at once", def, 403, 1, retry.Fallback},
		{"404 falls back at once", def, 404, 1, retry.Fallback},
		{"408 always falls back, never retried by default", def, 408, 1, retry.Fallback},
		{"400 stops", def, 400, 1, retry.Stop},
		{"422 stops", def, 422, 1, retry.Stop},
		{"504 is not a default code: stops", def, 504, 1, retry.Stop},
		{"status 0 stops", def, 0, 1, retry.Stop},
		{"custom: 408 listed is retried", custom, 408, 1, retry.Again},
		{"custom: 408 after the last try falls back", custom, 408, 2, retry.Fallback},
		{"custom: 500 retried once", custom, 500, 1, retry.Again},
		{"custom: 500 not listed for fallback stops", custom, 500, 2, retry.Stop},
		{"custom: 503 not listed at all stops", custom, 503, 1, retry.Stop},
		{"custom: 400 listed falls back", custom, 400, 1, retry.Fallback},
		{"none: 503 stops", none, 503, 1, retry.Stop},
		{"none: 408 still falls back", none, 408, 1, retry.Fallback},
		{"zero Policy: 503 stops", retry.Policy{}, 503, 1, retry.Stop},
		{"zero Policy: 408 falls back", retry.Policy{}, 408, 1, retry.Fallback},
		{"out-of-range status stops", def, 5000, 1, retry.Stop},
		{"negative status stops", def, -1, 1, retry.Stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Classify(tt.status, tt.try); got != tt.want {
				t.Errorf("Classify(%d, %d) = %v, want %v", tt.status, tt.try, got, tt.want)
			}
		})
	}
}

func TestPolicyQueries(t *testing.T) {
	p := defaultPolicy()
	if got := p.Tries(); got != 3 {
		t.Errorf("Tries() = %d, want 3", got)
	}
	var got []int
	for s := 100; s < 600; s++ {
		if p.Retries(s) {
			got = append(got, s)
		}
	}
	if diff := cmp.Diff(got, []int{429, 500, 502, 503}); diff != "" {
		t.Errorf("Retries (-got +want):\n%s", diff)
	}
	got = got[:0]
	for s := 100; s < 600; s++ {
		if p.FallsBack(s) {
			got = append(got, s)
		}
	}
	if diff := cmp.Diff(got, []int{401, 403, 404, 408, 429, 500, 502, 503}); diff != "" {
		t.Errorf("FallsBack (-got +want):\n%s", diff)
	}
}

func TestDecisionString(t *testing.T) {
	got := []string{retry.Stop.String(), retry.Again.String(), retry.Fallback.String(), retry.Decision(9).String()}
	if diff := cmp.Diff(got, []string{"stop", "retry", "fallback", "unknown"}); diff != "" {
		t.Errorf("String (-got +want):\n%s", diff)
	}
}

// rMax is the largest float64 below 1, the top of the random source's
// range.
const rMax = 1 - 1.0/(1<<53)

// TestBackoffBounds checks the wait before retry n = 1..5: the step is
// delay × 2^(n−1), and the wait lies in [step×0.75, step×1.25], the low
// end for r = 0 and the high end as r → 1.
func TestBackoffBounds(t *testing.T) {
	const delay = 100 * time.Millisecond
	p := retry.NewPolicy(target.Retry{Attempts: 5, Delay: delay, OnStatusCodes: target.DefaultRetryCodes}, nil)
	for _, tt := range []struct {
		r    float64
		frac float64 // the wait as a fraction of the step
	}{{0, 0.75}, {0.5, 1}, {rMax, 1.25}} {
		t.Run(fmt.Sprint("r=", tt.r), func(t *testing.T) {
			bo := p.Backoff()
			var got, want []time.Duration
			for n := 1; n <= 5; n++ {
				d, ok := bo.Next(0, tt.r)
				if !ok {
					t.Fatalf("Next #%d: ok = false", n)
				}
				got = append(got, d)
				step := delay << (n - 1)
				want = append(want, time.Duration(float64(step)*tt.frac))
			}
			// r → 1 stops just short of the top: allow a nanosecond.
			if diff := cmp.Diff(got, want, cmp.Comparer(func(a, b time.Duration) bool { return a-b <= 1 && b-a <= 1 })); diff != "" {
				t.Errorf("waits (-got +want):\n%s", diff)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Errorf("wait %d = %v is not longer than wait %d = %v", i+1, got[i], i, got[i-1])
				}
			}
		})
	}
}

// TestBackoffJitterRange checks that successive waits never overlap
// whatever the random numbers: the longest first wait is shorter than the
// shortest second wait.
func TestBackoffJitterRange(t *testing.T) {
	p := defaultPolicy()
	hi := p.Backoff()
	lo := p.Backoff()
	h1, _ := hi.Next(0, rMax)
	lo.Next(0, 0)
	l2, _ := lo.Next(0, 0)
	if h1 > l2 {
		t.Errorf("longest first wait %v > shortest second wait %v", h1, l2)
	}
	if h1 < 75*time.Millisecond || h1 > 125*time.Millisecond {
		t.Errorf("first wait %v outside [75ms, 125ms]", h1)
	}
	if l2 < 150*time.Millisecond || l2 > 250*time.Millisecond {
		t.Errorf("second wait %v outside [150ms, 250ms]", l2)
	}
}

// TestBackoffCap checks that the exponential step stops growing at
// MaxDelay: from then on every wait is MaxDelay jittered, within
// [MaxDelay×0.75, MaxDelay×1.25]. (The cap applies to the step before
// jitter, as in cenkalti/backoff and gRPC.)
func TestBackoffCap(t *testing.T) {
	p := retry.NewPolicy(target.Retry{Attempts: 10, Delay: 5 * time.Second, OnStatusCodes: target.DefaultRetryCodes}, nil)
	for _, r := range []float64{0, 0.5, rMax} {
		bo := p.Backoff()
		var got []time.Duration
		for range 6 {
			d, ok := bo.Next(0, r)
			if !ok {
				t.Fatal("Next: ok = false")
			}
			got = append(got, d)
		}
		steps := []time.Duration{5 * time.Second, 10 * time.Second, retry.MaxDelay, retry.MaxDelay, retry.MaxDelay, retry.MaxDelay}
		for i, step := range steps {
			if want := retry.Jittered(step, r); got[i] != want {
				t.Errorf("r=%v: wait %d = %v, want %v (step %v)", r, i+1, got[i], want, step)
			}
		}
		for i, d := range got {
			if d > retry.MaxDelay*5/4 {
				t.Errorf("r=%v: wait %d = %v exceeds MaxDelay×1.25", r, i+1, d)
			}
		}
	}
}

// TestBackoffRetryAfter checks that a Retry-After longer than the computed
// wait replaces it, a shorter one does not, and one over MaxRetryAfter
// means "do not wait" (ok false).
func TestBackoffRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       time.Duration
		wantOK     bool
	}{
		{"none", 0, 100 * time.Millisecond, true},
		{"shorter than the backoff", 50 * time.Millisecond, 100 * time.Millisecond, true},
		{"longer than the backoff", 2 * time.Second, 2 * time.Second, true},
		{"longer than MaxDelay", 30 * time.Second, 30 * time.Second, true},
		{"exactly MaxRetryAfter", retry.MaxRetryAfter, retry.MaxRetryAfter, true},
		{"over MaxRetryAfter", retry.MaxRetryAfter + time.Nanosecond, 0, false},
		{"an hour", time.Hour, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := defaultPolicy()
			bo := p.Backoff()
			d, ok := bo.Next(tt.retryAfter, 0.5)
			if d != tt.want || ok != tt.wantOK {
				t.Errorf("Next(%v, 0.5) = %v, %v; want %v, %v", tt.retryAfter, d, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestBackoffStartsOver checks that each Backoff, one per target within a
// call, starts at the target's delay.
func TestBackoffStartsOver(t *testing.T) {
	p := defaultPolicy()
	a := p.Backoff()
	a.Next(0, 0.5)
	a.Next(0, 0.5)
	b := p.Backoff()
	if d, _ := b.Next(0, 0.5); d != 100*time.Millisecond {
		t.Errorf("a new Backoff's first wait = %v, want 100ms", d)
	}
}

func TestJittered(t *testing.T) {
	tests := []struct {
		d    time.Duration
		r    float64
		want time.Duration
	}{
		{100 * time.Millisecond, 0, 75 * time.Millisecond},
		{100 * time.Millisecond, 0.5, 100 * time.Millisecond},
		{100 * time.Millisecond, 0.75, 112500 * time.Microsecond},
		{0, 0.5, 0},
		{-time.Second, 0.5, 0},
	}
	for _, tt := range tests {
		if got := retry.Jittered(tt.d, tt.r); got != tt.want {
			t.Errorf("Jittered(%v, %v) = %v, want %v", tt.d, tt.r, got, tt.want)
		}
	}
}

func TestFits(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		d        time.Duration
		deadline time.Time
		has      bool
		want     bool
	}{
		{"no deadline", time.Hour, time.Time{}, false, true},
		{"well before", time.Second, now.Add(time.Minute), true, true},
		{"ends exactly at the deadline", time.Second, now.Add(time.Second), true, false},
		{"past the deadline", 2 * time.Second, now.Add(time.Second), true, false},
		{"deadline already passed", 0, now.Add(-time.Second), true, false},
		{"zero wait before the deadline", 0, now.Add(time.Millisecond), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retry.Fits(now, tt.d, tt.deadline, tt.has); got != tt.want {
				t.Errorf("Fits(now, %v, now%+v, %v) = %v, want %v", tt.d, tt.deadline.Sub(now), tt.has, got, tt.want)
			}
		})
	}
}

// TestZeroAllocs checks that the hot-path decisions allocate nothing.
func TestZeroAllocs(t *testing.T) {
	p := defaultPolicy()
	allocs := testing.AllocsPerRun(100, func() {
		_ = p.Classify(503, 1)
		bo := p.Backoff()
		_, _ = bo.Next(time.Second, 0.5)
		_ = retry.Fits(time.Time{}, time.Second, time.Time{}, false)
	})
	if allocs != 0 {
		t.Errorf("Classify + Backoff + Next + Fits: %v allocs, want 0", allocs)
	}
}
