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
