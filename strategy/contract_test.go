package strategy_test

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/llmroute/llmroute/strategy"
)

// contractCase builds a strategy over n targets; health is the virtual
// model's Health, which a Latency reads.
type contractCase struct {
	name string
	make func(t testing.TB, n int, h *strategy.Health) strategy.Strategy
}

func contractCases() []contractCase {
	return []contractCase{
		{"weighted", func(t testing.TB, n int, _ *strategy.Health) strategy.Strategy {
			w := make([]int, n)
			for i := range w {
				w[i] = i % 4 * 10 // some 0: never first while others are eligible
			}
			return mustWeighted(t, w...)
		}},
		{"weighted all zero", func(t testing.TB, n int, _ *strategy.Health) strategy.Strategy {
			return mustWeighted(t, make([]int, n)...)
		}},
		{"priority", func(t testing.TB, n int, _ *strategy.Health) strategy.Strategy {
			p := make([]int, n)
			for i := range p {
				p[i] = i % 3
			}
			return mustPriority(t, p...)
		}},
		{"latency", func(t testing.TB, n int, h *strategy.Health) strategy.Strategy {
			// Some targets warm at various speeds, some cold, one
			// with failures.
			for i := range n {
				switch i % 4 {
				case 0, 1:
					warm(h, i, 5, time.Duration(10+i)*time.Millisecond, t0)
				case 2:
					warm(h, i, 5, 10*time.Millisecond, t0)
					h.Observe(failed(i, t0, 503, time.Millisecond))
				}
			}
			return mustLatency(t, h.Stats())
		}},
	}
}

// contractSizes are the virtual model sizes the suite runs at.
var contractSizes = []int{1, 3, 8, strategy.MaxTargets}

