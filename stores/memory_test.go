package stores_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) stores.Store { return stores.NewMemory() })
}

func TestZeroMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) stores.Store { return new(stores.Memory) })
}

func TestFuncsContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) stores.Store {
		m := stores.NewMemory()
		return stores.Funcs{GetPinFunc: m.GetPin, SetPinFunc: m.SetPin}
	})
}

// clock is a hand-moved clock for WithClock.
type clock struct{ ns atomic.Int64 }

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *clock) now() time.Time          { return epoch.Add(time.Duration(c.ns.Load())) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// op is one step of a scripted Memory test.
type op struct {
	advance time.Duration // first, move the clock
	set     string        // then SetPin(key, Pin{Target: set}, ttl) when set != ""
	ttl     time.Duration
	want    *stores.Pin // else GetPin(key, ttl): want nil means no pin
}

type result struct {
	Pin stores.Pin
	OK  bool
}

func pin(target string) *stores.Pin { return &stores.Pin{Target: target} }

func TestMemoryTTL(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		name string
		ops  []op
	}{
		{
			name: "lives ttl",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: h - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil},
			},
		},
		{
			name: "each use refreshes",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: 50 * time.Minute, ttl: h, want: pin("a/m")},
				{advance: 50 * time.Minute, ttl: h, want: pin("a/m")},
				{advance: 50 * time.Minute, ttl: h, want: pin("a/m")},
				{advance: h, ttl: h, want: nil},
			},
		},
		// Refreshes have a granularity of ttl/64, at most a second: a
		// use moves the expiry only by more than that.
		{
			name: "use within a second of the last refresh keeps the expiry",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: time.Second, ttl: h, want: pin("a/m")},
				{advance: h - time.Second - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil},
			},
		},
		{
			name: "use more than a second after the last refresh refreshes",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: time.Second + time.Nanosecond, ttl: h, want: pin("a/m")},
				{advance: h - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil},
			},
		},
		{
			name: "in-use pin expires at most a second early",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: 600 * time.Millisecond, ttl: h, want: pin("a/m")},
				{advance: 600 * time.Millisecond, ttl: h, want: pin("a/m")}, // refreshes to 1.2s+h
				{advance: 900 * time.Millisecond, ttl: h, want: pin("a/m")}, // last use, at 2.1s
				{advance: h - 900*time.Millisecond - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil}, // 0.9s before 2.1s+h
			},
		},
		{
			name: "short ttl refreshes by ttl/64",
			ops: []op{
				{set: "a/m", ttl: 32 * time.Second},
				{advance: 500 * time.Millisecond, ttl: 32 * time.Second, want: pin("a/m")},
				{advance: 31500*time.Millisecond - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil},
			},
		},
		{
			name: "short ttl refreshes after more than ttl/64",
			ops: []op{
				{set: "a/m", ttl: 32 * time.Second},
				{advance: 501 * time.Millisecond, ttl: 32 * time.Second, want: pin("a/m")},
				{advance: 32*time.Second - time.Nanosecond, ttl: 0, want: pin("a/m")},
				{advance: time.Nanosecond, ttl: 0, want: nil},
			},
		},
		{
			name: "ttl of the read wins",
			ops: []op{
				{set: "a/m", ttl: h},
				{ttl: time.Minute, want: pin("a/m")},
				{advance: 2 * time.Minute, ttl: h, want: nil},
			},
		},
		{
			name: "read with ttl 0 does not refresh",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: 30 * time.Minute, ttl: 0, want: pin("a/m")},
				{advance: 30 * time.Minute, ttl: 0, want: nil},
			},
		},
		{
			name: "set replaces pin and expiry",
			ops: []op{
				{set: "a/m", ttl: h},
				{advance: 50 * time.Minute, set: "b/m", ttl: h},
				{advance: 50 * time.Minute, ttl: 0, want: pin("b/m")},
			},
		},
		{
			name: "set after expiry",
			ops: []op{
				{set: "a/m", ttl: time.Minute},
				{advance: time.Hour, set: "b/m", ttl: time.Minute},
				{ttl: time.Minute, want: pin("b/m")},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c clock
			m := stores.NewMemory(stores.WithClock(c.now))
			ctx := context.Background()
			for i, o := range tc.ops {
				c.advance(o.advance)
				if o.set != "" {
					if err := m.SetPin(ctx, "k", stores.Pin{Target: o.set}, o.ttl); err != nil {
						t.Fatalf("op %d: SetPin error = %v", i, err)
					}
					continue
				}
				p, ok, err := m.GetPin(ctx, "k", o.ttl)
				if err != nil {
					t.Fatalf("op %d: GetPin error = %v", i, err)
				}
				want := result{}
				if o.want != nil {
					want = result{Pin: *o.want, OK: true}
				}
				if diff := cmp.Diff(result{p, ok}, want); diff != "" {
					t.Errorf("op %d (at +%v): GetPin mismatch (-got +want):\n%s", i, time.Duration(c.ns.Load()), diff)
				}
			}
		})
	}
}

