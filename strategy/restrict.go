package strategy

// Restrict narrows the plan's eligible targets to those in s, before the
// first Next (a stream keeps only targets that can stream). It reports
// whether any eligible target is left.
func (p *Plan) Restrict(s Set) bool {
	p.info.Eligible &= s
	return p.info.Eligible != 0
}
