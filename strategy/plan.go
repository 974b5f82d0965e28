package strategy

import (
	"math/bits"
	"time"
)

// Reason says why a Plan put a target where it did.
type Reason uint8

// Reasons.
const (
	// ReasonPicked: the strategy picked it first among healthy targets.
	ReasonPicked Reason = iota + 1
	// ReasonSticky: the call's sticky pin.
	ReasonSticky
	// ReasonProbe: an unhealthy target given one call to show it has
	// recovered.
	ReasonProbe
	// ReasonFallback: the strategy picked it among the remaining healthy
	// fallback candidates.
	ReasonFallback
	// ReasonDemoted: an unhealthy target, tried only after every healthy
	// one.
	ReasonDemoted
)

// String names r.
func (r Reason) String() string {
	switch r {
	case ReasonPicked:
		return "picked"
	case ReasonSticky:
		return "sticky"
	case ReasonProbe:
		return "probe"
	case ReasonFallback:
		return "fallback"
	case ReasonDemoted:
		return "demoted"
	}
	return "unknown"
}

// PlanInfo is what one call's Plan is built from.
type PlanInfo struct {
	// Strategy picks among candidates.
	Strategy Strategy
	// Eligible are the targets this call may use at all (metadata match,
	// operation).
	Eligible Set
	// NoFallback are the targets that may be first but never later.
	NoFallback Set
	// Unhealthy are the targets to try only after every healthy one.
	// When Health is set, the targets it finds unhealthy at Now are
	// added.
	Unhealthy Set
	// Pin, when it holds an eligible healthy target, goes first (sticky
	// routing). Zero means no pin.
	Pin Set
	// Probe, when it holds an eligible target, goes first to test its
	// recovery. Zero means no probe. A healthy pin wins. Callers using
	// Health leave it zero: the Plan claims Health's probes itself.
	Probe Set
	// Health, when set, is the virtual model's health: the Plan demotes
	// the targets it finds unhealthy, offers its due probes to the
	// strategy's first pick, and Done feeds it every outcome (and through
	// it the Stats a Latency strategy reads).
	Health *Health
	// Now is the time of the call.
	Now time.Time
	// Rand returns uniform numbers in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// Plan is one call's walk through a virtual model's targets. It is a small
// value meant to live on the caller's stack; it is not safe for concurrent
// use.
type Plan struct {
	info  PlanInfo
	used  Set
	picks int
}

// NewPlan starts a call's walk.
//
// It is small enough to be inlined, so that a caller keeping the Plan in a
// struct of its own builds it there.
func NewPlan(info PlanInfo) Plan {
	if info.Health != nil {
		info.Unhealthy |= info.Health.Unhealthy(info.Now)
	}
	return Plan{info: info}
}

// Step is one target of a Plan.
type Step struct {
	// Index is the target.
	Index int
	// Reason says why it is here.
	Reason Reason
	// Cause refines Reason: why a demoted or probed target is unhealthy
	// (with a Health), or how the strategy picked it.
	Cause Cause
}

// Next returns the next target to try, or false when none is left. The
// first call gives the call's first target; each later call gives the next
// fallback.
//
// With a Health, the first pick is made among the healthy targets and the
// unhealthy ones whose probe is due; when the strategy picks one of the
// latter and the Plan wins its claim, the call probes it (ReasonProbe).
// A lost claim means another call is probing it, and the pick is made
// again among the healthy targets.
func (p *Plan) Next() (Step, bool) {
	in := &p.info
	if p.picks == 0 {
		return p.first()
	}
	cand := in.Eligible &^ p.used &^ in.NoFallback
	if cand == 0 {
		return Step{}, false
	}
	reason := ReasonFallback
	if healthy := cand &^ in.Unhealthy; healthy != 0 {
		cand = healthy
	} else {
		reason = ReasonDemoted
	}
	return p.take(p.pick(cand, false), reason), true
}

func (p *Plan) first() (Step, bool) {
	in := &p.info
	// Targets already used were skipped (Skip): the first pick is made
	// again among the others.
	if pin := in.Pin & in.Eligible &^ in.Unhealthy &^ p.used; pin != 0 {
		return p.take(PickResult{Index: bits.TrailingZeros64(uint64(pin))}, ReasonSticky), true
	}
	if probe := in.Probe & in.Eligible &^ p.used; probe != 0 {
		return p.take(PickResult{Index: bits.TrailingZeros64(uint64(probe))}, ReasonProbe), true
	}
	cand := in.Eligible &^ p.used
	if cand == 0 {
		return Step{}, false
	}
	healthy := cand &^ in.Unhealthy
	var due Set
	if in.Health != nil && cand&in.Unhealthy != 0 {
		due = in.Health.due(cand&in.Unhealthy, unixNano(in.Now))
	}
	if from := healthy | due; from != 0 {
		r := p.pick(from, true)
		if !due.Has(r.Index) {
			return p.take(r, ReasonPicked), true
		}
		if in.Health.claim(r.Index, unixNano(in.Now)) {
			return p.take(PickResult{Index: r.Index, Cause: CauseFailures}, ReasonProbe), true
		}
		if healthy != 0 {
			return p.take(p.pick(healthy, true), ReasonPicked), true
		}
	}
	return p.take(p.pick(cand, true), ReasonDemoted), true
}

// pick asks the strategy for one of cand (not empty).
func (p *Plan) pick(cand Set, first bool) PickResult {
	in := &p.info
	rnd := in.Rand
	if rnd == nil {
		rnd = defaultRand
	}
	r, err := in.Strategy.Pick(PickInfo{Candidates: cand, Now: in.Now, Rand: rnd(), First: first})
	if err != nil || !cand.Has(r.Index) {
		// A strategy that strays outside its candidates is a bug in
		// that strategy; the call still gets a valid target.
		r = PickResult{Index: bits.TrailingZeros64(uint64(cand))}
	}
	return r
}

func (p *Plan) take(r PickResult, reason Reason) Step {
	s := Step{Index: r.Index, Reason: reason, Cause: r.Cause}
	if reason == ReasonDemoted {
		s.Cause = CauseNone
		if p.info.Health != nil {
			s.Cause = p.info.Health.Cause(r.Index, p.info.Now)
		}
	}
	p.used |= 1 << s.Index
	p.picks++
	return s
}

// Skip gives back the step Next just returned, when the caller sent its
// target nothing (its rate limit is spent, or another replica claimed its
// probe): the target is not offered again, and the next step is chosen as
// if this one had not been. So a skipped first step is followed by
// another first step among the targets left, the sticky pin and probes
// included, and targets that may only be first stay candidates.
func (p *Plan) Skip() {
	if p.picks > 0 {
		p.picks--
	}
}

// Now returns the time the plan was made for.
func (p *Plan) Now() time.Time { return p.info.Now }

// Tried returns the targets the plan has handed out so far, skipped ones
// included.
func (p *Plan) Tried() Set { return p.used }

// Done reports the outcome of one attempt on a target the plan handed out,
// and says what it changed in the target's health. It is the one path by
// which outcomes reach the strategy (when it is an Observer) and the
// Health; call it once per attempt, retries included, and not for an
// attempt cut short because the caller gave up.
func (p *Plan) Done(o Outcome) Change {
	if obs, ok := p.info.Strategy.(Observer); ok {
		obs.Observe(o)
	}
	if h := p.info.Health; h != nil {
		return h.Record(o)
	}
	return Unchanged
}
