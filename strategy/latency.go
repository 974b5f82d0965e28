package strategy

import (
	"errors"
	"math"
)

// Latency is latency-based routing: it orders targets by their
// mean time per output token in a [Stats], recent calls weighing most. A
// target with fewer than 3 samples in the window counts as fast, so that
// it gets explored. The call's first target (PickInfo.First) is drawn
// uniformly from the fast band: the targets whose mean is within 1.2× of
// the fastest, and the cold ones. Except that a small share of first
// picks, Recheck (2%), goes to a target outside the band instead, drawn
// uniformly (CauseRecheck): without it a target that was slow would get
// no calls, so no new samples, and could never show it has recovered.
// Each fallback pick is the fastest remaining candidate (cold ones first,
// ties drawn uniformly), so a Plan's order after the first target is the
// rest by ascending latency.
//
// Latency only reads its Stats; they learn from the outcomes a [Health]
// built on them records (PlanInfo.Health, fed by Plan.Done), or from
// Stats.Observe called directly. So a call records each outcome once.
//
// A Latency is safe for concurrent use; Pick takes no lock and allocates
// nothing.
type Latency struct {
	stats *Stats
}

// Recheck is the share of a latency-based virtual model's first picks
// that go to a target outside the fast band, to notice its recovery.
const Recheck = 0.02

// NewLatency returns the latency-based strategy reading s, typically
// [Health.Stats] of the same virtual model.
func NewLatency(s *Stats) (*Latency, error) {
	if s == nil {
		return nil, errors.New("strategy: NewLatency: nil Stats")
	}
	return &Latency{stats: s}, nil
}

// Pick draws the first target from the fast band when in.First is set and
// otherwise returns the fastest candidate.
func (l *Latency) Pick(in PickInfo) (PickResult, error) {
	c := in.Candidates & All(len(l.stats.t))
	if c == 0 {
		return PickResult{}, ErrNoCandidates
	}
	now := unixNano(in.Now)
	ts := l.stats.t
	var lat [MaxTargets]uint64
	var cold Set
	fastest := uint64(math.MaxUint64)
	for i := range c.Indices() {
		t := &ts[i]
		t.fresh(now)
		v := t.lat.Load()
		if v>>meanBits < minSamples {
			cold |= 1 << i
			continue
		}
		lat[i] = v & meanMask
		fastest = min(fastest, lat[i])
	}
	if in.First {
		band := cold
		// Within 1.2×: mean ≤ fastest×6/5, in integers; means are
		// below 2^56, so this cannot overflow.
		for i := range (c &^ cold).Indices() {
			if lat[i]*5 <= fastest*6 {
				band |= 1 << i
			}
		}
		r := in.Rand
		if slow := c &^ band; slow != 0 {
			// One random number serves both draws: its top Recheck
			// picks among the slow targets, the rest in the band,
			// each rescaled to [0, 1).
			if r >= 1-Recheck {
				return PickResult{Index: slow.nth(uniform((r-(1-Recheck))/Recheck, slow.Len())), Cause: CauseRecheck}, nil
			}
			r /= 1 - Recheck
		}
		i := band.nth(uniform(r, band.Len()))
		if cold.Has(i) {
			return PickResult{Index: i, Cause: CauseExplore}, nil
		}
		return PickResult{Index: i, Cause: CauseFastBand}, nil
	}
	if cold != 0 {
		return PickResult{Index: cold.nth(uniform(in.Rand, cold.Len())), Cause: CauseExplore}, nil
	}
	var ties Set
	for i := range c.Indices() {
		if lat[i] == fastest {
			ties |= 1 << i
		}
	}
	return PickResult{Index: ties.nth(uniform(in.Rand, ties.Len())), Cause: CauseFastest}, nil
}
