package routing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// TestPriorityChain runs a two-target priority chain, "primary" then
// "backup", with the primary scripted to fail in various ways, and checks
// every attempt, who served and what reached each model. It runs in
// virtual time: the retry waits take none.
func TestPriorityChain(t *testing.T) {
	tests := []struct {
		name         string
		primary      []fake.Step
		tweak        func(*target.Target) // applied to the primary
		want         []coreTry
		wantResolved string // "" when the call fails
		wantStatus   int    // the failed call's StatusCode
		wantCalls    [2]int // primary, backup
	}{
		{
			name:    "503 is retried twice, then the backup serves",
			primary: []fake.Step{fake.Fail(503)},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 503, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 503, Class: "retry", Reason: "picked", Retry: true},
				{Target: "acct/primary", Try: 3, Status: 503, Class: "fallback", Reason: "picked", Retry: true},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{3, 1},
		},
		{
			name:    "transport failure counts as 502",
			primary: []fake.Step{fake.Transport()},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 502, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 502, Class: "retry", Reason: "picked", Retry: true},
				{Target: "acct/primary", Try: 3, Status: 502, Class: "fallback", Reason: "picked", Retry: true},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{3, 1},
		},
		{
			name:    "one 500, then the primary answers its retry",
			primary: []fake.Step{fake.Fail(500).Times(1), fake.Reply("ok")},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 500, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 200, Class: "ok", Reason: "picked", Retry: true},
			},
			wantResolved: "acct/primary",
			wantCalls:    [2]int{2, 0},
		},
		{
			name:    "400 is returned at once: no retry, no fallback",
			primary: []fake.Step{fake.Fail(400).WithCode("context_length_exceeded")},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 400, Class: "stop", Reason: "picked"},
			},
			wantStatus: 400,
			wantCalls:  [2]int{1, 0},
		},
		{
			name:    "401 falls back without a retry",
			primary: []fake.Step{fake.Fail(401)},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 401, Class: "fallback", Reason: "picked"},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{1, 1},
		},
		{
			name:    "400 falls back when the target lists it",
			primary: []fake.Step{fake.Fail(400)},
			tweak:   func(t *target.Target) { t.FallbackStatusCodes = []int{400} },
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 400, Class: "fallback", Reason: "picked"},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{1, 1},
		},
		{
			name:    "retry_config limits tries and codes",
			primary: []fake.Step{fake.Fail(500)},
			tweak: func(t *target.Target) {
				t.Retry = &target.Retry{Attempts: 1, OnStatusCodes: []int{500}}
			},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 500, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 500, Class: "fallback", Reason: "picked", Retry: true},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{2, 1},
		},
		{
			name:    "a status not in on_status_codes is not retried",
			primary: []fake.Step{fake.Fail(503)},
			tweak: func(t *target.Target) {
				t.Retry = &target.Retry{Attempts: 2, OnStatusCodes: []int{500}}
			},
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 503, Class: "fallback", Reason: "picked"},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
			wantResolved: "acct/backup",
			wantCalls:    [2]int{1, 1},
		},
		{
			name:    "empty fallback_status_codes: retried, then returned",
			primary: []fake.Step{fake.Fail(503)},
			tweak:   func(t *target.Target) { t.FallbackStatusCodes = []int{} },
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 503, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 503, Class: "retry", Reason: "picked", Retry: true},
				{Target: "acct/primary", Try: 3, Status: 503, Class: "stop", Reason: "picked", Retry: true},
			},
			wantStatus: 503,
			wantCalls:  [2]int{3, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("primary", tt.primary...)
				primary := target.Target{Ref: coreRef("primary")}
				if tt.tweak != nil {
					tt.tweak(&primary)
				}
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(coreRand(0.5)),
					routing.WithGroup(coreGroup(corePriority(primary, target.Target{Ref: coreRef("backup")}))))
				ctx, tr := coreTraced(context.Background())
				resp, err := c.Chat(ctx, coreReq(coreModel))

				if diff := cmp.Diff(coreTries(tr), tt.want); diff != "" {
					t.Errorf("attempts (-got +want):\n%s", diff)
				}
				if got := tr.Resolved; got != tt.wantResolved {
					t.Errorf("Trace.Resolved = %q, want %q", got, tt.wantResolved)
				}
				if got, want := tr.VirtualModel, coreModel; got != want {
					t.Errorf("Trace.VirtualModel = %q, want %q", got, want)
				}
				gotCalls := [2]int{f.CallCount("primary"), f.CallCount("backup")}
				if gotCalls != tt.wantCalls {
					t.Errorf("calls (primary, backup) = %v, want %v", gotCalls, tt.wantCalls)
				}
				if tt.wantResolved != "" {
					if err != nil {
						t.Fatalf("Chat: %v", err)
					}
					if got, want := coreAcct+"/"+resp.Model, tt.wantResolved; got != want {
						t.Errorf("response from %q, want %q", got, want)
					}
					return
				}
				if got := coreStatus(err); got != tt.wantStatus {
					t.Errorf("StatusCode() = %d (err %v), want %d", got, err, tt.wantStatus)
				}
				var rerr *routing.Error
				if !errors.As(err, &rerr) {
					t.Fatalf("error %T %v is not a *routing.Error", err, err)
				}
				if got, want := len(rerr.Attempts), len(tt.want); got != want {
					t.Errorf("error carries %d attempts, want %d", got, want)
				}
				var te *target.Error
				if !errors.As(err, &te) || te.Target != "acct/primary" {
					t.Errorf("errors.As(*target.Error) = %v, want an attempt on acct/primary", te)
				}
				var pe *providers.Error
				if !errors.As(err, &pe) || pe.Status != tt.wantStatus {
					t.Errorf("errors.As(*providers.Error) = %v, want status %d", pe, tt.wantStatus)
				}
			})
		})
	}
}

