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
	slowFirst := 0
	for range 200 {
		if s.call() != 0 {
			slowFirst++
		}
	}
	// Only the recheck share (2%) goes to the target outside the band.
	if slowFirst > 200*5/100 {
		t.Fatalf("the slower target was first in %d of 200 calls while 0 is twice as fast, want only its recheck share", slowFirst)
	}
	// Target 0 turns slow (one call a second). Recent samples weigh
	// most, so a few slow calls move it out of the band; after that it
	// gets only the recheck share.
	tpot[0] = 40 * ms
	shared, late := -1, 0
	for k := range 300 {
		switch s.call() {
		case 0:
			if k >= 60 {
				late++
			}
		case 1:
			if shared < 0 {
				shared = k
			}
		}
	}
	t.Logf("after the shift: target 1 first from call %d; target 0 first %d times in the last 240", shared, late)
	if shared < 0 || shared > 10 {
		t.Errorf("target 1 first only from call %d after the shift, want within 10", shared)
	}
	if late > 240*5/100 {
		t.Errorf("target 0 first %d times in 240 calls while slow, want at most 5%%", late)
	}
	// Target 0 recovers. A recheck or two shows it, long before its slow
	// samples would leave the 20-minute window: within 3 minutes it is
	// first again nearly always.
	tpot[0] = 5 * ms
	back := -1
	run := 0
	for k := range 180 {
		if s.call() == 0 {
			run++
		} else {
			run = 0
		}
		if run == 10 {
			back = k
			break
		}
	}
	t.Logf("target 0 first ten times in a row again from call %d after recovering", back)
	if back < 0 {
		t.Fatal("target 0 did not win its traffic back within 3 minutes of recovering")
	}
	got := map[int]int{}
	for range 100 {
		got[s.call()]++
	}
	if got[0] < 95 {
		t.Errorf("after 0 recovered: first picks %v, want 0 nearly always", got)
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
	// 3 explorations, then only the recheck share (2% of the rest).
	if got < 3 || got > 3+200*5/100 {
		t.Errorf("cold target first in %d calls, want 3 explorations and a few rechecks", got)
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
		{0.99, []strategy.Step{ // the recheck share: a target outside the band
			{Index: 3, Reason: strategy.ReasonPicked, Cause: strategy.CauseRecheck},
			{Index: 4, Reason: strategy.ReasonFallback, Cause: strategy.CauseExplore},
			{Index: 0, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 1, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
			{Index: 2, Reason: strategy.ReasonFallback, Cause: strategy.CauseFastest},
		}},
		{0.97, []strategy.Step{
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
	for _, r := range []float64{0, 0.5, 0.97} { // above 0.98 is the recheck share
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
