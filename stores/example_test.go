package stores_test

import (
	"context"
	"fmt"
	"time"

	"github.com/llmroute/llmroute/stores"
)

func ExampleMemory() {
	// A clock moved by hand, to show expiry without waiting.
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	m := stores.NewMemory(
		stores.WithMaxEntries(10_000),
		stores.WithClock(func() time.Time { return now }),
	)
	ctx := context.Background()
	key := stores.SessionKey("team/chat", []string{"session-42"})
	const ttl = time.Hour

	_, ok, _ := m.GetPin(ctx, key, ttl)
	fmt.Println("before any call, pinned:", ok)

	// azure-main/gpt-4o served the session's first call.
	_ = m.SetPin(ctx, key, stores.Pin{Target: "azure-main/gpt-4o"}, ttl)

	now = now.Add(50 * time.Minute)
	pin, ok, _ := m.GetPin(ctx, key, ttl) // a use: the pin now lives until 10:50
	fmt.Println("at 09:50:", pin.Target, ok)

	now = now.Add(50 * time.Minute)
	pin, ok, _ = m.GetPin(ctx, key, 0) // a look only: no refresh
	fmt.Println("at 10:40:", pin.Target, ok)

	now = now.Add(10 * time.Minute)
	_, ok, _ = m.GetPin(ctx, key, ttl)
	fmt.Println("at 10:50, pinned:", ok)
	// Output:
	// before any call, pinned: false
	// at 09:50: azure-main/gpt-4o true
	// at 10:40: azure-main/gpt-4o true
	// at 10:50, pinned: false
}

func ExampleSessionKey() {
	fmt.Println(stores.SessionKey("team/chat", []string{"abc"}))
	fmt.Println(stores.SessionKey("team/chat", []string{"a|b", "c"}))
	fmt.Println(stores.SessionKey("team/chat", []string{"a", "b|c"}))
	// Output:
	// team/chat|abc
	// team/chat|a\|b|c
	// team/chat|a|b\|c
}

func ExampleFuncs() {
	// A Store that is down, to test that routing carries on without pins.
	down := stores.Funcs{
		GetPinFunc: func(context.Context, string, time.Duration) (stores.Pin, bool, error) {
			return stores.Pin{}, false, fmt.Errorf("store down")
		},
	}
	_, ok, err := down.GetPin(context.Background(), "team/chat|abc", time.Hour)
	fmt.Println(ok, err)
	// Output:
	// false store down
}

// A budget of 60 requests and 1000 tokens a minute: a request estimated
// at 600 tokens fits, a second does not until 200 tokens have refilled;
// the first used only 300, and giving back the rest lets the second in.
func ExampleMemoryLimiter() {
	l := stores.NewMemoryLimiter()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lim := stores.Limit{Requests: 60, Tokens: 1000}
	take := func(requests, tokens int) stores.Taken {
		got, err := l.Take(ctx, stores.Take{Key: "team/chat|azure/gpt-4o", Limit: lim, Requests: requests, Tokens: tokens, Now: now})
		if err != nil {
			panic(err)
		}
		return got
	}
	fmt.Printf("%+v\n", take(1, 600))
	fmt.Printf("%+v\n", take(1, 600))
	fmt.Printf("%+v\n", take(0, -300)) // the first answer used 300
	fmt.Printf("%+v\n", take(1, 600))
	// Output:
	// {Allowed:true RetryAfter:0s}
	// {Allowed:false RetryAfter:12s}
	// {Allowed:true RetryAfter:0s}
	// {Allowed:true RetryAfter:0s}
}
