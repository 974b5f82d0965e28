package strategy_test

import (
	"testing"
	"time"

	"github.com/llmroute/llmroute/strategy"
)

// benchStrategies builds each strategy over n warm targets, and the
// Health whose Stats the latency strategy reads.
func benchStrategies(b *testing.B, n int) (map[string]strategy.Strategy, *strategy.Health) {
	h := mustHealth(b, n, strategy.HealthOptions{})
	w := make([]int, n)
	p := make([]int, n)
	for i := range n {
		w[i] = 1 + i%5
		p[i] = i % 3
		warm(h, i, 100, time.Duration(10+i%3)*time.Millisecond, t0)
	}
	return map[string]strategy.Strategy{
		"weighted": mustWeighted(b, w...),
		"priority": mustPriority(b, p...),
		"latency":  mustLatency(b, h.Stats()),
	}, h
}

// BenchmarkPlan measures a call's planning: "first" is NewPlan and the
// first Next (a call that succeeds at once); "full" walks the whole
// order. "+health" plans with the virtual model's Health.
func BenchmarkPlan(b *testing.B) {
	now := t0.Add(time.Second)
	for _, n := range []int{3, 8, 32} {
		for _, name := range []string{"weighted", "priority", "latency"} {
			for _, withHealth := range []bool{false, true} {
				for _, full := range []bool{false, true} {
					for _, parallel := range []bool{false, true} {
						sts, h := benchStrategies(b, n)
						info := strategy.PlanInfo{Strategy: sts[name], Eligible: strategy.All(n), Now: now}
						label := name
						if withHealth {
							info.Health = h
							label += "+health"
						}
						label += "/" + map[bool]string{false: "first", true: "full"}[full]
						label += "/n=" + itoa(n)
						label += map[bool]string{false: "/serial", true: "/parallel"}[parallel]
						b.Run(label, func(b *testing.B) {
							b.ReportAllocs()
							walk := func() int {
								p := strategy.NewPlan(info)
								s, _ := p.Next()
								sum := s.Index
								if full {
									for {
										s, ok := p.Next()
										if !ok {
											break
										}
										sum += s.Index
									}
								}
								return sum
							}
							if parallel {
								b.RunParallel(func(pb *testing.PB) {
									for pb.Next() {
										walk()
									}
								})
								return
							}
							for b.Loop() {
								walk()
							}
						})
					}
				}
			}
		}
	}
}

// BenchmarkObserve measures recording one attempt's outcome through a
// Plan's Health (health state and latency statistics).
func BenchmarkObserve(b *testing.B) {
	for _, kind := range []string{"success", "failure"} {
		for _, parallel := range []bool{false, true} {
			b.Run(kind+map[bool]string{false: "/serial", true: "/parallel"}[parallel], func(b *testing.B) {
				const n = 8
				h := mustHealth(b, n, strategy.HealthOptions{})
				o := success(0, t0, 20*time.Millisecond)
				if kind == "failure" {
					// Failures spaced wider than the window, so the
					// target stays healthy and each one is recorded as
					// a latency sample.
					o = failed(0, t0, 503, 5*time.Millisecond)
				}
				step := time.Millisecond
				if kind == "failure" {
					step = 3 * time.Minute
				}
				b.ReportAllocs()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						o := o
						for k := 0; pb.Next(); k++ {
							o.Index = k % n
							o.Start = t0.Add(time.Duration(k) * step)
							h.Observe(o)
						}
					})
					return
				}
				k := 0
				for b.Loop() {
					o.Index = k % n
					o.Start = t0.Add(time.Duration(k) * step)
					h.Observe(o)
					k++
				}
			})
		}
	}
}
