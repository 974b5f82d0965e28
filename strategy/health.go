package strategy

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmroute/llmroute/target"
)

// Health defaults (see docs/behaviour.md, Health).
const (
	// DefaultFailures is how many failures within DefaultFailureWindow
	// make a target unhealthy.
	DefaultFailures = 2
	// DefaultFailureWindow is the rolling window failures are counted in.
	DefaultFailureWindow = 2 * time.Minute
	// DefaultCooldown is how long an unhealthy target waits before a
	// probe call may try it first, and between probes.
	DefaultCooldown = 15 * time.Second
	// maxFailures bounds HealthOptions.Failures.
	maxFailures = 16
)

// HealthOptions configures a [Health]. The zero value means the defaults
// above and no SLA cutoffs.
type HealthOptions struct {
	// Failures is how many failures within Window make a target
	// unhealthy; 0 means DefaultFailures (2). At most 16.
	Failures int
	// Window is the rolling window failures are counted in; 0 means
	// DefaultFailureWindow (2 minutes).
	Window time.Duration
	// Cooldown is how long an unhealthy target waits before one probe
	// call may try it first, and between two probes; 0 means
	// DefaultCooldown (15 seconds).
	Cooldown time.Duration
	// SLA holds the targets' SLA cutoffs by index; a target beyond the
	// slice, or with a zero cutoff, has none. A target whose mean TPOT
	// (or TTFT) over the successful calls of the last 3 minutes among
	// its last 100 samples (see [Stats]), at least 3 of them, is above
	// its cutoff is unhealthy until the mean falls back
	// to the cutoff or below.
	SLA []target.SLACutoff
	// NoStats skips recording latency samples when nothing reads them: a
	// weight- or priority-based model without SLA cutoffs. Failure
	// counting, demotion and probes work the same. A Latency strategy
	// must be given the Stats of a Health that keeps them.
	NoStats bool
}

// Health tracks which of a virtual model's targets are unhealthy, for
// any strategy. Give it to each call's Plan
// (PlanInfo.Health): the Plan demotes unhealthy targets after the healthy
// ones (never drops them), hands out probes, and feeds every outcome back
// through Plan.Done.
//
// A target is unhealthy after Failures (2) failures within Window
// (2 minutes). The failures that count are 5xx, 429, 401, 403, 408 and
// transport failures; a 400 or 404 says nothing about the
// target. Once a target has been unhealthy for Cooldown (15 seconds), a
// Plan offers it to the strategy's first pick alongside the healthy
// targets; when the strategy picks it, the Plan claims the probe (a
// compare-and-swap on the target's next probe time) and the call tries it
// first. So one call per cooldown probes it, and a probe never sends a
// call to a target the strategy would not have picked first (a backup of
// a healthy primary is not probed, a weight-0 target is never first). A success of a call that started after
// the target turned unhealthy (a probe, or a call that reached the
// demoted target as a last resort) makes it healthy at once and clears
// its failures; failures of calls that started before that success are
// ignored, and a failure while unhealthy restarts the cooldown. A probe
// whose outcome never comes (a cancelled call) blocks nothing: the next
// probe is due one cooldown after the last claim.
//
// A target breaching its SLA cutoff is unhealthy while the 3-minute mean
// is above the cutoff; it is not probed. Demoted, it usually gets no
// calls, so its samples age out of the window and it is tried again
// within 3 minutes; any call it serves as a fallback also moves its mean.
//
// Health keeps the virtual model's [Stats] ([Health.Stats]) and records
// every outcome in them, so that a [Latency] strategy built on those
// Stats learns from the same single path. While a target is unhealthy
// its failures are not recorded as latency samples, and its earlier ones
// are dropped when it turns unhealthy: demotion already carries them, and
// a recovered target should be judged by its speed.
//
// A Health is safe for concurrent use: reading state is a few atomic loads
// per target, recording an outcome takes only that target's small locks,
// and neither allocates. Create one with [NewHealth].
type Health struct {
	t        []htarget
	stats    *Stats
	sla      []target.SLACutoff // len(t)
	slaSet   Set                // targets with a cutoff
	failures int
	window   int64 // ns
	cooldown int64 // ns
	noStats  bool
}

