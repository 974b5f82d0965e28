package strategy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/strategy"
)

func TestPlanFirst(t *testing.T) {
	prio := mustPriority(t, 0, 1, 2)
	stray := strategy.Func(func(strategy.PickInfo) (strategy.PickResult, error) {
		return strategy.PickResult{Index: 63}, nil
	})
	var firsts []bool
	spy := strategy.Func(func(in strategy.PickInfo) (strategy.PickResult, error) {
		firsts = append(firsts, in.First)
		return prio.Pick(in)
	})
	tests := []struct {
		name string
		info strategy.PlanInfo
		want []strategy.Step
	}{
		{
			name: "healthy pin first",
			info: strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), Pin: strategy.Of(2)},
			want: []strategy.Step{{Index: 2, Reason: strategy.ReasonSticky}, {Index: 0, Reason: strategy.ReasonFallback}, {Index: 1, Reason: strategy.ReasonFallback}},
		},
		{
			name: "unhealthy pin ignored",
			info: strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), Pin: strategy.Of(0), Unhealthy: strategy.Of(0)},
			want: []strategy.Step{{Index: 1, Reason: strategy.ReasonPicked}, {Index: 2, Reason: strategy.ReasonFallback}, {Index: 0, Reason: strategy.ReasonDemoted}},
		},
		{
			name: "caller's probe",
			info: strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(3), Probe: strategy.Of(0), Unhealthy: strategy.Of(0)},
			want: []strategy.Step{{Index: 0, Reason: strategy.ReasonProbe}, {Index: 1, Reason: strategy.ReasonFallback}, {Index: 2, Reason: strategy.ReasonFallback}},
		},
		{
			name: "all unhealthy",
			info: strategy.PlanInfo{Strategy: prio, Eligible: strategy.Of(1, 2), Unhealthy: strategy.All(3)},
			want: []strategy.Step{{Index: 1, Reason: strategy.ReasonDemoted}, {Index: 2, Reason: strategy.ReasonDemoted}},
		},
		{
			name: "a strategy straying outside its candidates",
			info: strategy.PlanInfo{Strategy: stray, Eligible: strategy.Of(1, 2)},
			want: []strategy.Step{{Index: 1, Reason: strategy.ReasonPicked}, {Index: 2, Reason: strategy.ReasonFallback}},
		},
		{
			name: "First only for the first pick",
			info: strategy.PlanInfo{Strategy: spy, Eligible: strategy.All(3)},
			want: []strategy.Step{{Index: 0, Reason: strategy.ReasonPicked}, {Index: 1, Reason: strategy.ReasonFallback}, {Index: 2, Reason: strategy.ReasonFallback}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(order(strategy.NewPlan(tt.info)), tt.want); diff != "" {
				t.Errorf("order (-got +want):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(firsts, []bool{true, false, false}); diff != "" {
		t.Errorf("PickInfo.First (-got +want):\n%s", diff)
	}
}

func TestPlanTried(t *testing.T) {
	p := strategy.NewPlan(strategy.PlanInfo{Strategy: mustPriority(t, 0, 1, 2), Eligible: strategy.All(3)})
	p.Next()
	p.Next()
	if got, want := p.Tried(), strategy.Of(0, 1); got != want {
		t.Errorf("Tried = %b, want %b", got, want)
	}
}

func TestStrings(t *testing.T) {
	reasons := map[strategy.Reason]string{
		strategy.ReasonPicked: "picked", strategy.ReasonSticky: "sticky", strategy.ReasonProbe: "probe",
		strategy.ReasonFallback: "fallback", strategy.ReasonDemoted: "demoted", 0: "unknown",
	}
	for r, want := range reasons {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", r, got, want)
		}
	}
	causes := map[strategy.Cause]string{
		strategy.CauseNone: "", strategy.CauseFailures: "failures", strategy.CauseSLATPOT: "sla-tpot",
		strategy.CauseSLATTFT: "sla-ttft", strategy.CauseFastBand: "fast-band", strategy.CauseExplore: "explore",
		strategy.CauseFastest: "fastest", 99: "unknown",
	}
	for c, want := range causes {
		if got := c.String(); got != want {
			t.Errorf("Cause(%d).String() = %q, want %q", c, got, want)
		}
	}
}
