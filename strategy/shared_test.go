package strategy_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/strategy"
)

// walk follows a plan, skipping the steps whose target skip holds (once
// each), and returns the steps taken and skipped in order.
func walk(p strategy.Plan, skip strategy.Set) (taken, skipped []strategy.Step) {
	for {
		s, ok := p.Next()
		if !ok {
			return taken, skipped
		}
		if skip.Has(s.Index) {
			skip &^= strategy.Of(s.Index)
			p.Skip()
			skipped = append(skipped, s)
			continue
		}
		taken = append(taken, s)
	}
}

func TestPlanSkip(t *testing.T) {
	prio := mustPriority(t, 0, 1, 2)
	for _, tc := range []struct {
		name        string
		info        strategy.PlanInfo
		skip        strategy.Set
		wantTaken   []strategy.Step
		wantSkipped []strategy.Step
	}{{
		name:        "a skipped first pick is followed by another first pick",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3)},
		skip:        strategy.Of(0),
		wantSkipped: []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}},
		wantTaken:   []strategy.Step{{Index: 1, Reason: strategy.ReasonPicked}, {Index: 2, Reason: strategy.ReasonFallback}},
	}, {
		name:        "a target that may only be first stays a candidate for the first pick",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), NoFallback: strategy.Of(1)},
		skip:        strategy.Of(0),
		wantSkipped: []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}},
		wantTaken:   []strategy.Step{{Index: 1, Reason: strategy.ReasonPicked}, {Index: 2, Reason: strategy.ReasonFallback}},
	}, {
		name:        "a skipped pin gives way to the strategy",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), Pin: strategy.Of(2)},
		skip:        strategy.Of(2),
		wantSkipped: []strategy.Step{{Index: 2, Reason: strategy.ReasonSticky}},
		wantTaken:   []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}, {Index: 1, Reason: strategy.ReasonFallback}},
	}, {
		name:        "a skipped probe gives way to the healthy targets",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), Probe: strategy.Of(0), Unhealthy: strategy.Of(0)},
		skip:        strategy.Of(0),
		wantSkipped: []strategy.Step{{Index: 0, Reason: strategy.ReasonProbe}},
		wantTaken:   []strategy.Step{{Index: 1, Reason: strategy.ReasonPicked}, {Index: 2, Reason: strategy.ReasonFallback}},
	}, {
		name:        "a skipped fallback is followed by the next fallback",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), NoFallback: strategy.Of(2)},
		skip:        strategy.Of(1),
		wantTaken:   []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}},
		wantSkipped: []strategy.Step{{Index: 1, Reason: strategy.ReasonFallback}},
	}, {
		name:        "every target skipped",
		info:        strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(2)},
		skip:        strategy.All(2),
		wantSkipped: []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}, {Index: 1, Reason: strategy.ReasonPicked}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			taken, skipped := walk(strategy.NewPlan(tc.info), tc.skip)
			if diff := cmp.Diff(taken, tc.wantTaken); diff != "" {
				t.Errorf("taken (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(skipped, tc.wantSkipped); diff != "" {
				t.Errorf("skipped (-got +want):\n%s", diff)
			}
		})
	}
	p := strategy.NewPlan(strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(1), Now: t0})
	if !p.Now().Equal(t0) {
		t.Errorf("Now() = %v, want %v", p.Now(), t0)
	}
}

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		o                strategy.Outcome
		success, failure bool
	}{
		{success(0, t0, time.Millisecond), true, false},
		{failed(0, t0, 500, time.Second), false, true},
		{failed(0, t0, 429, time.Second), false, true},
		{failed(0, t0, 408, time.Second), false, true},
		{failed(0, t0, 400, time.Second), false, false},
		{failed(0, t0, 404, time.Second), false, false},
	} {
		s, f := strategy.Counts(tc.o)
		if s != tc.success || f != tc.failure {
			t.Errorf("Counts(status %d) = %t, %t; want %t, %t", tc.o.Status, s, f, tc.success, tc.failure)
		}
	}
}

