// Package strategy orders a virtual model's targets for one call: which
// target goes first, and which follow as fallbacks (SPEC §4).
//
// A [Strategy] picks one target from a set of candidates; [Weighted] and
// [Priority] are the weight-based and priority-based strategies. A [Plan]
// is one call's walk through the targets: it asks the strategy for the
// first target and, only when a fallback is needed, for the next one, so a
// call that succeeds at once pays for a single pick. The Plan applies the
// rules every strategy shares: only eligible targets appear; a sticky pin
// goes first while it is healthy; unhealthy targets come after all healthy
// ones; a target marked NoFallback may be first but never later.
//
// Targets are named by their index in the virtual model's target list, and
// sets of them are bitmaps ([Set]), so a virtual model has at most
// [MaxTargets] targets and picking allocates nothing.
//
//	w, _ := strategy.NewWeighted([]int{90, 10})
//	plan := strategy.NewPlan(strategy.PlanInfo{Strategy: w, Eligible: strategy.All(2)})
//	for {
//		p, ok := plan.Next()
//		if !ok {
//			break
//		}
//		// call target p.Index; on success stop, else continue
//	}
package strategy
