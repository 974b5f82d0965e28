// Package storetest holds the contract suites of package stores: [Run]
// for [stores.Store] implementations, [RunLimiter] for [stores.Limiter]
// and [RunHealth] for [stores.HealthStore]. Every implementation runs
// the suites of what it implements in its tests, so they all behave alike
// where routing can tell.
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) stores.Store {
//			return mystore.New(...) // empty, and not shared with other calls
//		})
//	}
//
// The suite checks what holds without waiting: pins are found, replaced
// and kept apart, reads with and without refresh, invalid input (the
// errors of [stores.CheckPin]), and
// concurrent use. Expiry in time is each implementation's own test, since
// only some can move time by hand.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmroute/llmroute/stores"
)

// ttl is long enough that no pin expires during the suite.
const ttl = time.Hour

// Run runs the contract suite, one subtest each, on stores made by
// newStore. Each call of newStore must return an empty Store that shares
// no pins with the Stores of other calls.
func Run(t *testing.T, newStore func(t *testing.T) stores.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s stores.Store)
	}{
		{"Missing", testMissing},
		{"SetGet", testSetGet},
		{"Replace", testReplace},
		{"KeysApart", testKeysApart},
		{"GetWithoutRefresh", testGetWithoutRefresh},
		{"InvalidInput", testInvalidInput},
		{"Concurrent", testConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newStore(t))
		})
	}
}

func mustSet(t *testing.T, s stores.Store, key string, pin stores.Pin) {
	t.Helper()
	if err := s.SetPin(context.Background(), key, pin, ttl); err != nil {
		t.Fatalf("SetPin(%q, %+v, %v) error = %v", key, pin, ttl, err)
	}
}

func wantPin(t *testing.T, s stores.Store, key string, ttl time.Duration, want stores.Pin, wantOK bool) {
	t.Helper()
	got, ok, err := s.GetPin(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("GetPin(%q, %v) error = %v", key, ttl, err)
	}
	if got != want || ok != wantOK {
		t.Errorf("GetPin(%q, %v) = %+v, %t; want %+v, %t", key, ttl, got, ok, want, wantOK)
	}
}

func testMissing(t *testing.T, s stores.Store) {
	wantPin(t, s, "never-set", ttl, stores.Pin{}, false)
	wantPin(t, s, "", ttl, stores.Pin{}, false)
}

func testSetGet(t *testing.T, s stores.Store) {
	pin := stores.Pin{Target: "azure-main/gpt-4o"}
	mustSet(t, s, "team/chat|abc", pin)
	wantPin(t, s, "team/chat|abc", ttl, pin, true)
	// A read is not a move: the pin is still there.
	wantPin(t, s, "team/chat|abc", ttl, pin, true)
}

func testReplace(t *testing.T, s stores.Store) {
	mustSet(t, s, "k", stores.Pin{Target: "a/m1"})
	mustSet(t, s, "k", stores.Pin{Target: "b/m2"})
	wantPin(t, s, "k", ttl, stores.Pin{Target: "b/m2"}, true)
}

func testKeysApart(t *testing.T, s stores.Store) {
	keys := []string{
		"k", "K", "k ", " k", "", "k|", `k\`, "k\x00", "k\n", "ключ", "🔑",
		stores.SessionKey("g/m", []string{"a|b", "c"}),
		stores.SessionKey("g/m", []string{"a", "b|c"}),
		strings.Repeat("long", 256),
	}
	for i, k := range keys {
		mustSet(t, s, k, stores.Pin{Target: fmt.Sprintf("acct/model-%d", i)})
	}
	for i, k := range keys {
		wantPin(t, s, k, ttl, stores.Pin{Target: fmt.Sprintf("acct/model-%d", i)}, true)
	}
}

func testGetWithoutRefresh(t *testing.T, s stores.Store) {
	pin := stores.Pin{Target: "a/m"}
	mustSet(t, s, "k", pin)
	for _, ttl := range []time.Duration{0, -time.Second} {
		wantPin(t, s, "k", ttl, pin, true)
	}
	// A read with ttl <= 0 must not have made the pin permanent or
	// dropped it; it is still found with a refresh.
	wantPin(t, s, "k", ttl, pin, true)
}

func testInvalidInput(t *testing.T, s stores.Store) {
	ctx := context.Background()
	pin := stores.Pin{Target: "a/m"}
	mustSet(t, s, "k", pin)
	for _, tc := range []struct {
		pin  stores.Pin
		ttl  time.Duration
		want error
	}{
		{stores.Pin{Target: "b/m"}, 0, stores.ErrInvalidTTL},
		{stores.Pin{Target: "b/m"}, -time.Minute, stores.ErrInvalidTTL},
		{stores.Pin{}, ttl, stores.ErrNoTarget},
		{stores.Pin{}, 0, stores.ErrInvalidTTL},
	} {
		if err := s.SetPin(ctx, "k", tc.pin, tc.ttl); !errors.Is(err, tc.want) {
			t.Errorf("SetPin(%+v, %v) error = %v; want %v", tc.pin, tc.ttl, err, tc.want)
		}
	}
	// Rejected writes leave the pin as it was.
	wantPin(t, s, "k", ttl, pin, true)
}

func testConcurrent(t *testing.T, s stores.Store) {
	const (
		workers = 8
		rounds  = 50
		keys    = 4
	)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				key := fmt.Sprintf("k%d", (w+r)%keys)
				pin := stores.Pin{Target: fmt.Sprintf("acct/%s-%d", key, w)}
				if err := s.SetPin(ctx, key, pin, ttl); err != nil {
					errs <- fmt.Errorf("SetPin(%q): %w", key, err)
					continue
				}
				got, ok, err := s.GetPin(ctx, key, ttl)
				switch {
				case err != nil:
					errs <- fmt.Errorf("GetPin(%q): %w", key, err)
				case !ok:
					errs <- fmt.Errorf("GetPin(%q) found no pin right after SetPin", key)
				case !strings.HasPrefix(got.Target, "acct/"+key+"-"):
					errs <- fmt.Errorf("GetPin(%q) = %+v, a pin of another key", key, got)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