func TestHealthAdoptAndClear(t *testing.T) {
	h := mustHealth(t, 2, strategy.HealthOptions{Cooldown: 10 * time.Second})
	if f, w, c := h.Settings(); f != strategy.DefaultFailures || w != strategy.DefaultFailureWindow || c != 10*time.Second {
		t.Errorf("Settings() = %d, %v, %v; want the defaults and the cooldown given", f, w, c)
	}
	since, until := t0, t0.Add(time.Minute)
	if got := h.Adopt(0, since, until); got != strategy.Demoted {
		t.Errorf("Adopt of a healthy target = %v, want demoted", got)
	}
	if got := h.Adopt(0, since, until); got != strategy.Unchanged {
		t.Errorf("Adopt of the same record again = %v, want unchanged", got)
	}
	if got := h.Adopt(0, since, until.Add(time.Minute)); got != strategy.Unchanged {
		t.Errorf("Adopt extending the record = %v, want unchanged", got)
	}
	if got := h.Unhealthy(t0.Add(time.Second)); got != strategy.Of(0) {
		t.Errorf("Unhealthy after Adopt = %v, want {0}", got)
	}
	if got := h.Cause(0, t0.Add(time.Second)); got != strategy.CauseFailures {
		t.Errorf("Cause after Adopt = %v, want failures", got)
	}
	// The probe is due a cooldown after since: the plan offers it then.
	for _, tc := range []struct {
		at   time.Duration
		want strategy.Reason
	}{{5 * time.Second, strategy.ReasonPicked}, {10 * time.Second, strategy.ReasonProbe}} {
		p := strategy.NewPlan(strategy.PlanInfo{Strategy: mustPriority(t, 0, 1), Eligible: strategy.All(2), Health: h, Now: t0.Add(tc.at)})
		if s, _ := p.Next(); s.Reason != tc.want {
			t.Errorf("at %v: first step %+v, want reason %v", tc.at, s, tc.want)
		}
	}
	if got := h.Adopt(1, until, since); got != strategy.Unchanged || h.Unhealthy(t0) != strategy.Of(0) {
		t.Errorf("Adopt of an empty span = %v; want it ignored", got)
	}
	if got := h.Adopt(5, since, until); got != strategy.Unchanged {
		t.Errorf("Adopt out of range = %v, want unchanged", got)
	}
	healed := t0.Add(30 * time.Second)
	if got := h.Clear(0, healed); got != strategy.Recovered {
		t.Errorf("Clear of an unhealthy target = %v, want recovered", got)
	}
	if got := h.Clear(0, healed); got != strategy.Unchanged {
		t.Errorf("Clear of a healthy target = %v, want unchanged", got)
	}
	if got := h.Unhealthy(healed); got != 0 {
		t.Errorf("Unhealthy after Clear = %v, want none", got)
	}
	// Failures of calls started before the clear are ignored; later ones
	// count from zero.
	h.Record(failed(0, healed.Add(-time.Second), 500, 2*time.Second))
	h.Record(failed(0, healed.Add(-time.Second), 500, 2*time.Second))
	if got := h.Unhealthy(healed.Add(2 * time.Second)); got != 0 {
		t.Errorf("failures of calls started before the clear demoted the target: %v", got)
	}
	h.Record(failed(0, healed.Add(time.Second), 500, time.Second))
	if got := h.Record(failed(0, healed.Add(time.Second), 500, time.Second)); got != strategy.Demoted {
		t.Errorf("two failures after the clear = %v, want demoted", got)
	}
}

func TestHealthClearKeepsAHealthyTargetsFailures(t *testing.T) {
	// Every call clears the targets the shared records say are healthy:
	// a failure counted before does not vanish with it.
	h := mustHealth(t, 1, strategy.HealthOptions{})
	h.Record(failed(0, t0, 500, time.Second))
	if got := h.Clear(0, t0.Add(2*time.Second)); got != strategy.Unchanged {
		t.Errorf("Clear of a healthy target = %v, want unchanged", got)
	}
	if got := h.Record(failed(0, t0.Add(3*time.Second), 500, time.Second)); got != strategy.Demoted {
		t.Errorf("second failure after a Clear of the healthy target = %v, want demoted", got)
	}
}
