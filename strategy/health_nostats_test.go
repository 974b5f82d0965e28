package strategy_test

import (
	"testing"
	"time"

	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

func TestHealthNoStats(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name        string
		opts        strategy.HealthOptions
		wantSamples int
	}{
		{"stats kept by default", strategy.HealthOptions{}, 3},
		{"NoStats skips them", strategy.HealthOptions{NoStats: true}, 0},
		{"an SLA cutoff keeps them", strategy.HealthOptions{NoStats: true, SLA: []target.SLACutoff{{TimePerOutputToken: time.Second}}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := strategy.NewHealth(2, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				h.Observe(strategy.Outcome{Index: 0, Start: now.Add(time.Duration(i) * time.Second), Latency: 100 * time.Millisecond, OutputTokens: 10, Status: 200})
			}
			// Failures still demote, whatever is recorded.
			for i := range 2 {
				h.Observe(strategy.Outcome{Index: 1, Start: now.Add(time.Duration(i) * time.Second), Latency: time.Millisecond, Status: 503})
			}
			if got := h.Stats().Summary(0, now.Add(5*time.Second)).Samples; got != tt.wantSamples {
				t.Errorf("samples = %d, want %d", got, tt.wantSamples)
			}
			if got := h.Unhealthy(now.Add(5 * time.Second)); !got.Has(1) {
				t.Errorf("Unhealthy = %b, want target 1 demoted", got)
			}
		})
	}
}

func TestPlanRestrict(t *testing.T) {
	w, err := strategy.NewWeighted([]int{50, 50, 0})
	if err != nil {
		t.Fatal(err)
	}
	plan := strategy.NewPlan(strategy.PlanInfo{Strategy: w, Eligible: strategy.All(3)})
	if !plan.Restrict(strategy.Of(1, 2)) {
		t.Fatal("Restrict to two eligible targets reported none left")
	}
	var got []int
	for {
		s, ok := plan.Next()
		if !ok {
			break
		}
		got = append(got, s.Index)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("order after Restrict = %v, want [1 2]", got)
	}
	empty := strategy.NewPlan(strategy.PlanInfo{Strategy: w, Eligible: strategy.Of(0)})
	if empty.Restrict(strategy.Of(1)) {
		t.Error("Restrict to a set with no eligible target reported some left")
	}
}