// htarget is one target's failure state.
type htarget struct {
	until   atomic.Int64 // unhealthy from failures while now < until (Unix ns); 0 when clear
	since   atomic.Int64 // when it last turned unhealthy
	probeAt atomic.Int64 // the next probe may be claimed from this time

	mu     sync.Mutex
	fails  [maxFailures]int64 // end times of the latest failures, newest first
	nf     int
	healed int64 // failures of attempts started before this are ignored
}

// NewHealth returns the health of a virtual model of n targets, all
// healthy.
func NewHealth(n int, opts HealthOptions) (*Health, error) {
	stats, err := NewStats(n)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.Failures < 0 || opts.Failures > maxFailures:
		return nil, fmt.Errorf("strategy: HealthOptions.Failures %d out of range 0..%d", opts.Failures, maxFailures)
	case opts.Window < 0:
		return nil, fmt.Errorf("strategy: HealthOptions.Window %v is negative", opts.Window)
	case opts.Cooldown < 0:
		return nil, fmt.Errorf("strategy: HealthOptions.Cooldown %v is negative", opts.Cooldown)
	case len(opts.SLA) > n:
		return nil, fmt.Errorf("strategy: HealthOptions.SLA has %d cutoffs for %d targets", len(opts.SLA), n)
	}
	h := &Health{
		t:        make([]htarget, n),
		stats:    stats,
		sla:      make([]target.SLACutoff, n),
		failures: cmp.Or(opts.Failures, DefaultFailures),
		window:   int64(cmp.Or(opts.Window, DefaultFailureWindow)),
		cooldown: int64(cmp.Or(opts.Cooldown, DefaultCooldown)),
		noStats:  opts.NoStats,
	}
	for i, c := range opts.SLA {
		if c.TimePerOutputToken < 0 || c.TimeToFirstToken < 0 {
			return nil, fmt.Errorf("strategy: HealthOptions.SLA[%d]: negative cutoff", i)
		}
		h.sla[i] = c
		if !c.IsZero() {
			h.slaSet |= 1 << i
		}
	}
	return h, nil
}

// Stats returns the statistics h records every outcome in; build a
// [Latency] strategy on them.
func (h *Health) Stats() *Stats { return h.stats }

// Unhealthy returns the targets unhealthy at now, from failures or from an
// SLA breach.
func (h *Health) Unhealthy(now time.Time) Set {
	ns := unixNano(now)
	var u Set
	for i := range h.t {
		if ns < h.t[i].until.Load() {
			u |= 1 << i
		}
	}
	for i := range (h.slaSet &^ u).Indices() {
		if h.slaCause(i, ns) != CauseNone {
			u |= 1 << i
		}
	}
	return u
}

// Cause says why target i is unhealthy at now: CauseFailures,
// CauseSLATPOT or CauseSLATTFT; CauseNone when it is healthy.
func (h *Health) Cause(i int, now time.Time) Cause {
	if i < 0 || i >= len(h.t) {
		return CauseNone
	}
	ns := unixNano(now)
	if ns < h.t[i].until.Load() {
		return CauseFailures
	}
	if h.slaSet.Has(i) {
		return h.slaCause(i, ns)
	}
	return CauseNone
}

func (h *Health) slaCause(i int, now int64) Cause {
	t := &h.stats.t[i]
	t.fresh(now)
	c := h.sla[i]
	if n, mean := unpack(t.slaTPOT.Load()); c.TimePerOutputToken > 0 && n >= minSamples && mean > c.TimePerOutputToken {
		return CauseSLATPOT
	}
	if n, mean := unpack(t.slaTTFT.Load()); c.TimeToFirstToken > 0 && n >= minSamples && mean > c.TimeToFirstToken {
		return CauseSLATTFT
	}
	return CauseNone
}

// due returns the targets of cand that are unhealthy from failures and
// whose probe may be claimed at now.
func (h *Health) due(cand Set, now int64) Set {
	var d Set
	for i := range (cand & All(len(h.t))).Indices() {
		t := &h.t[i]
		if now < t.until.Load() && now >= t.probeAt.Load() {
			d |= 1 << i
		}
	}
	return d
}

// claim takes target i's probe at now; it reports false when the probe is
// not due or another call took it first.
func (h *Health) claim(i int, now int64) bool {
	t := &h.t[i]
	p := t.probeAt.Load()
	if now < p || now >= t.until.Load() {
		return false
	}
	return t.probeAt.CompareAndSwap(p, now+h.cooldown)
}

// Change is what one outcome changed in a target's health.
type Change uint8

