package strategy

// Cause refines a [Reason]: why a demoted or probed target is unhealthy,
// or how a latency-based pick was made, so a trace can say more than
// "picked" or "demoted". Strategies report it in PickResult.Cause; a Plan
// puts it in Step.Cause.
type Cause uint8

// Causes.
const (
	// CauseNone: nothing to add (weight- and priority-based picks, or an
	// unhealthy set given without a Health).
	CauseNone Cause = iota
	// CauseFailures: unhealthy after recent failures.
	CauseFailures
	// CauseSLATPOT: unhealthy because its mean time per output token is
	// above its SLA cutoff.
	CauseSLATPOT
	// CauseSLATTFT: unhealthy because its mean time to first token is
	// above its SLA cutoff.
	CauseSLATTFT
	// CauseFastBand: a latency-based first pick from the targets within
	// 1.2× of the fastest.
	CauseFastBand
	// CauseExplore: a latency-based pick of a target with fewer than 3
	// recent samples, which counts as fast so that it gets measured.
	CauseExplore
	// CauseFastest: a latency-based fallback, the fastest remaining
	// target.
	CauseFastest
	// CauseRecheck: a latency-based first pick of a target outside the
	// fast band, one of the small share that lets a slow target show it
	// has recovered.
	CauseRecheck
)

// String names c; CauseNone is "".
func (c Cause) String() string {
	switch c {
	case CauseNone:
		return ""
	case CauseFailures:
		return "failures"
	case CauseSLATPOT:
		return "sla-tpot"
	case CauseSLATTFT:
		return "sla-ttft"
	case CauseFastBand:
		return "fast-band"
	case CauseExplore:
		return "explore"
	case CauseFastest:
		return "fastest"
	case CauseRecheck:
		return "recheck"
	}
	return "unknown"
}
