// Package stores holds routing state that the replicas of a service
// share: sticky-routing pins (see docs/behaviour.md, Sticky routing),
// rate-limit budgets and target health.
//
// A [Store] maps a session key to a [Pin], the target serving that
// session, for a time that each use of the pin extends. [Memory] keeps
// pins in the process, bounded, replacing pins not used recently; it is
// the default, and right for a single replica. The nested module
// github.com/llmroute/llmroute/stores/redis keeps them in Redis, so that
// every replica routes a session to the same target. [Funcs] turns two
// functions into a Store, for tests. [SessionKey] builds a session key
// from a virtual model and its session identifiers' values.
//
// Usage, as the routing layer does it for a sticky call:
//
//	store := stores.NewMemory(stores.WithMaxEntries(50_000))
//	key := stores.SessionKey("team/chat", []string{sessionID})
//	pin, ok, err := store.GetPin(ctx, key, time.Hour) // also refreshes the pin
//	if err != nil {
//		// report err; route as if there were no pin
//	}
//	if ok {
//		// try pin.Target first while it is healthy and eligible
//	}
//	// ... after target t served the call, when t is not the pin:
//	err = store.SetPin(ctx, key, stores.Pin{Target: t}, time.Hour)
//
// A Store error never fails a call: the call goes on without the pin,
// and the error goes to observers.
//
// # Rate limits
//
// A [Limiter] keeps rate-limit budgets: routing asks it, before each
// request to a target with a rate_limit, to charge the request and its
// estimated tokens, and skips the target when the budget has no room.
// [MemoryLimiter] is the default, for one replica; stores/redis shares
// budgets between replicas. Budgets are GCRA buckets (see Limiter):
//
//	l := stores.NewMemoryLimiter()
//	lim := stores.Limit{Requests: 60, Tokens: 90_000} // per minute
//	got, err := l.Take(ctx, stores.Take{Key: "team/chat|azure/gpt-4o", Limit: lim, Requests: 1, Tokens: 1200})
//	if err == nil && !got.Allowed {
//		// skip the target; it has room again in got.RetryAfter
//	}
//	// ... the answer used 900 tokens: give back the rest of the estimate
//	_, err = l.Take(ctx, stores.Take{Key: "team/chat|azure/gpt-4o", Limit: lim, Tokens: -300})
//
// # Shared health
//
// A [HealthStore] shares targets' health among replicas: failures are
// counted fleet-wide, a demotion reaches every replica on its next call,
// and one probe per cooldown tests a demoted target, whichever replica
// claims it (see HealthStore). [Memory] is one, for tests and
// simulations of several Clients in one process; stores/redis is the one
// for a fleet.
//
// The sub-package storetest holds the contract suites that every
// implementation runs in its tests: Run for a Store, RunLimiter for a
// Limiter, RunHealth for a HealthStore.
package stores
