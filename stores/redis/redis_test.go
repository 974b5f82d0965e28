package redis_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/stores/storetest"
)

type result struct {
	Pin stores.Pin
	OK  bool
}

func getPin(t *testing.T, s stores.Store, key string, ttl time.Duration) result {
	t.Helper()
	p, ok, err := s.GetPin(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("GetPin(%q, %v) error = %v", key, ttl, err)
	}
	return result{p, ok}
}

func setPin(t *testing.T, s stores.Store, key, target string, ttl time.Duration) {
	t.Helper()
	if err := s.SetPin(context.Background(), key, stores.Pin{Target: target}, ttl); err != nil {
		t.Fatalf("SetPin(%q, %q, %v) error = %v", key, target, ttl, err)
	}
}

func pttl(t *testing.T, c *goredis.Client, rawKey string) time.Duration {
	t.Helper()
	d, err := c.PTTL(context.Background(), rawKey).Result()
	if err != nil {
		t.Fatalf("PTTL %q: %v", rawKey, err)
	}
	return d
}

func TestNew(t *testing.T) {
	const addr = "127.0.0.1:1" // never dialled: New does no I/O
	for _, tc := range []struct {
		name    string
		client  func(t *testing.T) goredis.UniversalClient
		wantErr bool
	}{
		{"nil", func(*testing.T) goredis.UniversalClient { return nil }, true},
		{"nil *Client", func(*testing.T) goredis.UniversalClient { return (*goredis.Client)(nil) }, true},
		{"nil *ClusterClient", func(*testing.T) goredis.UniversalClient { return (*goredis.ClusterClient)(nil) }, true},
		{"Client without context timeouts", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewClient(&goredis.Options{Addr: addr}))
		}, true},
		{"ClusterClient without context timeouts", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}}))
		}, true},
		{"Ring without context timeouts", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": addr}}))
		}, true},
		{"Client", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true}))
		}, false},
		{"ClusterClient", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true}))
		}, false},
		{"Ring", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": addr}, ContextTimeoutEnabled: true}))
		}, false},
		{"failover", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{addr}, ContextTimeoutEnabled: true}))
		}, false},
		{"universal", func(t *testing.T) goredis.UniversalClient {
			return closeLater(t, goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true}))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redis.New(tc.client(t))
			if (err != nil) != tc.wantErr {
				t.Fatalf("New() error = %v; want error %t", err, tc.wantErr)
			}
			if err != nil && s != nil {
				t.Errorf("New() = %v with an error; want nil", s)
			}
		})
	}
}

