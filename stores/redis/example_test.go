package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/target"
)

// Compiled, not run: it needs a Redis.
func ExampleNew() {
	rdb := goredis.NewClient(&goredis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true, // New requires it
	})
	defer rdb.Close()

	var store stores.Store
	store, err := redis.New(rdb, redis.WithPrefix("checkout:pin:"), redis.WithTimeout(30*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	key := stores.SessionKey("team/chat", []string{"session-42"})
	if err := store.SetPin(ctx, key, stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour); err != nil {
		log.Print(err) // routing reports it and carries on without the pin
	}
	pin, ok, err := store.GetPin(ctx, key, time.Hour) // GETEX checkout:pin:team/chat|session-42 PX 3600000
	fmt.Println(pin.Target, ok, err)
}

// Compiled, not run: it needs a Redis. Every replica of a service builds
// its Client the same way, so they share pins, rate-limit budgets and
// target health.
func ExampleStore_fleet() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	store, err := redis.New(rdb, redis.WithNamespace("checkout:"))
	if err != nil {
		log.Fatal(err)
	}
	c, err := routing.New(
		routing.WithProvider("azure-main", fake.New()), // a real adapter in production
		routing.WithGroup(routing.Group{Name: "checkout", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "azure-main/gpt-4o", RateLimit: target.RateLimit{RequestsPerMinute: 600, TokensPerMinute: 90_000}},
				{Ref: "azure-main/gpt-4o-mini", Priority: 1},
			}},
		}}}),
		routing.WithStore(store),
		routing.WithLimiter(store),
		routing.WithSharedHealth(store),
		routing.WithReplicas(8),
	)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "checkout/chat"})
	if errors.Is(err, routing.ErrRateLimited) {
		log.Print("every target is at its limit") // the error's RetryAfter says for how long
	}
}