// TestRetryWaits checks the waits between tries on one target: delay ×
// 2^(n−1) spread by ±25% jitter from the random source, so the first wait
// lies in [75ms, 125ms] and the second in [150ms, 250ms] for the default
// 100 ms delay; and each try starts exactly its wait after the previous
// one ended.
func TestRetryWaits(t *testing.T) {
	for _, r := range []float64{0, 0.25, 0.5, 0.999999} {
		t.Run(fmt.Sprint("r=", r), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("primary", fake.Fail(503))
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(coreRand(r)),
					routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))
				ctx, tr := coreTraced(context.Background())
				start := time.Now()
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
				w := coreWaits(tr)
				want := []time.Duration{0, retry.Jittered(100*time.Millisecond, r), retry.Jittered(200*time.Millisecond, r), 0}
				if diff := cmp.Diff(w, want); diff != "" {
					t.Errorf("waits (-got +want):\n%s", diff)
				}
				if len(w) != 4 {
					t.FailNow()
				}
				bounds := [][2]time.Duration{{0, 0}, {75 * time.Millisecond, 125 * time.Millisecond}, {150 * time.Millisecond, 250 * time.Millisecond}, {0, 0}}
				for i, b := range bounds {
					if w[i] < b[0] || w[i] > b[1] {
						t.Errorf("wait %d = %v, want within [%v, %v]", i, w[i], b[0], b[1])
					}
				}
				for i := 1; i < len(tr.Attempts); i++ {
					prev, cur := tr.Attempts[i-1], tr.Attempts[i]
					if got, want := cur.Start.Sub(prev.Start.Add(prev.Duration)), cur.Wait; got != want {
						t.Errorf("attempt %d started %v after attempt %d ended, want its wait %v", i, got, i-1, want)
					}
				}
				if got, want := time.Since(start), w[1]+w[2]; got != want {
					t.Errorf("call took %v of virtual time, want the waits' sum %v", got, want)
				}
			})
		})
	}
}