// closeLater closes c at the end of the test.
func closeLater[C interface{ Close() error }](t *testing.T, c C) C {
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestZeroStore(t *testing.T) {
	var s redis.Store
	ctx := context.Background()
	if _, _, err := s.GetPin(ctx, "k", time.Hour); err == nil {
		t.Error("zero Store GetPin error = nil; want an error")
	}
	if err := s.SetPin(ctx, "k", stores.Pin{Target: "a/m"}, time.Hour); err == nil {
		t.Error("zero Store SetPin error = nil; want an error")
	}
}

func TestContract(t *testing.T) {
	c := sharedClient(t)
	storetest.Run(t, func(t *testing.T) stores.Store {
		return newStore(t, c, redis.WithPrefix(uniquePrefix(t, c)))
	})
}

func TestSetPinStoresTargetWithTTL(t *testing.T) {
	c := sharedClient(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redis.WithPrefix(prefix))

	for _, ttl := range []time.Duration{time.Hour, 1500 * time.Millisecond, 24 * time.Hour, time.Hour + 300*time.Microsecond} {
		key := fmt.Sprint("ttl-", ttl)
		setPin(t, s, key, "azure-main/gpt-4o", ttl)
		got, err := c.Get(context.Background(), prefix+key).Result()
		if err != nil || got != "azure-main/gpt-4o" {
			t.Errorf("GET %q = %q, %v; want the target", prefix+key, got, err)
		}
		// Redis counts in milliseconds; the Store rounds up.
		hi := ttl.Truncate(time.Millisecond)
		if ttl != hi {
			hi += time.Millisecond
		}
		if d := pttl(t, c, prefix+key); d > hi || d < ttl-2*time.Second {
			t.Errorf("PTTL after SetPin(ttl %v) = %v; want in [%v, %v]", ttl, d, ttl-2*time.Second, hi)
		}
	}
	// Below a millisecond is a millisecond, not an error or no expiry.
	if err := s.SetPin(context.Background(), "tiny", stores.Pin{Target: "a/m"}, time.Nanosecond); err != nil {
		t.Errorf("SetPin(ttl 1ns) error = %v; want nil", err)
	}
	// PTTL is -2 once the key has expired, -1 for a key with no expiry.
	if d, err := c.PTTL(context.Background(), prefix+"tiny").Result(); err != nil || d == -1 || d > time.Millisecond {
		t.Errorf("PTTL after SetPin(ttl 1ns) = %v, %v; want at most 1ms or already gone", d, err)
	}
}

func TestGetPinRefreshes(t *testing.T) {
	c := sharedClient(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redis.WithPrefix(prefix))
	ctx := context.Background()
	raw := prefix + "k"
	setPin(t, s, "k", "a/m", time.Hour)

	// Time passes: the pin has 10 s left.
	if err := c.PExpire(ctx, raw, 10*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(getPin(t, s, "k", 0), result{stores.Pin{Target: "a/m"}, true}); diff != "" {
		t.Errorf("GetPin(ttl 0) mismatch (-got +want):\n%s", diff)
	}
	if d := pttl(t, c, raw); d <= 0 || d > 10*time.Second {
		t.Errorf("PTTL after GetPin(ttl 0) = %v; want unchanged, in (0, 10s]", d)
	}

	if diff := cmp.Diff(getPin(t, s, "k", time.Hour), result{stores.Pin{Target: "a/m"}, true}); diff != "" {
		t.Errorf("GetPin(ttl 1h) mismatch (-got +want):\n%s", diff)
	}
	if d := pttl(t, c, raw); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("PTTL after GetPin(ttl 1h) = %v; want refreshed, in (59m, 1h]", d)
	}

	if diff := cmp.Diff(getPin(t, s, "k", 90*time.Minute), result{stores.Pin{Target: "a/m"}, true}); diff != "" {
		t.Errorf("GetPin(ttl 90m) mismatch (-got +want):\n%s", diff)
	}
	if d := pttl(t, c, raw); d <= 89*time.Minute || d > 90*time.Minute {
		t.Errorf("PTTL after GetPin(ttl 90m) = %v; want the read's ttl, in (89m, 90m]", d)
	}
}

func TestPinExpires(t *testing.T) {
	c := sharedClient(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redis.WithPrefix(prefix))
	setPin(t, s, "k", "a/m", 30*time.Millisecond)
	// Redis expires the key in real time; wait for it, within bounds.
	deadline := time.Now().Add(2 * time.Second)
	for getPin(t, s, "k", 0).OK {
		if time.Now().After(deadline) {
			t.Fatalf("pin with ttl 30ms still there after 2s (PTTL %v)", pttl(t, c, prefix+"k"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := c.Exists(context.Background(), prefix+"k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS after expiry = %d, %v; want 0", n, err)
	}
}

func TestEmptyValueIsNoPin(t *testing.T) {
	c := sharedClient(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redis.WithPrefix(prefix))
	if err := c.Set(context.Background(), prefix+"k", "", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(getPin(t, s, "k", time.Hour), result{}); diff != "" {
		t.Errorf("GetPin of an empty value mismatch (-got +want):\n%s", diff)
	}
}

func TestWrongTypeIsError(t *testing.T) {
	c := sharedClient(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redis.WithPrefix(prefix))
	if err := c.LPush(context.Background(), prefix+"k", "x").Err(); err != nil {
		t.Fatal(err)
	}
	_, ok, err := s.GetPin(context.Background(), "k", time.Hour)
	if err == nil || ok {
		t.Errorf("GetPin of a list = %t, %v; want an error", ok, err)
	}
}

func TestNamespacing(t *testing.T) {
	c := sharedClient(t)
	ctx := context.Background()
	pa, pb := uniquePrefix(t, c), uniquePrefix(t, c)
	a := newStore(t, c, redis.WithPrefix(pa))
	b := newStore(t, c, redis.WithPrefix(pb))

	setPin(t, a, "team/chat|s1", "acct-a/m", time.Hour)
	setPin(t, b, "team/chat|s1", "acct-b/m", time.Hour)
	if diff := cmp.Diff(getPin(t, a, "team/chat|s1", time.Hour), result{stores.Pin{Target: "acct-a/m"}, true}); diff != "" {
		t.Errorf("store a GetPin mismatch (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(getPin(t, b, "team/chat|s1", time.Hour), result{stores.Pin{Target: "acct-b/m"}, true}); diff != "" {
		t.Errorf("store b GetPin mismatch (-got +want):\n%s", diff)
	}
	for raw, want := range map[string]string{pa + "team/chat|s1": "acct-a/m", pb + "team/chat|s1": "acct-b/m"} {
		if got, err := c.Get(ctx, raw).Result(); err != nil || got != want {
			t.Errorf("GET %q = %q, %v; want %q", raw, got, err, want)
		}
	}

	// The default prefix. The key is unique, so sharing a Redis is safe.
	key := pa + "default-prefix-check"
	d := newStore(t, c)
	t.Cleanup(func() { c.Del(context.Background(), redis.DefaultPrefix+key) })
	setPin(t, d, key, "acct/m", time.Minute)
	if got, err := c.Get(ctx, redis.DefaultPrefix+key).Result(); err != nil || got != "acct/m" {
		t.Errorf("GET %q = %q, %v; want %q", redis.DefaultPrefix+key, got, err, "acct/m")
	}
	if diff := cmp.Diff(getPin(t, a, "default-prefix-check", 0), result{}); diff != "" {
		t.Errorf("store a sees another prefix's pin (-got +want):\n%s", diff)
	}
}

// Two replicas, each with its own client and Store, share their pins
// through one Redis.
func TestReplicasSharePins(t *testing.T) {
	c1 := sharedClient(t)
	c2 := sharedClient(t)
	prefix := uniquePrefix(t, c1)
	r1 := newStore(t, c1, redis.WithPrefix(prefix))
	r2 := newStore(t, c2, redis.WithPrefix(prefix))
	const key = "team/chat|session-7"

	setPin(t, r1, key, "azure-main/gpt-4o", time.Hour)
	if diff := cmp.Diff(getPin(t, r2, key, time.Hour), result{stores.Pin{Target: "azure-main/gpt-4o"}, true}); diff != "" {
		t.Errorf("replica 2 GetPin mismatch (-got +want):\n%s", diff)
	}
	// Replica 2 moves the pin after a fallback; replica 1 follows.
	setPin(t, r2, key, "openai-main/gpt-4o", time.Hour)
	if diff := cmp.Diff(getPin(t, r1, key, time.Hour), result{stores.Pin{Target: "openai-main/gpt-4o"}, true}); diff != "" {
		t.Errorf("replica 1 GetPin after the move mismatch (-got +want):\n%s", diff)
	}
}

func TestCallerContext(t *testing.T) {
	c := sharedClient(t)
	s := newStore(t, c, redis.WithPrefix(uniquePrefix(t, c)), redis.WithTimeout(time.Minute))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.GetPin(ctx, "k", time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("GetPin(cancelled ctx) error = %v; want context.Canceled", err)
	}
	if err := s.SetPin(ctx, "k", stores.Pin{Target: "a/m"}, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("SetPin(cancelled ctx) error = %v; want context.Canceled", err)
	}
}

// checkFailsFast runs the Store's two operations against a Redis that
// cannot answer and wants each to fail within a small multiple of the
// timeout, not after the client's seconds-long defaults.
func checkFailsFast(t *testing.T, s *redis.Store, timeout time.Duration) {
	t.Helper()
	limit := 10 * timeout
	ctx := context.Background()
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"GetPin", func() error { _, _, err := s.GetPin(ctx, "k", time.Hour); return err }},
		{"SetPin", func() error { return s.SetPin(ctx, "k", stores.Pin{Target: "b/m"}, time.Hour) }},
	} {
		start := time.Now()
		err := op.do()
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s: error = nil; want an error", op.name)
		}
		if took > limit {
			t.Errorf("%s took %v to fail; want at most %v (timeout %v)", op.name, took, limit, timeout)
		}
		t.Logf("%s failed in %v: %v", op.name, took, err)
	}
}

// waitWorks retries GetPin until the Store reaches Redis again.
func waitWorks(t *testing.T, s *redis.Store) result {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, ok, err := s.GetPin(context.Background(), "k", time.Hour)
		if err == nil {
			return result{p, ok}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Store still failing 5s after Redis came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisDownAndBack(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.addr())
	const timeout = 50 * time.Millisecond
	s := newStore(t, c, redis.WithTimeout(timeout))
	setPin(t, s, "k", "a/m", time.Hour)

	srv.stop()
	checkFailsFast(t, s, timeout)

	if err := srv.start(); err != nil {
		t.Fatalf("restarting redis-server on port %d: %v", srv.port, err)
	}
	// The restarted Redis kept nothing (no persistence): no pin, no error.
	if diff := cmp.Diff(waitWorks(t, s), result{}); diff != "" {
		t.Errorf("GetPin after restart mismatch (-got +want):\n%s", diff)
	}
	setPin(t, s, "k", "b/m", time.Hour)
	if diff := cmp.Diff(getPin(t, s, "k", time.Hour), result{stores.Pin{Target: "b/m"}, true}); diff != "" {
		t.Errorf("GetPin after restart and SetPin mismatch (-got +want):\n%s", diff)
	}
}

// A Redis that accepts connections but never answers (stalled, swapping,
// a network black hole) must cost a call no more than the timeout.
func TestRedisStalled(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.addr())
	const timeout = 50 * time.Millisecond
	s := newStore(t, c, redis.WithTimeout(timeout))
	setPin(t, s, "k", "a/m", time.Hour)

	srv.signal(syscall.SIGSTOP)
	stopped := true
	t.Cleanup(func() {
		if stopped {
			srv.signal(syscall.SIGCONT)
		}
	})
	checkFailsFast(t, s, timeout)
	// The caller's sooner deadline wins over the Store's timeout.
	patient := newStore(t, c, redis.WithTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := patient.GetPin(ctx, "k", time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetPin(5ms ctx) error = %v; want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("GetPin(5ms ctx) with a 1m timeout took %v; want the ctx deadline to stop it", took)
	}

	srv.signal(syscall.SIGCONT)
	stopped = false
	// A SET that timed out may still apply: Redis runs what it had
	// received once it resumes. Either pin is right; no pin is not.
	if got := waitWorks(t, s); !got.OK || (got.Pin.Target != "a/m" && got.Pin.Target != "b/m") {
		t.Errorf("GetPin after the stall = %+v; want pin a/m or b/m", got)
	}
	setPin(t, s, "k", "c/m", time.Hour)
	if diff := cmp.Diff(getPin(t, s, "k", time.Hour), result{stores.Pin{Target: "c/m"}, true}); diff != "" {
		t.Errorf("GetPin after the stall and SetPin mismatch (-got +want):\n%s", diff)
	}
}

func BenchmarkGetPin(b *testing.B) {
	c := sharedClient(b)
	s := newStore(b, c, redis.WithPrefix(uniquePrefix(b, c)), redis.WithTimeout(time.Second))
	ctx := context.Background()
	if err := s.SetPin(ctx, "team/chat|session-1", stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := s.GetPin(ctx, "team/chat|session-1", time.Hour); err != nil || !ok {
				b.Fatalf("GetPin = %t, %v", ok, err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := s.GetPin(ctx, "team/chat|nobody", time.Hour); err != nil || ok {
				b.Fatalf("GetPin = %t, %v", ok, err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok, err := s.GetPin(ctx, "team/chat|session-1", time.Hour); err != nil || !ok {
					b.Errorf("GetPin = %t, %v", ok, err)
					return
				}
			}
		})
	})
}

func BenchmarkSetPin(b *testing.B) {
	c := sharedClient(b)
	s := newStore(b, c, redis.WithPrefix(uniquePrefix(b, c)), redis.WithTimeout(time.Second))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SetPin(ctx, "team/chat|session-1", stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