func TestMemoryExpiredPinIsDropped(t *testing.T) {
	var c clock
	m := stores.NewMemory(stores.WithClock(c.now))
	ctx := context.Background()
	if err := m.SetPin(ctx, "k", stores.Pin{Target: "a/m"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	if _, ok, _ := m.GetPin(ctx, "k", time.Minute); ok {
		t.Fatal("GetPin found an expired pin")
	}
	if got := m.Len(); got != 0 {
		t.Errorf("Len() after reading an expired pin = %d; want 0", got)
	}
}

// held reports which of keys m holds, reading without refreshing (a read
// with ttl 0 still marks a pin used).
func held(t *testing.T, m *stores.Memory, keys ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, k := range keys {
		_, ok, err := m.GetPin(context.Background(), k, 0)
		if err != nil {
			t.Fatal(err)
		}
		got[k] = ok
	}
	return got
}

func setPins(t *testing.T, m *stores.Memory, ttl time.Duration, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := m.SetPin(context.Background(), k, stores.Pin{Target: "acct/" + k}, ttl); err != nil {
			t.Fatal(err)
		}
	}
}

func usePins(t *testing.T, m *stores.Memory, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok, _ := m.GetPin(context.Background(), k, time.Hour); !ok {
			t.Fatalf("%s missing before eviction", k)
		}
	}
}

func TestMemoryEvictionSparesUsedPins(t *testing.T) {
	// A full Memory replaces a pin not used since the hand last passed,
	// never one used since, wherever the hand stands.
	for _, unused := range []string{"a", "b", "c"} {
		t.Run(unused, func(t *testing.T) {
			m := stores.NewMemory(stores.WithMaxEntries(3))
			setPins(t, m, time.Hour, "a", "b", "c")
			for _, k := range []string{"a", "b", "c"} {
				if k != unused {
					usePins(t, m, k)
				}
			}
			setPins(t, m, time.Hour, "d")
			want := map[string]bool{"a": true, "b": true, "c": true, "d": true}
			want[unused] = false
			if diff := cmp.Diff(held(t, m, "a", "b", "c", "d"), want); diff != "" {
				t.Errorf("pins held (-got +want):\n%s", diff)
			}
		})
	}
}

func TestMemoryEvictionWhenAllUsed(t *testing.T) {
	// With every pin marked used, eviction still ends: the hand clears
	// the marks in one turn and takes a pin. The marks it cleared stay
	// cleared: the next eviction takes another of those old pins, not
	// the new one, which the hand reaches last.
	m := stores.NewMemory(stores.WithMaxEntries(3))
	setPins(t, m, time.Hour, "a", "b", "c")
	usePins(t, m, "a", "b", "c")
	setPins(t, m, time.Hour, "d")
	if got := m.Len(); got != 3 {
		t.Fatalf("Len() = %d; want 3", got)
	}
	setPins(t, m, time.Hour, "e")
	got := held(t, m, "a", "b", "c", "d", "e")
	old := 0
	for _, k := range []string{"a", "b", "c"} {
		if got[k] {
			old++
		}
	}
	if !got["d"] || !got["e"] || old != 1 || m.Len() != 3 {
		t.Errorf("held %v, Len %d; want d, e and one of a, b, c", got, m.Len())
	}
}

func TestMemoryEvictionTakesExpiredPins(t *testing.T) {
	// The hand takes an expired pin as it takes an unused one, even a
	// pin marked used.
	var c clock
	m := stores.NewMemory(stores.WithMaxEntries(3), stores.WithClock(c.now))
	setPins(t, m, time.Hour, "a", "b")
	setPins(t, m, time.Minute, "c")
	usePins(t, m, "a", "b")
	if _, ok, _ := m.GetPin(context.Background(), "c", 0); !ok {
		t.Fatal("c missing before eviction")
	}
	c.advance(2 * time.Minute)
	setPins(t, m, time.Hour, "d")
	if m.Len() != 3 {
		t.Errorf("Len() = %d; want 3", m.Len())
	}
	want := map[string]bool{"a": true, "b": true, "c": false, "d": true}
	if diff := cmp.Diff(held(t, m, "a", "b", "c", "d"), want); diff != "" {
		t.Errorf("pins held (-got +want):\n%s", diff)
	}
}

