package strategy_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// TestHealthOutage drives calls every 100 ms of virtual time, a Plan per
// call, against a primary that fails from 10 s to 70 s and a secondary
// that always serves.
func TestHealthOutage(t *testing.T) {
	ms := time.Millisecond
	const (
		down     = 10 * time.Second
		up       = 70 * time.Second
		end      = 150 * time.Second
		cooldown = strategy.DefaultCooldown
	)
	tests := []struct {
		name string
		make func(t *testing.T, h *strategy.Health) strategy.Strategy
		// share is the primary's least share of first picks once it is
		// back.
		share float64
	}{
		{"priority", func(t *testing.T, _ *strategy.Health) strategy.Strategy { return mustPriority(t, 0, 1) }, 1},
		{"weighted", func(t *testing.T, _ *strategy.Health) strategy.Strategy { return mustWeighted(t, 90, 10) }, 0.85},
		{"latency", func(t *testing.T, h *strategy.Health) strategy.Strategy {
			warm(h, 0, 100, 10*ms, t0)
			warm(h, 1, 100, 20*ms, t0)
			return mustLatency(t, h.Stats())
		}, 1 - strategy.Recheck}, // the slower target keeps its recheck share
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHealth(t, 2, strategy.HealthOptions{})
			st := tt.make(t, h)
			rnd := seeded(7)
			serve := []time.Duration{10 * ms, 20 * ms} // each target's TPOT
			var attempts []time.Duration               // on the primary during the outage
			back := time.Duration(-1)                  // first call after the outage with the primary first
			firstAfter, callsAfter := 0, 0
			for at := time.Duration(0); at < end; at += 100 * ms {
				now := t0.Add(at)
				p := strategy.NewPlan(strategy.PlanInfo{Strategy: st, Eligible: strategy.All(2), Health: h, Now: now, Rand: rnd})
				served := false
				for first := true; ; first = false {
					step, ok := p.Next()
					if !ok {
						break
					}
					if step.Index == 0 && at >= down && at < up {
						attempts = append(attempts, at)
						p.Done(failed(0, now, 503, 50*ms))
						continue
					}
					if at >= up {
						callsAfter++
						if first && step.Index == 0 {
							firstAfter++
							if back < 0 {
								back = at
							}
						}
					}
					p.Done(success(step.Index, now, serve[step.Index]))
					served = true
					break
				}
				if !served {
					t.Fatalf("call at %v not served", at)
				}
			}
			t.Logf("primary attempts during the outage at %v; first again at %v", attempts, back)
			// Two failures find the outage; after that at most one
			// attempt per cooldown.
			if len(attempts) < 2 {
				t.Fatalf("%d attempts on the primary during the outage, want at least 2", len(attempts))
			}
			for k := 2; k < len(attempts); k++ {
				if gap := attempts[k] - attempts[k-1]; gap < cooldown {
					t.Errorf("probes at %v and %v: %v apart, want at least %v", attempts[k-1], attempts[k], gap, cooldown)
				}
			}
			if max := 2 + int((up-down)/cooldown); len(attempts) > max {
				t.Errorf("%d attempts on the primary during the outage, want at most %d", len(attempts), max)
			}
			if back < 0 || back > up+30*time.Second {
				t.Errorf("primary first again at %v, want by %v", back, up+30*time.Second)
			}
			if got := float64(firstAfter) / float64(callsAfter); got < tt.share*float64(end-back)/float64(end-up)-0.02 {
				t.Errorf("primary first in %d of %d calls after the outage, want a share of %v once back", firstAfter, callsAfter, tt.share)
			}
		})
	}
}

