package strategy_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/strategy"
)

func mustStats(t testing.TB, n int) *strategy.Stats {
	t.Helper()
	s, err := strategy.NewStats(n)
	if err != nil {
		t.Fatalf("NewStats(%d): %v", n, err)
	}
	return s
}

func TestStatsTPOT(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		o    strategy.Outcome
		want strategy.Summary
	}{
		{
			name: "call: total over tokens",
			o:    strategy.Outcome{Latency: 500 * ms, OutputTokens: 10, Status: 200},
			want: strategy.Summary{Samples: 1, TPOT: 50 * ms, SLASamples: 1, SLATPOT: 50 * ms},
		},
		{
			name: "stream: after the first token over the tokens after it",
			o:    strategy.Outcome{Latency: 1200 * ms, TTFT: 200 * ms, OutputTokens: 11, Status: 200},
			want: strategy.Summary{
				Samples: 1, TPOT: 100 * ms, TTFTSamples: 1, TTFT: 200 * ms,
				SLASamples: 1, SLATPOT: 100 * ms, SLATTFTSamples: 1, SLATTFT: 200 * ms,
			},
		},
		{
			name: "stream of one token: total",
			o:    strategy.Outcome{Latency: 300 * ms, TTFT: 300 * ms, OutputTokens: 1, Status: 200},
			want: strategy.Summary{
				Samples: 1, TPOT: 300 * ms, TTFTSamples: 1, TTFT: 300 * ms,
				SLASamples: 1, SLATPOT: 300 * ms, SLATTFTSamples: 1, SLATTFT: 300 * ms,
			},
		},
		{
			name: "tokens unknown (embedding): total",
			o:    strategy.Outcome{Latency: 80 * ms, Status: 200},
			want: strategy.Summary{Samples: 1, TPOT: 80 * ms, SLASamples: 1, SLATPOT: 80 * ms},
		},
		{
			name: "fast 503 with nothing to compare: the floor, one second",
			o:    strategy.Outcome{Latency: 5 * ms, Status: 503, Err: errUpstream},
			want: strategy.Summary{Samples: 1, TPOT: time.Second},
		},
		{
			name: "slow transport failure: its own latency",
			o:    strategy.Outcome{Latency: 3 * time.Second, Err: errUpstream},
			want: strategy.Summary{Samples: 1, TPOT: 3 * time.Second},
		},
		{
			name: "400 says nothing about the target",
			o:    strategy.Outcome{Latency: 5 * ms, Status: 400, Err: errUpstream},
			want: strategy.Summary{},
		},
		{
			name: "404 is not a health failure either",
			o:    strategy.Outcome{Latency: 5 * ms, Status: 404, Err: errUpstream},
			want: strategy.Summary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStats(t, 1)
			tt.o.Start = t0
			s.Observe(tt.o)
			got := s.Summary(0, t0.Add(time.Minute))
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Summary (-got +want):\n%s", diff)
			}
		})
	}
}

func TestStatsFailurePenalty(t *testing.T) {
	ms := time.Millisecond
	s := mustStats(t, 2)
	// Target 1's slowest recent success is 100 ms per token; a fast
	// failure of target 0 costs twice that.
	s.Observe(success(1, t0, 40*ms))
	s.Observe(success(1, t0, 100*ms))
	s.Observe(failed(0, t0, 503, 5*ms))
	if got, want := s.Summary(0, t0.Add(time.Second)).TPOT, 200*ms; got != want {
		t.Errorf("failure TPOT = %v, want %v", got, want)
	}
	// A target failing one call in ten looks about 10% slower (the
	// failure costs 20 ms, twice its slowest success), a little more
	// since the failure is its newest sample and weighs most.
	s2 := mustStats(t, 1)
	for k := range 9 {
		s2.Observe(success(0, t0.Add(time.Duration(k)*time.Second), 10*ms))
	}
	s2.Observe(failed(0, t0.Add(10*time.Second), 503, ms))
	if got := s2.Summary(0, t0.Add(11*time.Second)).TPOT; got < 11*ms || got > 11200*time.Microsecond {
		t.Errorf("mean with one failure in ten = %v, want about 11.1ms", got)
	}
}

func TestStatsWindow(t *testing.T) {
	ms := time.Millisecond
	t.Run("at most the last 100 calls", func(t *testing.T) {
		s := mustStats(t, 1)
		s.Observe(success(0, t0, 500*ms))
		warm(s, 0, 100, 10*ms, t0.Add(2*time.Minute))
		got := s.Summary(0, t0.Add(2*time.Minute))
		if got.Samples != 100 || got.TPOT != 10*ms {
			t.Errorf("Summary = %d samples, TPOT %v; want 100, %v", got.Samples, got.TPOT, 10*ms)
		}
	})
	t.Run("20 minutes for latency, 3 for SLA", func(t *testing.T) {
		s := mustStats(t, 1)
		s.Observe(success(0, t0, 10*ms)) // ends at t0+100ms
		end := t0.Add(100 * ms)
		tests := []struct {
			at           time.Duration
			samples, sla int
		}{
			{0, 1, 1},
			{3*time.Minute - 1, 1, 1},
			{3 * time.Minute, 1, 0},
			{20*time.Minute - 1, 1, 0},
			{20 * time.Minute, 0, 0},
		}
		for _, tt := range tests {
			got := s.Summary(0, end.Add(tt.at))
			if got.Samples != tt.samples || got.SLASamples != tt.sla {
				t.Errorf("at +%v: %d samples, %d SLA samples; want %d, %d", tt.at, got.Samples, got.SLASamples, tt.samples, tt.sla)
			}
		}
		// A zero now expires nothing; the last computed values stand.
		if got := s.Summary(0, time.Time{}); got.Samples != 0 {
			t.Errorf("zero now after expiry: %d samples, want 0", got.Samples)
		}
	})
	t.Run("a new sample after expiry", func(t *testing.T) {
		s := mustStats(t, 1)
		s.Observe(success(0, t0, 90*ms))
		s.Observe(success(0, t0.Add(30*time.Minute), 10*ms))
		if got := s.Summary(0, t0.Add(30*time.Minute+time.Second)); got.Samples != 1 || got.TPOT != 10*ms {
			t.Errorf("Summary = %d samples, TPOT %v; want 1, %v", got.Samples, got.TPOT, 10*ms)
		}
	})
}

