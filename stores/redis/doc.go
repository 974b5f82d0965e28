// Package redis keeps llmroute's sticky-routing pins in Redis, so that
// every replica of a service routes a session to the same target (see
// docs/behaviour.md, Sticky routing). It is a nested module,
// github.com/llmroute/llmroute/stores/redis, so that only services that
// use it download go-redis.
//
// Usage:
//
//	rdb := goredis.NewClient(&goredis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // required: see New
//	})
//	defer rdb.Close()
//	store, err := redis.New(rdb,
//		redis.WithPrefix("checkout:pin:"),       // default "llmroute:pin:"
//		redis.WithTimeout(30*time.Millisecond), // default 50 ms
//	)
//	if err != nil {
//		return err
//	}
//	// store is a stores.Store: give it to the routing Client.
//
// Any go-redis UniversalClient works: a single server, Sentinel
// (failover) or Cluster. Each pin is one key, so Cluster needs no hash
// tags.
//
// Redis being down or slow never fails a call: each operation gives up
// after its timeout and returns an error, and routing carries on without
// the pin. Pins are as durable as the Redis they live in; losing them only
// means that sessions are routed afresh.
//
// # Rate limits and health for a fleet
//
// The Store is also a [stores.Limiter] and a [stores.HealthStore], so
// that every replica of a service shares each target's rate-limit budget
// and judges its health with the others:
//
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithStore(store),        // sticky pins
//		routing.WithLimiter(store),      // rate_limit budgets
//		routing.WithSharedHealth(store), // demotions and probes
//		routing.WithReplicas(8),         // while Redis is down, each enforces 1/8
//	)
//
// A budget is two keys, limit prefix + "{budget}:r" and ":t" (requests and
// tokens; the braces keep both in one Cluster slot), each holding the time,
// on the Redis server's clock, at which that amount is whole again (GCRA);
// each charge is one script that checks and takes both at once, so a
// limited call costs one round trip, and a second when its tokens are
// corrected. A target's health is four keys under health prefix +
// "{group/model}:" + target: its record, its recent failures, its probe
// lock (SET NX PX) and the start of the call that last recovered it; a
// report is one script, a call's read of its model's records one MGET.
// Every key expires with what it holds. [WithNamespace] puts pins, limits
// and health under one prefix of the service's choosing.
//
// Redis 6.2 or later is needed. The scripts are loaded with EVALSHA,
// falling back to EVAL once per server.
package redis
