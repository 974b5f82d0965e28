package redis_test

import (
	"context"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/redis"
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