// TestRetryAfter checks that a provider's Retry-After replaces a shorter
// backoff, and that a wait the call cannot afford (past its deadline, or
// longer than retry.MaxRetryAfter) is skipped for an immediate fallback.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name        string
		retryAfter  time.Duration
		deadline    time.Duration // 0: none
		want        []coreTry
		wantWait    time.Duration // before the second attempt
		wantElapsed time.Duration
	}{
		{
			name:       "2s is honoured",
			retryAfter: 2 * time.Second,
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 429, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 200, Class: "ok", Reason: "picked", Retry: true},
			},
			wantWait:    2 * time.Second,
			wantElapsed: 2 * time.Second,
		},
		{
			name:       "2s is honoured within a deadline it fits",
			retryAfter: 2 * time.Second,
			deadline:   3 * time.Second,
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 429, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 200, Class: "ok", Reason: "picked", Retry: true},
			},
			wantWait:    2 * time.Second,
			wantElapsed: 2 * time.Second,
		},
		{
			name:       "shorter than the backoff: the backoff wins",
			retryAfter: 10 * time.Millisecond,
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 429, Class: "retry", Reason: "picked"},
				{Target: "acct/primary", Try: 2, Status: 200, Class: "ok", Reason: "picked", Retry: true},
			},
			wantWait:    100 * time.Millisecond,
			wantElapsed: 100 * time.Millisecond,
		},
		{
			name:       "past the deadline: fall back at once",
			retryAfter: 5 * time.Second,
			deadline:   time.Second,
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 429, Class: "fallback", Reason: "picked"},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
		},
		{
			name:       "longer than MaxRetryAfter: fall back at once",
			retryAfter: retry.MaxRetryAfter + time.Second,
			want: []coreTry{
				{Target: "acct/primary", Try: 1, Status: 429, Class: "fallback", Reason: "picked"},
				{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("primary", fake.Fail(429).WithRetryAfter(tt.retryAfter).Times(1), fake.Reply("ok"))
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(coreRand(0.5)),
					routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))
				ctx := context.Background()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					t.Cleanup(cancel)
				}
				ctx, tr := coreTraced(ctx)
				start := time.Now()
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("call took %v of virtual time, want %v", got, tt.wantElapsed)
				}
				if diff := cmp.Diff(coreTries(tr), tt.want); diff != "" {
					t.Errorf("attempts (-got +want):\n%s", diff)
				}
				if len(tr.Attempts) == 2 {
					second := tr.Attempts[1]
					if second.Wait != tt.wantWait {
						t.Errorf("second attempt waited %v, want %v", second.Wait, tt.wantWait)
					}
					if got := second.Start.Sub(tr.Attempts[0].Start); got < tt.wantWait {
						t.Errorf("second attempt started %v after the first, want at least %v", got, tt.wantWait)
					}
				}
			})
		})
	}
}

// TestCancelDuringWait cancels the call while it waits to retry: the call
// returns at once with context.Canceled, and no further attempt is made.
func TestCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("primary", fake.Fail(503))
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithRand(coreRand(0.5)),
			routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		// The first wait is 100 ms (r = 0.5); cancel half way through.
		time.AfterFunc(50*time.Millisecond, cancel)
		ctx, tr := coreTraced(ctx)
		start := time.Now()
		_, err := c.Chat(ctx, coreReq(coreModel))
		if got, want := time.Since(start), 50*time.Millisecond; got != want {
			t.Errorf("Chat returned after %v, want %v (at the cancel)", got, want)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if got := f.CallCount(fake.AnyModel); got != 1 {
			t.Errorf("%d provider calls, want 1: no attempt after the cancel", got)
		}
		if got := len(tr.Attempts); got != 1 {
			t.Errorf("trace has %d attempts, want 1: %+v", got, coreTries(tr))
		}
	})
}

// TestCancelDuringAttempt cancels the call while a provider works on it:
// the call ends with context.Canceled, nothing more is tried, and the
// attempt is recorded as cancelled (status 0), not as the target's
// failure.
func TestCancelDuringAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("primary", fake.Hang())
		c := coreClient(t, routing.WithProvider(coreAcct, f),
			routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		time.AfterFunc(time.Second, cancel)
		ctx, tr := coreTraced(ctx)
		_, err := c.Chat(ctx, coreReq(coreModel))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		want := []coreTry{{Target: "acct/primary", Try: 1, Status: 0, Class: "canceled", Reason: "picked"}}
		if diff := cmp.Diff(coreTries(tr), want); diff != "" {
			t.Errorf("attempts (-got +want):\n%s", diff)
		}
		if got := f.CallCount("backup"); got != 0 {
			t.Errorf("backup called %d times after the cancel, want 0", got)
		}
	})
}

