package strategy

import "time"

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
