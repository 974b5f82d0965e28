package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/stores/storetest"
)

func TestLimiterContract(t *testing.T) {
	c := sharedClient(t)
	storetest.RunLimiter(t, func(t *testing.T) stores.Limiter {
		return newStore(t, c, redis.WithNamespace(uniquePrefix(t, c)), redis.WithTimeout(time.Second))
	})
}

func TestHealthContract(t *testing.T) {
	c := sharedClient(t)
	storetest.RunHealth(t, func(t *testing.T) stores.HealthStore {
		return newStore(t, c, redis.WithNamespace(uniquePrefix(t, c)), redis.WithTimeout(time.Second))
	})
}

func TestZeroStoreLimitsAndHealth(t *testing.T) {
	var s redis.Store
	ctx := context.Background()
	if _, err := s.Take(ctx, stores.Take{Key: "k", Limit: stores.Limit{Requests: 1}, Requests: 1}); err == nil {
		t.Error("zero Store Take error = nil; want an error")
	}
	if _, err := s.LoadHealth(ctx, stores.HealthQuery{Model: "g/m", Targets: []string{"a/x"}}); err == nil {
		t.Error("zero Store LoadHealth error = nil; want an error")
	}
	if _, err := s.ReportHealth(ctx, stores.HealthReport{Model: "g/m", Target: "a/x", Failures: 1, Window: time.Second}); err == nil {
		t.Error("zero Store ReportHealth error = nil; want an error")
	}
	if _, err := s.ClaimProbe(ctx, stores.ProbeClaim{Model: "g/m", Target: "a/x", Cooldown: time.Second}); err == nil {
		t.Error("zero Store ClaimProbe error = nil; want an error")
	}
}

// A budget refills on the server's clock: with 4 requests per 200 ms, one
// every 50 ms.
func TestLimiterRefills(t *testing.T) {
	c := sharedClient(t)
	s := newStore(t, c, redis.WithNamespace(uniquePrefix(t, c)), redis.WithTimeout(time.Second))
	ctx := context.Background()
	tk := stores.Take{Key: "k", Limit: stores.Limit{Requests: 4, Period: 200 * time.Millisecond}, Requests: 1}
	for i := range 4 {
		if got, err := s.Take(ctx, tk); err != nil || !got.Allowed {
			t.Fatalf("request %d: %+v, %v; want allowed", i+1, got, err)
		}
	}
	got, err := s.Take(ctx, tk)
	if err != nil || got.Allowed || got.RetryAfter <= 0 || got.RetryAfter > 50*time.Millisecond {
		t.Fatalf("fifth request: %+v, %v; want refused for at most 50ms", got, err)
	}
	time.Sleep(got.RetryAfter)
	if got, err := s.Take(ctx, tk); err != nil || !got.Allowed {
		t.Errorf("after RetryAfter: %+v, %v; want allowed", got, err)
	}
	// The key goes away once the budget is whole again.
	time.Sleep(250 * time.Millisecond)
	if n, err := c.Exists(ctx, keysOf(t, c, "*limit:{k}:r")...).Result(); err != nil || n != 0 {
		t.Errorf("%d budget keys left once the budget is whole (err %v); want none", n, err)
	}
}

// keysOf returns the keys matching pattern.
func keysOf(t *testing.T, c interface {
	Keys(ctx context.Context, pattern string) *goredis.StringSliceCmd
}, pattern string) []string {
	t.Helper()
	ks, err := c.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return append(ks, "llmroute-test:none") // EXISTS needs one key
}

// A record no replica renews expires with its window, in Redis.
func TestHealthExpires(t *testing.T) {
	c := sharedClient(t)
	s := newStore(t, c, redis.WithNamespace(uniquePrefix(t, c)), redis.WithTimeout(time.Second))
	ctx := context.Background()
	now := time.Now()
	r := stores.HealthReport{Model: "g/m", Target: "a/x", Failed: true, Start: now, End: now, Failures: 1, Window: 150 * time.Millisecond, Cooldown: 50 * time.Millisecond}
	if got, err := s.ReportHealth(ctx, r); err != nil || !got.Demoted {
		t.Fatalf("ReportHealth = %+v, %v; want Demoted", got, err)
	}
	claim := func() bool {
		t.Helper()
		got, err := s.ClaimProbe(ctx, stores.ProbeClaim{Model: "g/m", Target: "a/x", Cooldown: time.Hour, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return got.Claimed
	}
	if claim() {
		t.Error("probe claimed within the cooldown")
	}
	time.Sleep(60 * time.Millisecond)
	if !claim() {
		t.Error("probe not claimable after the cooldown")
	}
	time.Sleep(100 * time.Millisecond)
	got, err := s.LoadHealth(ctx, stores.HealthQuery{Model: "g/m", Targets: []string{"a/x"}, Now: time.Now()})
	if err != nil || got.Records[0] != (stores.HealthRecord{}) {
		t.Errorf("LoadHealth after the window = %+v, %v; want healthy", got, err)
	}
	if n, err := c.Exists(ctx, keysOf(t, c, "*health:{g/m}:a/x:down")...).Result(); err != nil || n != 0 {
		t.Errorf("%d record keys left after the window (err %v); want none", n, err)
	}
}