// TestAlreadyCancelled checks that a call whose ctx is already done makes
// no attempt at all.
func TestAlreadyCancelled(t *testing.T) {
	f := fake.New()
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}))))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Chat(ctx, coreReq(coreModel)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if got := f.CallCount(fake.AnyModel); got != 0 {
		t.Errorf("%d provider calls, want 0", got)
	}
}

// TestRequestTimeout checks request_timeout_ms: a silent target's attempt
// becomes a 408 after the timeout, is not retried, and the call falls
// back, whether the timeout is set on the target or as the routing
// default.
func TestRequestTimeout(t *testing.T) {
	tests := []struct {
		name   string
		target time.Duration
		def    time.Duration
		want   time.Duration
	}{
		{name: "on the target", target: 2 * time.Second, want: 2 * time.Second},
		{name: "routing default", def: 3 * time.Second, want: 3 * time.Second},
		{name: "the target's wins", target: time.Second, def: 5 * time.Second, want: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("silent", fake.Hang())
				rc := corePriority(target.Target{Ref: coreRef("silent"), RequestTimeout: tt.target}, target.Target{Ref: coreRef("backup")})
				rc.RequestTimeout = tt.def
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
				ctx, tr := coreTraced(context.Background())
				start := time.Now()
				resp, err := c.Chat(ctx, coreReq(coreModel))
				if err != nil {
					t.Fatal(err)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("call took %v of virtual time, want %v", got, tt.want)
				}
				if resp.Model != "backup" {
					t.Errorf("served by %q, want backup", resp.Model)
				}
				want := []coreTry{
					{Target: "acct/silent", Try: 1, Status: 408, Class: "fallback", Reason: "picked"},
					{Target: "acct/backup", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
				}
				if diff := cmp.Diff(coreTries(tr), want); diff != "" {
					t.Errorf("attempts (-got +want):\n%s", diff)
				}
				if got := f.CallCount("silent"); got != 1 {
					t.Errorf("silent target called %d times, want 1 (a timeout is not retried)", got)
				}
				if got := tr.Attempts[0].Duration; got != tt.want {
					t.Errorf("timed-out attempt lasted %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// TestTimeoutOnLastTarget checks that when the only target times out, the
// call fails with status 408 and an error that still matches
// context.DeadlineExceeded through its attempt.
func TestTimeoutOnLastTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("silent", fake.Hang())
		c := coreClient(t, routing.WithProvider(coreAcct, f),
			routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("silent"), RequestTimeout: time.Second}))))
		_, err := c.Chat(context.Background(), coreReq(coreModel))
		if got := coreStatus(err); got != 408 {
			t.Errorf("StatusCode() = %d, want 408 (err %v)", got, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
		}
	})
}

// TestCallerDeadlineDuringAttempt checks that the caller's own deadline
// passing during an attempt ends the call with DeadlineExceeded and tries
// nothing else.
func TestCallerDeadlineDuringAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("silent", fake.Hang())
		c := coreClient(t, routing.WithProvider(coreAcct, f),
			routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("silent")}, target.Target{Ref: coreRef("backup")}))))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		t.Cleanup(cancel)
		_, err := c.Chat(ctx, coreReq(coreModel))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
		if got := f.CallCount("backup"); got != 0 {
			t.Errorf("backup called %d times after the caller's deadline, want 0", got)
		}
	})
}

