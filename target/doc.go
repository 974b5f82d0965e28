// Package target defines a virtual model's targets: the real provider
// models a call may be routed to, with everything that shapes an attempt on
// one (weight, priority, retry and fallback rules, overrides, metadata
// match, SLA cutoff, timeouts), and the error that records one failed
// attempt.
//
// A Target is a plain struct whose zero value for each field means the
// documented default, so a definition lists only what it changes:
//
//	t := target.Target{
//		Ref:           "azure-main/gpt-4o",
//		Weight:        80,
//		Retry:         &target.Retry{Attempts: 1, Delay: 200 * time.Millisecond},
//		MetadataMatch: metadata.MD{"tier": "enterprise"},
//	}
package target