func TestMemoryUpdateEvictsNothing(t *testing.T) {
	m := stores.NewMemory(stores.WithMaxEntries(3))
	setPins(t, m, time.Hour, "a", "b", "c", "b", "c", "a")
	want := map[string]bool{"a": true, "b": true, "c": true}
	if diff := cmp.Diff(held(t, m, "a", "b", "c"), want); diff != "" {
		t.Errorf("pins held (-got +want):\n%s", diff)
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	ctx := context.Background()
	for _, limit := range []int{1, 2, 7, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			m := stores.NewMemory(stores.WithMaxEntries(limit))
			for i := range 10 * limit {
				key := fmt.Sprint(i)
				if err := m.SetPin(ctx, key, stores.Pin{Target: "a/" + key}, time.Hour); err != nil {
					t.Fatal(err)
				}
				if got := m.Len(); got > limit {
					t.Fatalf("Len() = %d after %d pins; want <= %d", got, i+1, limit)
				}
				// The newest pin is always kept.
				if p, ok, _ := m.GetPin(ctx, key, time.Hour); !ok || p.Target != "a/"+key {
					t.Fatalf("GetPin(newest %q) = %+v, %t", key, p, ok)
				}
			}
			if got := m.Len(); got != limit {
				t.Errorf("Len() = %d; want %d", got, limit)
			}
		})
	}
}

func TestMemoryMaxEntriesDefault(t *testing.T) {
	ctx := context.Background()
	for _, opt := range []stores.Option{nil, stores.WithMaxEntries(0), stores.WithMaxEntries(-5), stores.WithClock(nil)} {
		m := stores.NewMemory(opt)
		// Twice the bound, so that every shard's share of it fills.
		for i := range 2 * stores.DefaultMaxEntries {
			if err := m.SetPin(ctx, fmt.Sprint(i), stores.Pin{Target: "a/m"}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.Len(); got != stores.DefaultMaxEntries {
			t.Errorf("Len() = %d; want DefaultMaxEntries %d", got, stores.DefaultMaxEntries)
		}
	}
}

// A Memory large enough to be sharded keeps its bound, and a full shard
// drops pins not used recently: of 2,048 pins in a Memory of 4,096 (four
// shards of 1,024), the first 1,024 are read again, and then 2,304 new
// pins come. Each shard then holds about 1,088 pins, so it drops about
// 64, far fewer than the about 256 pins not read again it holds: no pin
// read again may be dropped, and no new pin, since the hand reaches a
// new pin only after every older one.
func TestMemoryShardedEvictsUnusedPins(t *testing.T) {
	ctx := context.Background()
	const limit = 4096
	m := stores.NewMemory(stores.WithMaxEntries(limit))
	set := func(k string) {
		t.Helper()
		if err := m.SetPin(ctx, k, stores.Pin{Target: "acct/" + k}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n > limit {
			t.Fatalf("Len() = %d; want <= %d", n, limit)
		}
	}
	for i := range limit / 2 {
		set(fmt.Sprint("old-", i))
	}
	for i := range limit / 4 {
		if _, ok, _ := m.GetPin(ctx, fmt.Sprint("old-", i), time.Hour); !ok {
			t.Fatalf("old-%d dropped before its shard is full", i)
		}
	}
	for i := range limit/2 + limit/16 {
		set(fmt.Sprint("new-", i))
	}
	dropped := 0
	for i := range limit / 2 {
		_, ok, _ := m.GetPin(ctx, fmt.Sprint("old-", i), 0)
		switch {
		case !ok && i < limit/4:
			t.Errorf("old-%d, read again, was dropped", i)
		case !ok:
			dropped++
		}
	}
	for i := range limit/2 + limit/16 {
		if _, ok, _ := m.GetPin(ctx, fmt.Sprint("new-", i), 0); !ok {
			t.Errorf("new-%d was dropped", i)
		}
	}
	if dropped == 0 {
		t.Error("no pin was dropped; want unused pins of full shards dropped")
	}
}

func TestMemoryConcurrent(t *testing.T) {
	// Lookups read without a lock while pins are set, moved to
	// another target, evicted and dropped as they expire: a lookup
	// finds one of a key's own pins or none, and the bound holds. 50:
	// one shard; 2,048: two.
	for _, limit := range []int{50, 2048} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) { testMemoryConcurrent(t, limit) })
	}
}