// TestNoFallbackTarget checks fallback_candidate: false: such a target may
// be picked first, but never appears later in a call's order.
func TestNoFallbackTarget(t *testing.T) {
	noRetry := &target.Retry{Attempts: 0}
	tests := []struct {
		name    string
		targets []target.Target
		failing []string
		want    []coreTry
	}{
		{
			name: "skipped as a fallback",
			targets: []target.Target{
				{Ref: coreRef("a"), Retry: noRetry},
				{Ref: coreRef("b"), Retry: noRetry, NoFallback: true},
				{Ref: coreRef("c"), Retry: noRetry},
			},
			failing: []string{"a"},
			want: []coreTry{
				{Target: "acct/a", Try: 1, Status: 503, Class: "fallback", Reason: "picked"},
				{Target: "acct/c", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
		},
		{
			name: "never tried even when nothing else is left",
			targets: []target.Target{
				{Ref: coreRef("a"), Retry: noRetry},
				{Ref: coreRef("b"), Retry: noRetry, NoFallback: true},
			},
			failing: []string{"a"},
			want: []coreTry{
				{Target: "acct/a", Try: 1, Status: 503, Class: "fallback", Reason: "picked"},
			},
		},
		{
			name: "may be first, and falls back to others",
			targets: []target.Target{
				{Ref: coreRef("a"), Retry: noRetry, NoFallback: true},
				{Ref: coreRef("b"), Retry: noRetry},
			},
			failing: []string{"a"},
			want: []coreTry{
				{Target: "acct/a", Try: 1, Status: 503, Class: "fallback", Reason: "picked"},
				{Target: "acct/b", Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			for _, m := range tt.failing {
				f.Script(m, fake.Fail(503))
			}
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(tt.targets...))))
			ctx, tr := coreTraced(context.Background())
			_, _ = c.Chat(ctx, coreReq(coreModel))
			if diff := cmp.Diff(coreTries(tr), tt.want); diff != "" {
				t.Errorf("attempts (-got +want):\n%s", diff)
			}
			if got := f.CallCount("b"); tt.targets[1].NoFallback && got != 0 {
				t.Errorf("no-fallback target b called %d times, want 0", got)
			}
		})
	}
}

// TestEqualPrioritiesShareLoad checks that targets of equal priority are
// shuffled per call, and a lower priority is used only as a fallback.
func TestEqualPrioritiesShareLoad(t *testing.T) {
	f := fake.New()
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(
		target.Target{Ref: coreRef("a"), Priority: 0},
		target.Target{Ref: coreRef("b"), Priority: 0},
		target.Target{Ref: coreRef("c"), Priority: 1},
	))))
	const n = 2000
	for range n {
		if _, err := c.Chat(context.Background(), coreReq(coreModel)); err != nil {
			t.Fatal(err)
		}
	}
	// Binomial(2000, 0.5): 1000 ± 112 (5σ).
	a, b := f.CallCount("a"), f.CallCount("b")
	if a < 888 || a > 1112 || a+b != n {
		t.Errorf("a served %d, b %d of %d calls; want each 1000 ± 112", a, b, n)
	}
	if got := f.CallCount("c"); got != 0 {
		t.Errorf("lower priority c served %d calls, want 0", got)
	}
}

// offsetClock is a Clock whose Now is the runtime's shifted by offset and
// whose Sleep uses the runtime's timers, as a simulator's clock might.
type offsetClock struct{ offset time.Duration }

func (c offsetClock) Now() time.Time { return time.Now().Add(c.offset) }

func (offsetClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestDeadlineIgnoresInjectedClock checks that the decision "this wait
// would pass the ctx deadline" compares the deadline with the clock the
// deadline was set on (the runtime's, as context.WithTimeout uses), not
// with a WithClock clock. A Retry-After of 5s under a 3s deadline must
// mean "fall back now" whatever the Client's clock reads, and a 1s one
// must be waited for.
func TestDeadlineIgnoresInjectedClock(t *testing.T) {
	for _, offset := range []time.Duration{0, -24 * time.Hour, 24 * time.Hour} {
		for _, tc := range []struct {
			retryAfter time.Duration
			want       string
			wantTook   time.Duration
		}{
			{5 * time.Second, "backup", 0},
			{time.Second, "primary", time.Second},
		} {
			t.Run(fmt.Sprintf("clock%+v/retry-after=%v", offset, tc.retryAfter), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := fake.New()
					f.Script("primary", fake.Fail(429).WithRetryAfter(tc.retryAfter).Times(1), fake.Reply("ok"))
					c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithClock(offsetClock{offset}), routing.WithRand(coreRand(0.5)),
						routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					t.Cleanup(cancel)
					ctx, tr := coreTraced(ctx)
					start := time.Now()
					resp, err := c.Chat(ctx, coreReq(coreModel))
					if err != nil {
						t.Fatalf("Chat: %v (attempts %+v)", err, coreTries(tr))
					}
					if took := time.Since(start); resp.Model != tc.want || took != tc.wantTook {
						t.Errorf("served by %q after %v, want %q after %v", resp.Model, took, tc.want, tc.wantTook)
					}
				})
			})
		}
	}
}
