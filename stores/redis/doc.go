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
package redis