func TestContractPick(t *testing.T) {
	for _, c := range contractCases() {
		for _, n := range contractSizes {
			t.Run(c.name+"/"+itoa(n), func(t *testing.T) {
				h := mustHealth(t, n, strategy.HealthOptions{})
				st := c.make(t, n, h)
				r := rand.New(rand.NewPCG(uint64(n), 1))
				for range 2000 {
					in := strategy.PickInfo{
						Candidates: strategy.Set(r.Uint64()) >> r.IntN(64),
						Now:        t0.Add(time.Duration(r.IntN(30)) * time.Minute),
						Rand:       r.Float64(),
						First:      r.IntN(2) == 0,
					}
					got, err := st.Pick(in)
					if in.Candidates&strategy.All(n) == 0 {
						// Candidates beyond the strategy's targets do
						// not exist for it.
						if !errors.Is(err, strategy.ErrNoCandidates) {
							t.Fatalf("Pick(%b) of %d targets = %+v, %v; want ErrNoCandidates", in.Candidates, n, got, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("Pick(%b): %v", in.Candidates, err)
					}
					if !in.Candidates.Has(got.Index) || got.Index >= n {
						t.Fatalf("Pick(%b) = %d: not a candidate", in.Candidates, got.Index)
					}
				}
			})
		}
	}
}

func TestContractNoCandidates(t *testing.T) {
	for _, c := range contractCases() {
		t.Run(c.name, func(t *testing.T) {
			h := mustHealth(t, 4, strategy.HealthOptions{})
			st := c.make(t, 4, h)
			for _, first := range []bool{true, false} {
				if _, err := st.Pick(strategy.PickInfo{Now: t0, First: first}); !errors.Is(err, strategy.ErrNoCandidates) {
					t.Errorf("Pick(no candidates, first %v): err %v, want ErrNoCandidates", first, err)
				}
			}
			p := strategy.NewPlan(strategy.PlanInfo{Strategy: st, Health: h, Now: t0})
			if s, ok := p.Next(); ok {
				t.Errorf("Plan with nothing eligible gave %+v", s)
			}
		})
	}
}

// TestContractPlan walks random plans: every eligible target is handed
// out exactly once, except NoFallback targets that are not first; no
// target twice; nothing ineligible; healthy targets before unhealthy ones
// after the first.
func TestContractPlan(t *testing.T) {
	for _, c := range contractCases() {
		for _, n := range contractSizes {
			t.Run(c.name+"/"+itoa(n), func(t *testing.T) {
				h := mustHealth(t, n, strategy.HealthOptions{})
				st := c.make(t, n, h)
				r := rand.New(rand.NewPCG(uint64(n), 2))
				// Some targets unhealthy from failures, some of them due
				// a probe at the times the plans run.
				for i := range n {
					if r.IntN(3) == 0 {
						at := t0.Add(-time.Duration(r.IntN(30)) * time.Second)
						h.Observe(failed(i, at, 503, 0))
						h.Observe(failed(i, at, 503, 0))
					}
				}
				for range 2000 {
					all := strategy.All(n)
					info := strategy.PlanInfo{
						Strategy:   st,
						Eligible:   strategy.Set(r.Uint64()) & all,
						NoFallback: strategy.Set(r.Uint64()) & strategy.Set(r.Uint64()) & all,
						Unhealthy:  strategy.Set(r.Uint64()) & strategy.Set(r.Uint64()) & all,
						Now:        t0.Add(time.Duration(r.IntN(40)) * time.Second),
						Rand:       r.Float64,
					}
					if r.IntN(4) == 0 {
						info.Pin = strategy.Of(r.IntN(n))
					}
					if r.IntN(2) == 0 {
						info.Health = h
					}
					checkPlan(t, info, n)
				}
			})
		}
	}
}

func checkPlan(t *testing.T, info strategy.PlanInfo, n int) {
	t.Helper()
	unhealthy := info.Unhealthy
	if info.Health != nil {
		unhealthy |= info.Health.Unhealthy(info.Now)
	}
	steps := order(strategy.NewPlan(info))
	var seen strategy.Set
	demoted := false
	for k, s := range steps {
		switch {
		case !info.Eligible.Has(s.Index):
			t.Fatalf("%+v: step %d = %d, not eligible", info, k, s.Index)
		case seen.Has(s.Index):
			t.Fatalf("%+v: step %d = %d again", info, k, s.Index)
		case k > 0 && info.NoFallback.Has(s.Index):
			t.Fatalf("%+v: step %d = %d, a NoFallback target as a fallback", info, k, s.Index)
		case k > 0 && demoted && !unhealthy.Has(s.Index):
			t.Fatalf("%+v: step %d = %d, healthy after an unhealthy one", info, k, s.Index)
		}
		if k > 0 && unhealthy.Has(s.Index) {
			demoted = true
			if s.Reason != strategy.ReasonDemoted {
				t.Fatalf("%+v: step %d = %+v, unhealthy but not demoted", info, k, s)
			}
		}
		seen |= 1 << s.Index
	}
	want := info.Eligible &^ info.NoFallback
	if len(steps) > 0 {
		want |= strategy.Of(steps[0].Index)
	} else if info.Eligible != 0 {
		t.Fatalf("%+v: no steps", info)
	}
	if seen != want {
		t.Fatalf("%+v: handed out %b, want %b", info, seen, want)
	}
	if len(steps) != bits.OnesCount64(uint64(want)) {
		t.Fatalf("%+v: %d steps for %d targets", info, len(steps), bits.OnesCount64(uint64(want)))
	}
}

// TestContractConcurrent runs plans, outcomes and health reads on one
// strategy and Health from many goroutines; run with -race.
func TestContractConcurrent(t *testing.T) {
	for _, c := range contractCases() {
		t.Run(c.name, func(t *testing.T) {
			const n = 8
			h := mustHealth(t, n, strategy.HealthOptions{Cooldown: time.Second})
			st := c.make(t, n, h)
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 3))
					for k := range 500 {
						now := t0.Add(time.Duration(k) * 100 * time.Millisecond)
						p := strategy.NewPlan(strategy.PlanInfo{Strategy: st, Eligible: strategy.All(n), Health: h, Now: now, Rand: r.Float64})
						for {
							s, ok := p.Next()
							if !ok {
								break
							}
							if s.Index < 0 || s.Index >= n {
								t.Errorf("step %+v out of range", s)
								return
							}
							if r.IntN(3) == 0 {
								p.Done(failed(s.Index, now, 503, time.Duration(r.IntN(100))*time.Millisecond))
								continue
							}
							p.Done(success(s.Index, now, time.Duration(1+r.IntN(50))*time.Millisecond))
							break
						}
						_ = h.Stats().Summary(r.IntN(n), now)
					}
				})
			}
			wg.Wait()
		})
	}
}