func TestHealthFailures(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		outs []strategy.Outcome
		at   time.Duration
		want strategy.Set
	}{
		{"one failure", []strategy.Outcome{failed(0, t0, 503, ms)}, time.Second, 0},
		{"two failures", []strategy.Outcome{failed(0, t0, 503, ms), failed(0, t0.Add(time.Minute), 500, ms)}, 70 * time.Second, strategy.Of(0)},
		{"two failures, window passed", []strategy.Outcome{failed(0, t0, 503, ms), failed(0, t0.Add(time.Minute), 500, ms)}, 3 * time.Minute, 0},
		{"two failures 3 minutes apart", []strategy.Outcome{failed(0, t0, 503, ms), failed(0, t0.Add(3*time.Minute), 503, ms)}, 3*time.Minute + time.Second, 0},
		{"out of order", []strategy.Outcome{failed(0, t0.Add(time.Minute), 503, ms), failed(0, t0, 503, ms)}, 70 * time.Second, strategy.Of(0)},
		{"a success does not clear a healthy target's failures", []strategy.Outcome{failed(0, t0, 503, ms), success(0, t0.Add(time.Second), ms), failed(0, t0.Add(2*time.Second), 503, ms)}, 3 * time.Second, strategy.Of(0)},
		{"targets count apart", []strategy.Outcome{failed(0, t0, 503, ms), failed(1, t0, 503, ms)}, time.Second, 0},
	}
	for _, status := range []int{500, 502, 503, 504, 429, 401, 403, 408} {
		tests = append(tests, struct {
			name string
			outs []strategy.Outcome
			at   time.Duration
			want strategy.Set
		}{"counts " + itoa(status), []strategy.Outcome{failed(1, t0, status, ms), failed(1, t0, status, ms)}, time.Second, strategy.Of(1)})
	}
	for _, status := range []int{400, 404, 409, 413, 422} {
		tests = append(tests, struct {
			name string
			outs []strategy.Outcome
			at   time.Duration
			want strategy.Set
		}{"ignores " + itoa(status), []strategy.Outcome{failed(1, t0, status, ms), failed(1, t0, status, ms)}, time.Second, 0})
	}
	tests = append(tests, struct {
		name string
		outs []strategy.Outcome
		at   time.Duration
		want strategy.Set
	}{"transport failure, no status", []strategy.Outcome{failed(0, t0, 0, ms), failed(0, t0, 0, ms)}, time.Second, strategy.Of(0)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHealth(t, 2, strategy.HealthOptions{})
			for _, o := range tt.outs {
				h.Observe(o)
			}
			if got := h.Unhealthy(t0.Add(tt.at)); got != tt.want {
				t.Errorf("Unhealthy = %b, want %b", got, tt.want)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// sickPrimary returns a Health whose target 0 turned unhealthy at t0.
func sickPrimary(t *testing.T, opts strategy.HealthOptions) *strategy.Health {
	t.Helper()
	h := mustHealth(t, 2, opts)
	h.Observe(failed(0, t0.Add(-time.Second), 503, 0))
	h.Observe(failed(0, t0, 503, 0))
	if got := h.Unhealthy(t0); got != strategy.Of(0) {
		t.Fatalf("Unhealthy = %b, want target 0", got)
	}
	return h
}

func firstStep(h *strategy.Health, st strategy.Strategy, now time.Time) strategy.Step {
	p := strategy.NewPlan(strategy.PlanInfo{Strategy: st, Eligible: strategy.All(2), Health: h, Now: now, Rand: func() float64 { return 0 }})
	s, _ := p.Next()
	return s
}

func TestHealthProbe(t *testing.T) {
	prio := mustPriority(t, 0, 1)
	h := sickPrimary(t, strategy.HealthOptions{Cooldown: 10 * time.Second})
	demoted := strategy.Step{Index: 1, Reason: strategy.ReasonPicked}
	probe := strategy.Step{Index: 0, Reason: strategy.ReasonProbe, Cause: strategy.CauseFailures}
	if got := firstStep(h, prio, t0.Add(9*time.Second)); got != demoted {
		t.Errorf("before the cooldown: first %+v, want %+v", got, demoted)
	}
	if got := firstStep(h, prio, t0.Add(10*time.Second)); got != probe {
		t.Errorf("after the cooldown: first %+v, want %+v", got, probe)
	}
	// One probe per cooldown, whether or not its outcome came back.
	if got := firstStep(h, prio, t0.Add(15*time.Second)); got != demoted {
		t.Errorf("while probing: first %+v, want %+v", got, demoted)
	}
	if got := firstStep(h, prio, t0.Add(20*time.Second)); got != probe {
		t.Errorf("a cooldown after an unanswered probe: first %+v, want %+v", got, probe)
	}
	// The probe fails: the cooldown starts again from its end.
	h.Observe(failed(0, t0.Add(20*time.Second), 503, 2*time.Second))
	if got := firstStep(h, prio, t0.Add(31*time.Second)); got != demoted {
		t.Errorf("after a failed probe: first %+v, want %+v", got, demoted)
	}
	if got := firstStep(h, prio, t0.Add(32*time.Second)); got != probe {
		t.Errorf("a cooldown after a failed probe: first %+v, want %+v", got, probe)
	}
	// The probe succeeds: healthy at once.
	h.Observe(success(0, t0.Add(32*time.Second), time.Millisecond))
	if got, want := firstStep(h, prio, t0.Add(33*time.Second)), (strategy.Step{Index: 0, Reason: strategy.ReasonPicked}); got != want {
		t.Errorf("after a successful probe: first %+v, want %+v", got, want)
	}
	// A failure of a call that started before the recovery is old news.
	h.Observe(failed(0, t0.Add(31*time.Second), 503, 3*time.Second))
	h.Observe(failed(0, t0.Add(31*time.Second), 503, 3*time.Second))
	if got := h.Unhealthy(t0.Add(35 * time.Second)); got != 0 {
		t.Errorf("after stale failures: Unhealthy = %b, want none", got)
	}
}

func TestHealthProbeOnlyWhereTheStrategyWouldGoFirst(t *testing.T) {
	// Target 1, the backup, is unhealthy and due a probe; the healthy
	// primary still goes first, so the backup is never probed first.
	h := mustHealth(t, 2, strategy.HealthOptions{})
	h.Observe(failed(1, t0, 503, 0))
	h.Observe(failed(1, t0, 503, 0))
	prio := mustPriority(t, 0, 1)
	for at := time.Duration(0); at < 5*time.Minute; at += time.Second {
		if got := firstStep(h, prio, t0.Add(at)); got.Index != 0 || got.Reason != strategy.ReasonPicked {
			t.Fatalf("at %v: first %+v, want the primary picked", at, got)
		}
	}
}

func TestHealthSuccessBeforeOutageDoesNotHeal(t *testing.T) {
	h := sickPrimary(t, strategy.HealthOptions{})
	// A slow call that started before the failures succeeds after them.
	h.Observe(success(0, t0.Add(-time.Minute), 10*time.Second))
	if got := h.Unhealthy(t0.Add(time.Second)); got != strategy.Of(0) {
		t.Errorf("Unhealthy = %b, want target 0 still", got)
	}
	// A last-resort call that started after them does heal.
	h.Observe(success(0, t0.Add(time.Second), time.Millisecond))
	if got := h.Unhealthy(t0.Add(2 * time.Second)); got != 0 {
		t.Errorf("Unhealthy = %b after a success, want none", got)
	}
}

func TestHealthOneProbeUnderConcurrency(t *testing.T) {
	h := sickPrimary(t, strategy.HealthOptions{})
	prio := mustPriority(t, 0, 1)
	now := t0.Add(strategy.DefaultCooldown)
	var wg sync.WaitGroup
	var mu sync.Mutex
	probes := 0
	for g := range 32 {
		wg.Go(func() {
			rnd := seeded(uint64(g))
			for range 100 {
				p := strategy.NewPlan(strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(2), Health: h, Now: now, Rand: rnd})
				if s, _ := p.Next(); s.Reason == strategy.ReasonProbe {
					mu.Lock()
					probes++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if probes != 1 {
		t.Errorf("%d probes handed out at one instant, want 1", probes)
	}
}

func TestHealthDemotedNotDropped(t *testing.T) {
	h := mustHealth(t, 3, strategy.HealthOptions{SLA: []target.SLACutoff{2: {TimePerOutputToken: 20 * time.Millisecond}}})
	h.Observe(failed(0, t0, 503, 0))
	h.Observe(failed(0, t0, 503, 0))
	for k := range 3 {
		h.Observe(success(2, t0.Add(time.Duration(k)*time.Second), 30*time.Millisecond))
	}
	now := t0.Add(5 * time.Second)
	p := strategy.NewPlan(strategy.PlanInfo{Strategy: mustPriority(t, 0, 1, 2), Eligible: strategy.All(3), Health: h, Now: now})
	want := []strategy.Step{
		{Index: 1, Reason: strategy.ReasonPicked},
		{Index: 0, Reason: strategy.ReasonDemoted, Cause: strategy.CauseFailures},
		{Index: 2, Reason: strategy.ReasonDemoted, Cause: strategy.CauseSLATPOT},
	}
	if diff := cmp.Diff(order(p), want); diff != "" {
		t.Errorf("order (-got +want):\n%s", diff)
	}
	if got := h.Cause(1, now); got != strategy.CauseNone {
		t.Errorf("Cause(1) = %v, want none", got)
	}
}

// TestHealthSLA moves a Priority strategy's first pick to priority 1 while
// the primary breaches its cutoff, and back when its mean recovers.
func TestHealthSLA(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		cutoff    target.SLACutoff
		slow      func(start time.Time) strategy.Outcome
		fast      func(start time.Time) strategy.Outcome
		wantCause strategy.Cause
	}{
		{
			name:      "TPOT",
			cutoff:    target.SLACutoff{TimePerOutputToken: 50 * ms},
			slow:      func(s time.Time) strategy.Outcome { return success(0, s, 80*ms) },
			fast:      func(s time.Time) strategy.Outcome { return success(0, s, 10*ms) },
			wantCause: strategy.CauseSLATPOT,
		},
		{
			name:   "TTFT",
			cutoff: target.SLACutoff{TimeToFirstToken: 2 * time.Second},
			slow: func(s time.Time) strategy.Outcome {
				return strategy.Outcome{Index: 0, Start: s, Latency: 4 * time.Second, TTFT: 3 * time.Second, OutputTokens: 20, Status: 200}
			},
			fast: func(s time.Time) strategy.Outcome {
				return strategy.Outcome{Index: 0, Start: s, Latency: 1500 * ms, TTFT: 500 * ms, OutputTokens: 20, Status: 200}
			},
			wantCause: strategy.CauseSLATTFT,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHealth(t, 2, strategy.HealthOptions{SLA: []target.SLACutoff{tt.cutoff}})
			prio := mustPriority(t, 0, 1)
			now := t0
			// Two slow calls are not enough samples.
			for range 2 {
				if got := firstStep(h, prio, now); got.Index != 0 {
					t.Fatalf("at %v: first %d, want 0", now.Sub(t0), got.Index)
				}
				h.Observe(tt.slow(now))
				now = now.Add(10 * time.Second)
			}
			if got := firstStep(h, prio, now); got.Index != 0 {
				t.Fatalf("after 2 slow calls: first %d, want 0", got.Index)
			}
			h.Observe(tt.slow(now))
			now = now.Add(10 * time.Second)
			if got := firstStep(h, prio, now); got.Index != 1 {
				t.Errorf("after 3 slow calls: first %d, want 1", got.Index)
			}
			if got := h.Cause(0, now); got != tt.wantCause {
				t.Errorf("Cause(0) = %v, want %v", got, tt.wantCause)
			}
			// Serving as a fallback, the primary is fast again; its mean
			// falls under the cutoff and it is first again.
			for k := 0; ; k++ {
				if k > 10 {
					t.Fatal("primary not first after 10 fast calls")
				}
				h.Observe(tt.fast(now))
				now = now.Add(time.Second)
				if firstStep(h, prio, now).Index == 0 {
					break
				}
			}
			// Slow again, then no calls at all: the samples leave the
			// 3-minute window and the primary is tried again.
			for range 10 {
				h.Observe(tt.slow(now))
				now = now.Add(time.Second)
			}
			if got := firstStep(h, prio, now); got.Index != 1 {
				t.Errorf("slow again: first %d, want 1", got.Index)
			}
			now = now.Add(3*time.Minute + 10*time.Second) // the last call ended up to 4 s after it began
			if got := firstStep(h, prio, now); got.Index != 0 {
				t.Errorf("3 minutes later: first %d, want 0", got.Index)
			}
		})
	}
}

func TestNewHealthErrors(t *testing.T) {
	tests := []struct {
		name string
		n    int
		opts strategy.HealthOptions
	}{
		{"too many targets", strategy.MaxTargets + 1, strategy.HealthOptions{}},
		{"negative targets", -1, strategy.HealthOptions{}},
		{"failures", 2, strategy.HealthOptions{Failures: 17}},
		{"negative failures", 2, strategy.HealthOptions{Failures: -1}},
		{"window", 2, strategy.HealthOptions{Window: -time.Second}},
		{"cooldown", 2, strategy.HealthOptions{Cooldown: -time.Second}},
		{"too many cutoffs", 1, strategy.HealthOptions{SLA: make([]target.SLACutoff, 2)}},
		{"negative cutoff", 1, strategy.HealthOptions{SLA: []target.SLACutoff{{TimeToFirstToken: -1}}}},
	}
	for _, tt := range tests {
		if _, err := strategy.NewHealth(tt.n, tt.opts); err == nil {
			t.Errorf("%s: NewHealth: no error", tt.name)
		}
	}
}

func TestHealthOptions(t *testing.T) {
	// Three failures in 10 seconds, 1 second of cooldown.
	h := mustHealth(t, 1, strategy.HealthOptions{Failures: 3, Window: 10 * time.Second, Cooldown: time.Second})
	h.Observe(failed(0, t0, 503, 0))
	h.Observe(failed(0, t0.Add(time.Second), 503, 0))
	if got := h.Unhealthy(t0.Add(2 * time.Second)); got != 0 {
		t.Errorf("after 2 of 3 failures: Unhealthy = %b", got)
	}
	h.Observe(failed(0, t0.Add(2*time.Second), 503, 0))
	if got := h.Unhealthy(t0.Add(2 * time.Second)); got != strategy.Of(0) {
		t.Errorf("after 3 failures: Unhealthy = %b, want target 0", got)
	}
	if got := h.Unhealthy(t0.Add(10 * time.Second)); got != 0 {
		t.Errorf("10 s after the first failure: Unhealthy = %b, want none", got)
	}
}

func TestHealthKeepsStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts strategy.HealthOptions
		want bool
	}{
		{"by default", strategy.HealthOptions{}, true},
		{"NoStats", strategy.HealthOptions{NoStats: true}, false},
		{"NoStats with an SLA cutoff", strategy.HealthOptions{NoStats: true, SLA: []target.SLACutoff{{}, {TimePerOutputToken: time.Millisecond}}}, true},
		{"NoStats with zero cutoffs", strategy.HealthOptions{NoStats: true, SLA: []target.SLACutoff{{}, {}}}, false},
	} {
		h, err := strategy.NewHealth(2, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.KeepsStats(); got != tc.want {
			t.Errorf("%s: KeepsStats() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
