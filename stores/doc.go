// Package stores holds routing state that the replicas of a service
// share: today the sticky-routing pins (see docs/behaviour.md, Sticky
// routing), later target health.
//
// A [Store] maps a session key to a [Pin], the target serving that
// session, for a time that each use of the pin extends. [Memory] keeps
// pins in the process, bounded and in least-recently-used order; it is the
// default, and right for a single replica. The nested module
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
// The sub-package storetest is a contract suite that every Store
// implementation runs in its tests.
package stores