func testMemoryConcurrent(t *testing.T, limit int) {
	const (
		workers = 16
		rounds  = 2000
	)
	var c clock
	m := stores.NewMemory(stores.WithMaxEntries(limit), stores.WithClock(c.now))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				key := fmt.Sprint((w*rounds + r) % (3 * limit))
				switch r % 4 {
				case 0:
					// Every other set of a key moves its pin.
					account := []string{"a/", "b/"}[r/4%2]
					if err := m.SetPin(ctx, key, stores.Pin{Target: account + key}, time.Minute); err != nil {
						t.Error(err)
						return
					}
				case 1:
					c.advance(time.Second)
				default:
					p, ok, err := m.GetPin(ctx, key, time.Minute)
					if err != nil || (ok && p.Target != "a/"+key && p.Target != "b/"+key) {
						t.Errorf("GetPin(%q) = %+v, %t, %v", key, p, ok, err)
						return
					}
				}
				if n := m.Len(); n > limit {
					t.Errorf("Len() = %d; want <= %d", n, limit)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMemoryGetPinAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	m := stores.NewMemory()
	ctx := context.Background()
	if err := m.SetPin(ctx, "team/chat|abc", stores.Pin{Target: "a/m"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"team/chat|abc", "missing"} {
		got := testing.AllocsPerRun(100, func() {
			_, _, _ = m.GetPin(ctx, key, time.Hour)
		})
		if got != 0 {
			t.Errorf("GetPin(%q) allocates %v times; want 0", key, got)
		}
	}
}

func TestFuncsZero(t *testing.T) {
	var f stores.Funcs
	ctx := context.Background()
	if err := f.SetPin(ctx, "k", stores.Pin{Target: "a/m"}, time.Hour); err != nil {
		t.Errorf("zero Funcs SetPin error = %v; want nil", err)
	}
	p, ok, err := f.GetPin(ctx, "k", time.Hour)
	if diff := cmp.Diff(result{p, ok}, result{}); diff != "" || err != nil {
		t.Errorf("zero Funcs GetPin error = %v, mismatch (-got +want):\n%s", err, diff)
	}
}

func BenchmarkMemoryGetPin(b *testing.B) {
	ctx := context.Background()
	m := stores.NewMemory()
	keys := make([]string, 10_000)
	ids := make([][]string, len(keys))
	for i := range keys {
		ids[i] = []string{fmt.Sprintf("session-%d", i)}
		keys[i] = stores.SessionKey("team/chat", ids[i])
		if err := m.SetPin(ctx, keys[i], stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	// A routed sticky call's lookup: the key built and looked up
	// together, with the Memory's clock ("key+hit"), or with a time the
	// caller read ("parts+hit", "parts+hit+now"), as routing does.
	b.Run("key+hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, _ := m.GetPin(ctx, stores.SessionKey("team/chat", ids[i%len(ids)]), time.Hour); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("parts+hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, _ := m.GetSessionPin(ctx, "team/chat", ids[i%len(ids)], time.Hour, time.Time{}); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	now := time.Now()
	b.Run("parts+hit+now", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, _ := m.GetSessionPin(ctx, "team/chat", ids[i%len(ids)], time.Hour, now); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, _ := m.GetPin(ctx, keys[i%len(keys)], time.Hour); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, _ := m.GetPin(ctx, "team/chat|nobody", time.Hour); ok {
				b.Fatal("hit")
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok, _ := m.GetPin(ctx, keys[i%len(keys)], time.Hour); !ok {
					b.Fatal("miss")
				}
				i++
			}
		})
	})
}

func BenchmarkMemorySetPin(b *testing.B) {
	ctx := context.Background()
	keys := make([]string, 1<<12)
	for i := range keys {
		keys[i] = fmt.Sprintf("team/chat|session-%d", i)
	}
	b.Run("update", func(b *testing.B) {
		m := stores.NewMemory()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = m.SetPin(ctx, keys[i%len(keys)], stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour)
			i++
		}
	})
	b.Run("evict", func(b *testing.B) {
		m := stores.NewMemory(stores.WithMaxEntries(len(keys) / 2))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = m.SetPin(ctx, keys[i%len(keys)], stores.Pin{Target: "azure-main/gpt-4o"}, time.Hour)
			i++
		}
	})
}