// Changes.
const (
	// Unchanged: the target's health is as it was.
	Unchanged Change = iota
	// Demoted: the target became unhealthy after repeated failures.
	Demoted
	// Recovered: an unhealthy target served and is healthy again.
	Recovered
)

// String names c.
func (c Change) String() string {
	switch c {
	case Demoted:
		return "demoted"
	case Recovered:
		return "recovered"
	}
	return "unchanged"
}

// Observe records an outcome of target o.Index, in the health state and
// in the Stats. Outcomes of an index out of range are ignored; outcomes
// of cancelled calls must not be reported. Observe allocates nothing.
func (h *Health) Observe(o Outcome) { h.Record(o) }

// Record is Observe that also says what the outcome changed: a target
// demoted by failures or recovered by a success. (An SLA breach is read
// from the statistics when asked, so no single outcome makes it.)
func (h *Health) Record(o Outcome) Change {
	if o.Index < 0 || o.Index >= len(h.t) {
		return Unchanged
	}
	switch classify(o) {
	case outcomeOK:
		healed := h.succeed(o)
		if h.KeepsStats() {
			h.stats.record(o, false)
		}
		if healed {
			return Recovered
		}
	case outcomeBad:
		switch h.fail(o) {
		case failHealthy:
			if h.KeepsStats() {
				h.stats.record(o, true)
			}
		case failDemoted:
			if h.KeepsStats() {
				h.stats.forgetFailures(o.Index)
			}
			return Demoted
		case failUnhealthy:
			if h.KeepsStats() {
				h.stats.forgetFailures(o.Index)
			}
		}
	}
	return Unchanged
}

// KeepsStats reports whether h records latency samples (a Latency
// strategy's, or SLA cutoffs'): always, unless NoStats was asked for and
// no target has an SLA cutoff. It says whether the Latency of a
// successful Outcome matters to h: when it does not, a caller may leave
// Latency zero rather than read a clock for it.
func (h *Health) KeepsStats() bool { return !h.noStats || h.slaSet != 0 }

// succeed heals target o.Index if it was unhealthy and o's call started
// after it turned so, and reports whether it did.
func (h *Health) succeed(o Outcome) bool {
	t := &h.t[o.Index]
	if t.until.Load() == 0 {
		return false
	}
	start := unixNano(o.Start)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.until.Load() != 0 && start >= t.since.Load() {
		t.heal(start)
		return true
	}
	return false
}

// heal makes t healthy: its failures are forgotten, and failures of
// attempts that started before at are ignored. t.mu must be held.
func (t *htarget) heal(at int64) {
	t.nf = 0
	t.until.Store(0)
	t.since.Store(0)
	t.probeAt.Store(0)
	t.healed = max(t.healed, at)
}

type failResult uint8

const (
	failIgnored   failResult = iota // from before the target last healed
	failHealthy                     // counted; the target is healthy
	failDemoted                     // counted; the target turned unhealthy
	failUnhealthy                   // counted; the target was already unhealthy
)

// fail counts a failure of target o.Index.
func (h *Health) fail(o Outcome) failResult {
	t := &h.t[o.Index]
	start := unixNano(o.Start)
	end := start + int64(o.Latency)
	t.mu.Lock()
	defer t.mu.Unlock()
	if start < t.healed {
		return failIgnored
	}
	was := end < t.until.Load()
	// Insert end, newest first, keeping the latest h.failures; outcomes
	// may arrive out of order.
	if t.nf < h.failures || end > t.fails[h.failures-1] {
		k := min(t.nf, h.failures-1)
		for k > 0 && t.fails[k-1] < end {
			t.fails[k] = t.fails[k-1]
			k--
		}
		t.fails[k] = end
		t.nf = min(t.nf+1, h.failures)
	}
	if t.nf < h.failures {
		return failHealthy
	}
	until := t.fails[h.failures-1] + h.window
	if until <= end {
		return failHealthy
	}
	if until > t.until.Load() {
		t.until.Store(until)
	}
	if !was {
		t.since.Store(end)
		t.probeAt.Store(end + h.cooldown)
		return failDemoted
	}
	// A failure while unhealthy, a probe's or a last resort's: the
	// cooldown starts again.
	for next := end + h.cooldown; ; {
		p := t.probeAt.Load()
		if p >= next || t.probeAt.CompareAndSwap(p, next) {
			break
		}
	}
	return failUnhealthy
}
