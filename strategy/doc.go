// Package strategy orders a virtual model's targets for one call: which
// target goes first, and which follow as fallbacks (see docs/behaviour.md,
// Picking and ordering).
//
// A [Strategy] picks one target from a set of candidates; [Weighted],
// [Priority] and [Latency] are the weight-based, priority-based and
// latency-based strategies. A [Plan] is one call's walk through the
// targets: it asks the strategy for the first target and, only when a
// fallback is needed, for the next one, so a call that succeeds at once
// pays for a single pick. The Plan applies the
// rules every strategy shares: only eligible targets appear; a sticky pin
// goes first while it is healthy; unhealthy targets come after all healthy
// ones; a target marked NoFallback may be first but never later.
//
// A [Health], one per virtual model, tracks failures and SLA cutoffs
// (see docs/behaviour.md, Health) for any strategy. Given to each call's
// Plan, it demotes unhealthy targets, lets one probe call per cooldown try
// a recovering target first, and learns every attempt's outcome through
// Plan.Done. It records latencies in the virtual model's [Stats], which
// [Latency] reads. Nothing here reads a clock: every time is the Plan's
// Now or an Outcome's Start and Latency.
//
// Targets are named by their index in the virtual model's target list, and
// sets of them are bitmaps ([Set]), so a virtual model has at most
// [MaxTargets] targets and picking allocates nothing.
//
//	h, _ := strategy.NewHealth(2, strategy.HealthOptions{})  // per virtual model
//	w, _ := strategy.NewWeighted([]int{90, 10})              // or NewLatency(h.Stats())
//
//	// per call:
//	plan := strategy.NewPlan(strategy.PlanInfo{Strategy: w, Eligible: strategy.All(2), Health: h, Now: now})
//	for {
//		p, ok := plan.Next()
//		if !ok {
//			break
//		}
//		// call target p.Index, then, for each attempt:
//		plan.Done(strategy.Outcome{Index: p.Index, Start: start, Latency: took, Status: status, Err: err})
//		// on success stop, else continue
//	}
package strategy