func TestMemoryGetSessionPin(t *testing.T) {
	// GetSessionPin finds what GetPin finds under SessionKey's key,
	// whatever the key: plain, escaped, or shortened to a digest; in a
	// single-shard Memory and in a sharded one.
	long := strings.Repeat("x", stores.MaxSessionKeyLen)
	cases := []struct {
		model  string
		values []string
	}{
		{"team/chat", []string{"abc"}},
		{"team/chat", []string{"abc", "eu"}},
		{"team/chat", []string{`a|b`, `c\`}},
		{`g|x`, []string{"v"}},
		{"team/chat", []string{long}},
		{"team/chat", []string{long, `a|b`}},
	}
	for _, max := range []int{10, stores.DefaultMaxEntries} {
		c := &clock{}
		m := stores.NewMemory(stores.WithMaxEntries(max), stores.WithClock(c.now))
		ctx := context.Background()
		for i, tc := range cases {
			key := stores.SessionKey(tc.model, tc.values)
			if err := m.SetPin(ctx, key, stores.Pin{Target: fmt.Sprintf("a/m%d", i)}, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		for i, tc := range cases {
			got, ok, err := m.GetSessionPin(ctx, tc.model, tc.values, time.Minute, time.Time{})
			if want := (stores.Pin{Target: fmt.Sprintf("a/m%d", i)}); err != nil || !ok || got != want {
				t.Errorf("max %d: GetSessionPin(%q, %q) = %v, %v, %v; want %v, true, nil", max, tc.model, tc.values, got, ok, err, want)
			}
		}
		if _, ok, _ := m.GetSessionPin(ctx, "team/chat", []string{"nobody"}, time.Minute, time.Time{}); ok {
			t.Errorf("max %d: found a pin for a session never pinned", max)
		}
	}
}

func TestMemoryGetSessionPinAt(t *testing.T) {
	// A given time stands in for the Memory's clock: for the expiry
	// check and for the refreshed expiry.
	c := &clock{}
	m := stores.NewMemory(stores.WithClock(c.now))
	ctx := context.Background()
	key, vals := stores.SessionKey("g/m", []string{"s"}), []string{"s"}
	if err := m.SetPin(ctx, key, stores.Pin{Target: "a/m"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.GetSessionPin(ctx, "g/m", vals, 0, epoch.Add(time.Minute)); ok {
		t.Fatal("found a pin at its expiry")
	}
	if err := m.SetPin(ctx, key, stores.Pin{Target: "a/m"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Refreshed at 50s on the given time: live until 110s, though the
	// Memory's own clock has not moved.
	if _, ok, _ := m.GetSessionPin(ctx, "g/m", vals, time.Minute, epoch.Add(50*time.Second)); !ok {
		t.Fatal("no pin before its expiry")
	}
	c.advance(100 * time.Second)
	if _, ok, _ := m.GetPin(ctx, key, 0); !ok {
		t.Error("the refresh at the given time did not hold: pin gone at 100s")
	}
	c.advance(10 * time.Second)
	if _, ok, _ := m.GetPin(ctx, key, 0); ok {
		t.Error("pin still there at 110s")
	}
}

func TestMemoryGetSessionPinAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	m := stores.NewMemory()
	ctx := context.Background()
	if err := m.SetPin(ctx, stores.SessionKey("team/chat", []string{"abc", "eu"}), stores.Pin{Target: "a/m"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, vals := range [][]string{{"abc", "eu"}, {"missing", "eu"}} {
		got := testing.AllocsPerRun(100, func() {
			_, _, _ = m.GetSessionPin(ctx, "team/chat", vals, time.Hour, time.Time{})
		})
		if got != 0 {
			t.Errorf("GetSessionPin(%q) allocates %v times; want 0", vals, got)
		}
	}
}

func TestMemoryTimesBeforeFirstUse(t *testing.T) {
	// The first use sets the time expiries count from, after the call
	// read its own time: a time before it still gives the right expiry.
	var ns atomic.Int64
	ticking := func() time.Time { return epoch.Add(time.Duration(ns.Add(1))) } // moves on every read
	ctx := context.Background()
	m := stores.NewMemory(stores.WithClock(ticking))
	if err := m.SetPin(ctx, "k", stores.Pin{Target: "a/m"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ns.Add(int64(2 * time.Minute))
	if _, ok, _ := m.GetPin(ctx, "k", 0); ok {
		t.Error("the first pin of a Memory outlived its ttl")
	}

	// A pin that never expires, read at a time before the first use.
	var c clock
	c.advance(time.Hour)
	m = stores.NewMemory(stores.WithClock(c.now))
	key := stores.SessionKey("g/m", []string{"s"})
	if err := m.SetPin(ctx, key, stores.Pin{Target: "a/m"}, time.Duration(math.MaxInt64)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.GetSessionPin(ctx, "g/m", []string{"s"}, 0, epoch); !ok {
		t.Error("a pin of the longest ttl was not found at a time before the first use")
	}
	if _, ok, _ := m.GetPin(ctx, key, 0); !ok {
		t.Error("a pin of the longest ttl was dropped by a read at a time before the first use")
	}
}
