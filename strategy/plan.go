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
	Unhealthy Set
	// Pin, when it holds an eligible healthy target, goes first (sticky
	// routing). Zero means no pin.
	Pin Set
	// Probe, when it holds an eligible target, goes first to test its
	// recovery (health). Zero means no probe. A healthy pin wins.
	Probe Set
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
func NewPlan(info PlanInfo) Plan {
	if info.Rand == nil {
		info.Rand = defaultRand
	}
	return Plan{info: info}
}

// Step is one target of a Plan.
type Step struct {
	// Index is the target.
	Index int
	// Reason says why it is here.
	Reason Reason
}

// Next returns the next target to try, or false when none is left. The
// first call gives the call's first target; each later call gives the next
// fallback.
func (p *Plan) Next() (Step, bool) {
	in := &p.info
	first := p.picks == 0
	var cand Set
	reason := ReasonFallback
	if first {
		if pin := in.Pin & in.Eligible &^ in.Unhealthy; pin != 0 {
			return p.take(Step{Index: bits.TrailingZeros64(uint64(pin)), Reason: ReasonSticky}), true
		}
		if probe := in.Probe & in.Eligible; probe != 0 {
			return p.take(Step{Index: bits.TrailingZeros64(uint64(probe)), Reason: ReasonProbe}), true
		}
		cand = in.Eligible
		reason = ReasonPicked
	} else {
		cand = in.Eligible &^ p.used &^ in.NoFallback
	}
	if cand == 0 {
		return Step{}, false
	}
	if healthy := cand &^ in.Unhealthy; healthy != 0 {
		cand = healthy
	} else {
		reason = ReasonDemoted
	}
	r, err := in.Strategy.Pick(PickInfo{Candidates: cand, Now: in.Now, Rand: in.Rand()})
	if err != nil || !cand.Has(r.Index) {
		// A strategy that strays outside its candidates is a bug in
		// that strategy; the call still gets a valid target.
		r.Index = bits.TrailingZeros64(uint64(cand))
	}
	return p.take(Step{Index: r.Index, Reason: reason}), true
}

func (p *Plan) take(s Step) Step {
	p.used |= 1 << s.Index
	p.picks++
	return s
}

// Tried returns the targets the plan has handed out so far.
func (p *Plan) Tried() Set { return p.used }

// Done reports the outcome of one try on a target the plan handed out. It
// is the one path by which outcomes reach the strategy: call it once per
// try, whatever its result, except when the caller itself gave up.
func (p *Plan) Done(o Outcome) {
	if obs, ok := p.info.Strategy.(Observer); ok {
		obs.Observe(o)
	}
}
