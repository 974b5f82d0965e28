package strategy_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmroute/llmroute/strategy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the virtual time tests start at.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var errUpstream = errors.New("upstream failed")

// seeded returns a deterministic random source for one goroutine.
func seeded(seed uint64) func() float64 {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Float64
}

// success is a successful non-streaming call of target i at start taking
// tpot per token over 10 tokens.
func success(i int, start time.Time, tpot time.Duration) strategy.Outcome {
	return strategy.Outcome{Index: i, Start: start, Latency: 10 * tpot, OutputTokens: 10, Status: 200}
}

// failed is a failed call of target i at start with the given status.
func failed(i int, start time.Time, status int, took time.Duration) strategy.Outcome {
	return strategy.Outcome{Index: i, Start: start, Latency: took, Status: status, Err: errUpstream}
}

func mustHealth(t testing.TB, n int, opts strategy.HealthOptions) *strategy.Health {
	t.Helper()
	h, err := strategy.NewHealth(n, opts)
	if err != nil {
		t.Fatalf("NewHealth(%d): %v", n, err)
	}
	return h
}

func mustLatency(t testing.TB, s *strategy.Stats) *strategy.Latency {
	t.Helper()
	l, err := strategy.NewLatency(s)
	if err != nil {
		t.Fatalf("NewLatency: %v", err)
	}
	return l
}

func mustPriority(t testing.TB, prios ...int) *strategy.Priority {
	t.Helper()
	p, err := strategy.NewPriority(prios)
	if err != nil {
		t.Fatalf("NewPriority: %v", err)
	}
	return p
}

func mustWeighted(t testing.TB, weights ...int) *strategy.Weighted {
	t.Helper()
	w, err := strategy.NewWeighted(weights)
	if err != nil {
		t.Fatalf("NewWeighted: %v", err)
	}
	return w
}

// warm records n successful calls of target i at tpot, one a second
// ending at end.
func warm(s interface{ Observe(strategy.Outcome) }, i, n int, tpot time.Duration, end time.Time) {
	for k := n; k > 0; k-- {
		s.Observe(success(i, end.Add(-time.Duration(k)*time.Second), tpot))
	}
}

// order walks a whole plan and returns its steps.
func order(p strategy.Plan) []strategy.Step {
	var steps []strategy.Step
	for {
		s, ok := p.Next()
		if !ok {
			return steps
		}
		steps = append(steps, s)
	}
}