func TestStatsOutOfRange(t *testing.T) {
	s := mustStats(t, 2)
	s.Observe(success(-1, t0, time.Millisecond))
	s.Observe(success(2, t0, time.Millisecond))
	if got := s.Summary(2, t0); got != (strategy.Summary{}) {
		t.Errorf("Summary(2) = %+v, want zero", got)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
	for _, n := range []int{-1, strategy.MaxTargets + 1} {
		if _, err := strategy.NewStats(n); err == nil {
			t.Errorf("NewStats(%d): no error", n)
		}
	}
}

// A target's successes are recorded at most one per millisecond of their
// end times: a success ending within a millisecond of the last recorded
// sample, before or after it, is left out; a failure never is.
func TestStatsSampleGap(t *testing.T) {
	ms := time.Millisecond
	us := time.Microsecond
	end := func(o strategy.Outcome) time.Time { return o.Start.Add(o.Latency) }
	first := success(0, t0, 10*ms) // ends at t0+100ms, TPOT 10 ms
	tests := []struct {
		name   string
		then   []strategy.Outcome
		target int // whose Summary is checked
		want   strategy.Summary
	}{
		{
			name: "a success at the same instant is left out",
			then: []strategy.Outcome{success(0, t0, 10*ms)},
			want: strategy.Summary{Samples: 1, TPOT: 10 * ms, SLASamples: 1, SLATPOT: 10 * ms},
		},
		{
			name: "a success 999µs later is left out",
			then: []strategy.Outcome{{Index: 0, Start: end(first).Add(999*us - 40*ms), Latency: 40 * ms, OutputTokens: 1, Status: 200}},
			want: strategy.Summary{Samples: 1, TPOT: 10 * ms, SLASamples: 1, SLATPOT: 10 * ms},
		},
		{
			name: "a success ending 999µs earlier is left out too",
			then: []strategy.Outcome{{Index: 0, Start: end(first).Add(-999*us - 40*ms), Latency: 40 * ms, OutputTokens: 1, Status: 200}},
			want: strategy.Summary{Samples: 1, TPOT: 10 * ms, SLASamples: 1, SLATPOT: 10 * ms},
		},
		{
			name: "a success 1ms later counts",
			then: []strategy.Outcome{{Index: 0, Start: end(first).Add(ms - 40*ms), Latency: 40 * ms, OutputTokens: 1, Status: 200}},
			want: strategy.Summary{Samples: 2, TPOT: 25 * ms, SLASamples: 2, SLATPOT: 25 * ms},
		},
		{
			name: "a failure at the same instant counts",
			then: []strategy.Outcome{failed(0, end(first), 503, 0)},
			// Penalty: twice the slowest success, 20 ms.
			want: strategy.Summary{Samples: 2, TPOT: 15 * ms, SLASamples: 1, SLATPOT: 10 * ms},
		},
		{
			name: "the gap is measured from the last recorded sample",
			// The second is left out (0.6 ms after the first), so
			// the third, 1.2 ms after the first, counts.
			then: []strategy.Outcome{
				{Index: 0, Start: end(first).Add(600 * us), Latency: 0, Status: 200},
				{Index: 0, Start: end(first).Add(1200*us - 30*ms), Latency: 30 * ms, OutputTokens: 1, Status: 200},
			},
			want: strategy.Summary{Samples: 2, TPOT: 20 * ms, SLASamples: 2, SLATPOT: 20 * ms},
		},
		{
			name:   "each target has its own gap",
			then:   []strategy.Outcome{success(1, t0, 10*ms)},
			target: 1,
			want:   strategy.Summary{Samples: 1, TPOT: 10 * ms, SLASamples: 1, SLATPOT: 10 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStats(t, 2)
			s.Observe(first)
			for _, o := range tt.then {
				s.Observe(o)
			}
			if got := s.Summary(tt.target, t0.Add(time.Second)); got != tt.want {
				t.Errorf("target %d: %+v, want %+v", tt.target, got, tt.want)
			}
		})
	}
	t.Run("a burst of calls keeps about one sample a millisecond", func(t *testing.T) {
		s := mustStats(t, 1)
		// 1,000 calls ending 10µs apart, 10 ms in all.
		for k := range 1000 {
			s.Observe(strategy.Outcome{Start: t0.Add(time.Duration(k) * 10 * us), Latency: ms, OutputTokens: 1, Status: 200})
		}
		if got := s.Summary(0, t0.Add(time.Second)).Samples; got != 10 {
			t.Errorf("%d samples, want 10 (one a millisecond)", got)
		}
	})
}
