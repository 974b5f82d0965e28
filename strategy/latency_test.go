package strategy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/strategy"
)

// latencySim runs calls one a second from start with a Latency strategy
// and a Health; each call's first target serves in tpot(target, now).
// It returns each call's first target.
type latencySim struct {
	t      *testing.T
	h      *strategy.Health
	l      *strategy.Latency
	rand   func() float64
	now    time.Time
	tpotOf func(i int) time.Duration
}

func newLatencySim(t *testing.T, n int) *latencySim {
	h := mustHealth(t, n, strategy.HealthOptions{})
	return &latencySim{t: t, h: h, l: mustLatency(t, h.Stats()), rand: seeded(1), now: t0}
}

func (s *latencySim) call() int {
	p := strategy.NewPlan(strategy.PlanInfo{Strategy: s.l, Eligible: strategy.All(s.h.Stats().Len()), Health: s.h, Now: s.now, Rand: s.rand})
	step, ok := p.Next()
	if !ok {
		s.t.Fatal("plan gave no first target")
	}
	p.Done(success(step.Index, s.now, s.tpotOf(step.Index)))
	s.now = s.now.Add(time.Second)
	return step.Index
}

func TestLatencyShift(t *testing.T) {
	ms := time.Millisecond
	s := newLatencySim(t, 2)
	tpot := []time.Duration{10 * ms, 20 * ms}
	s.tpotOf = func(i int) time.Duration { return tpot[i] }
	// A full window of history for both: the slowest a mean can move.
	warm(s.h, 0, 100, tpot[0], s.now)
	warm(s.h, 1, 100, tpot[1], s.now)
	for range 50 {
		if got := s.call(); got != 0 {
			t.Fatalf("first pick = %d while 0 is twice as fast, want 0", got)
		}
	}
	// Target 0 turns slow. Once its mean passes 20/1.2 ms the two share
	// the band; once it passes 1.2 × 20 ms (100 samples at 10 ms need 47
	// at 40 ms) target 1 is first for good. Both happen within a bounded
	// number of calls.
	tpot[0] = 40 * ms
	shared, last := -1, -1
	for k := range 300 {
		switch s.call() {
		case 0:
			last = k
		case 1:
			if shared < 0 {
				shared = k
			}
		}
	}
	t.Logf("after the shift: target 1 first from call %d, target 0 last first at call %d", shared, last)
	if shared < 0 || shared > 47 {
		t.Errorf("target 1 first only from call %d after the shift, want within 47", shared)
	}
	if last > 120 {
		t.Errorf("target 0 still first at call %d after the shift, want none after 120", last)
	}
	// Target 0, no longer called, ages out after 20 minutes and is
	// explored again; it is fast once more, so it wins back the band.
	tpot[0] = 5 * ms
	s.now = s.now.Add(20 * time.Minute)
	got := map[int]int{}
	for range 50 {
		got[s.call()]++
	}
	if got[0] < 45 {
		t.Errorf("after 0 aged out and recovered: first picks %v, want 0 nearly always", got)
	}
}

func TestLatencyNearEqualShare(t *testing.T) {
	ms := time.Millisecond
	s := newLatencySim(t, 2)
	tpot := []time.Duration{10 * ms, 11 * ms}
	s.tpotOf = func(i int) time.Duration { return tpot[i] }
	warm(s.h, 0, 20, tpot[0], s.now)
	warm(s.h, 1, 20, tpot[1], s.now)
	const calls = 2000
	var got [2]int
	for range calls {
		got[s.call()]++
	}
	for i, n := range got {
		if n < calls*45/100 || n > calls*55/100 {
			t.Errorf("target %d first in %d of %d calls, want about half", i, n, calls)
		}
	}
}

func TestLatencyExploresCold(t *testing.T) {
	ms := time.Millisecond
	s := newLatencySim(t, 2)
	tpot := []time.Duration{10 * ms, 50 * ms}
	s.tpotOf = func(i int) time.Duration { return tpot[i] }
	warm(s.h, 0, 50, tpot[0], s.now)
	// Target 1 is new: it counts as fast until it has 3 samples, which
	// show it is slow.
	got := 0
	for range 200 {
		if s.call() == 1 {
			got++
		}
	}
	if got != 3 {
		t.Errorf("cold target first in %d calls, want exactly 3 (until it has 3 samples)", got)
	}
}

func TestLatencyFallbackOrder(t *testing.T) {
	ms := time.Millisecond
	h := mustHealth(t, 5, strategy.HealthOptions{})
	l := mustLatency(t, h.Stats())
	now := t0.Add(time.Hour)
	for i, d := range []time.Duration{10 * ms, 11 * ms, 30 * ms, 20 * ms} {
		warm(h, i, 10, d, now)
	}
	// Target 4 is cold: fast for ordering.
	tests := []struct {
		rand float64
		want []strategy.Step
	}{
		{0.0, []strategy.Step{
			{Index: 0, Reason: strategy.ReasonPicked, Cause: strategy.CauseFastBand},
			{Index: 4, Reason: strategy.ReasonFallback, Cause: strategy.CauseExplore},
			{Index: 1, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 3, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 2, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
		}},
		{0.99, []strategy.Step{
			{Index: 4, Reason: strategy.ReasonPicked, Cause: strategy.CauseExplore},
			{Index: 0, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 1, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 3, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 2, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
		}},
	}
	for _, tt := range tests {
		r := tt.rand
		p := strategy.NewPlan(strategy.PlanInfo{Strategy: l, Eligible: strategy.All(5), Health: h, Now: now, Rand: func() float64 { return r }})
		if diff := cmp.Diff(order(p), tt.want); diff != "" {
			t.Errorf("rand %v: order (-got +want):\n%s", tt.rand, diff)
		}
	}
}

func TestLatencyFastFailureIsNotFast(t *testing.T) {
	ms := time.Millisecond
	s := mustStats(t, 2)
	l := mustLatency(t, s)
	// Target 0 answers every call at once, with a 503.
	for k := range 5 {
		s.Observe(failed(0, t0.Add(time.Duration(k)*time.Second), 503, ms))
	}
	warm(s, 1, 5, 100*ms, t0.Add(10*time.Second))
	for _, r := range []float64{0, 0.5, 0.99} {
		got, err := l.Pick(strategy.PickInfo{Candidates: strategy.All(2), Now: t0.Add(10 * time.Second), Rand: r, First: true})
		if err != nil || got.Index != 1 {
			t.Errorf("Pick(rand %v) = %+v, %v; want target 1", r, got, err)
		}
	}
}

func TestNewLatencyNil(t *testing.T) {
	if _, err := strategy.NewLatency(nil); err == nil {
		t.Error("NewLatency(nil): no error")
	}
	l := mustLatency(t, mustStats(t, 2))
	if _, err := l.Pick(strategy.PickInfo{Candidates: strategy.Of(2, 3)}); !errors.Is(err, strategy.ErrNoCandidates) {
		t.Errorf("Pick beyond its targets: err %v, want ErrNoCandidates", err)
	}
}
