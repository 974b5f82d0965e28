package strategy_test

import (
	"fmt"
	"time"

	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

func ExampleHealth() {
	// One Health per virtual model; here a primary and a backup.
	h, _ := strategy.NewHealth(2, strategy.HealthOptions{})
	prio, _ := strategy.NewPriority([]int{0, 1})
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	plan := func(now time.Time) {
		p := strategy.NewPlan(strategy.PlanInfo{Strategy: prio, Eligible: strategy.All(2), Health: h, Now: now})
		for {
			s, ok := p.Next()
			if !ok {
				break
			}
			fmt.Printf(" %d:%v", s.Index, s.Reason)
			if s.Cause != strategy.CauseNone {
				fmt.Printf("(%v)", s.Cause)
			}
		}
		fmt.Println()
	}

	// The primary fails twice in a row: it is demoted, not dropped.
	for k := range 2 {
		h.Observe(strategy.Outcome{Index: 0, Start: start.Add(time.Duration(k) * time.Second), Latency: 20 * time.Millisecond, Status: 503})
	}
	plan(start.Add(5 * time.Second))
	// After the cooldown one call probes it, and its success restores it.
	plan(start.Add(20 * time.Second))
	h.Observe(strategy.Outcome{Index: 0, Start: start.Add(20 * time.Second), Latency: 300 * time.Millisecond, Status: 200})
	plan(start.Add(21 * time.Second))
	// Output:
	//  1:picked 0:demoted(failures)
	//  0:probe(failures) 1:fallback
	//  0:picked 1:fallback
}

func ExampleHealth_sla() {
	h, _ := strategy.NewHealth(2, strategy.HealthOptions{
		SLA: []target.SLACutoff{{TimePerOutputToken: 50 * time.Millisecond}},
	})
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	// Three calls of the primary at 80 ms per output token.
	for k := range 3 {
		h.Observe(strategy.Outcome{Index: 0, Start: start.Add(time.Duration(k) * time.Second), Latency: 800 * time.Millisecond, OutputTokens: 10, Status: 200})
	}
	now := start.Add(5 * time.Second)
	fmt.Println(h.Unhealthy(now) == strategy.Of(0), h.Cause(0, now))
	// Three minutes without calls: the samples have left the window.
	now = now.Add(3 * time.Minute)
	fmt.Println(h.Unhealthy(now) == strategy.Of(0), h.Cause(0, now) == strategy.CauseNone)
	// Output:
	// true sla-tpot
	// false true
}

func ExampleLatency() {
	h, _ := strategy.NewHealth(3, strategy.HealthOptions{})
	l, _ := strategy.NewLatency(h.Stats())
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	// Targets 0 and 1 run at 10 and 11 ms per token, target 2 at 30;
	// the Health records each outcome in the Stats the strategy reads.
	for k := range 5 {
		for i, tpot := range []time.Duration{10, 11, 30} {
			h.Observe(strategy.Outcome{Index: i, Start: start.Add(time.Duration(k) * time.Second), Latency: 20 * tpot * time.Millisecond, OutputTokens: 20, Status: 200})
		}
	}
	now := start.Add(time.Minute)
	fmt.Println(h.Stats().Summary(2, now).TPOT)
	for _, r := range []float64{0.2, 0.7} {
		p := strategy.NewPlan(strategy.PlanInfo{Strategy: l, Eligible: strategy.All(3), Health: h, Now: now, Rand: func() float64 { return r }})
		for {
			s, ok := p.Next()
			if !ok {
				break
			}
			fmt.Printf(" %d:%v(%v)", s.Index, s.Reason, s.Cause)
		}
		fmt.Println()
	}
	// Output:
	// 30ms
	//  0:picked(fast-band) 1:fallback(fastest) 2:fallback(fastest)
	//  1:picked(fast-band) 0:fallback(fastest) 2:fallback(fastest)
}
