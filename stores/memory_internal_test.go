package stores

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryTableStaysSmall churns a full Memory through many more keys
// than it holds, with pins expiring and dropped on read: its table is
// rebuilt without the tombstones rather than growing, and its count of
// live entries is Len.
func TestMemoryTableStaysSmall(t *testing.T) {
	const limit = 100
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory(WithMaxEntries(limit), WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 100 * limit {
		key := fmt.Sprint(i)
		if err := m.SetPin(ctx, key, Pin{Target: "a/" + key}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			now = now.Add(20 * time.Second)
			m.GetPin(ctx, fmt.Sprint(i-7), time.Minute) // may drop an expired pin
		}
	}
	sh := &m.shards[0]
	if len(m.shards) != 1 {
		t.Fatalf("%d shards; want 1", len(m.shards))
	}
	if size := len(sh.tab.Load().slots); size > 8*limit {
		t.Errorf("table of %d slots for %d pins; want at most %d", size, limit, 8*limit)
	}
	live := 0
	tab := sh.tab.Load()
	for i := range tab.slots {
		if e := tab.slots[i].Load(); e != nil && e != tombstone {
			live++
		}
	}
	if live != m.Len() || live != len(sh.ring) {
		t.Errorf("table holds %d entries, ring %d, Len() %d; want equal", live, len(sh.ring), m.Len())
	}
}

// TestMemoryLookupsDuringChanges reads pins that are always there, some
// of them moved between two targets meanwhile, without a lock while
// other pins come, expire and are dropped, leaving tombstones that make
// the table be rebuilt again and again: no lookup may miss a pin that is
// there. Then every shard's table, ring and counts must agree.
func TestMemoryLookupsDuringChanges(t *testing.T) {
	// 1,000: one shard; 4,096: four.
	for _, limit := range []int{1000, 4096} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) { testLookupsDuringChanges(t, limit) })
	}
}

func testLookupsDuringChanges(t *testing.T, limit int) {
	const (
		stable  = 64
		writers = 4
		rounds  = 3000
		readers = 4
	)
	var ns atomic.Int64
	m := NewMemory(WithMaxEntries(limit), WithClock(func() time.Time {
		return time.Unix(0, ns.Load())
	}))
	ctx := context.Background()
	for i := range stable {
		if err := m.SetPin(ctx, fmt.Sprint("stable-", i), Pin{Target: "a/m"}, 1000*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var ws, rs sync.WaitGroup
	for w := range writers {
		ws.Go(func() {
			for i := range rounds {
				if err := m.SetPin(ctx, fmt.Sprint("churn-", w, "-", i), Pin{Target: "a/m"}, time.Second); err != nil {
					t.Error(err)
					return
				}
				ns.Add(int64(time.Second / 4))
				// Drops the pin of four rounds ago, expired by now.
				m.GetPin(ctx, fmt.Sprint("churn-", w, "-", i-4), 0)
				target := []string{"a/m", "b/m"}[i%2]
				if err := m.SetPin(ctx, fmt.Sprint("stable-", (w*rounds+i)%stable), Pin{Target: target}, 1000*time.Hour); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var stop atomic.Bool
	for range readers {
		rs.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprint("stable-", i%stable)
				p, ok, err := m.GetPin(ctx, key, 0)
				if err != nil || !ok || (p.Target != "a/m" && p.Target != "b/m") {
					t.Errorf("GetPin(%q) = %+v, %t, %v; want its pin", key, p, ok, err)
					return
				}
			}
		})
	}
	ws.Wait()
	stop.Store(true)
	rs.Wait()
	checkShards(t, m)
}

// checkShards checks that each shard's table holds exactly the entries
// of its ring, each found by its key, and that its counts are right.
func checkShards(t *testing.T, m *Memory) {
	t.Helper()
	rebuilt := false
	for s := range m.shards {
		sh := &m.shards[s]
		sh.mu.Lock()
		tab := sh.tab.Load()
		live, used := 0, 0
		for i := range tab.slots {
			switch e := tab.slots[i].Load(); e {
			case nil:
			case tombstone:
				used++
			default:
				live++
				used++
				if e.removed || e.slot >= len(sh.ring) || sh.ring[e.slot] != e {
					t.Errorf("shard %d: entry %q in the table is not at its ring slot", s, e.key)
				}
			}
		}
		if live != sh.n || len(sh.ring) != sh.n || used != sh.full || sh.n > sh.max {
			t.Errorf("shard %d: %d live entries and %d used slots in the table, ring of %d, n %d, full %d, max %d",
				s, live, used, len(sh.ring), sh.n, sh.full, sh.max)
		}
		for i, e := range sh.ring {
			if e.slot != i || find(tab, e.hash, e.key) != e {
				t.Errorf("shard %d: ring entry %q (slot %d, at %d) is not what its key finds", s, e.key, e.slot, i)
			}
		}
		if len(sh.ring) > 0 && sh.hand >= len(sh.ring) {
			t.Errorf("shard %d: hand %d past the ring of %d", s, sh.hand, len(sh.ring))
		}
		if len(tab.slots) > 8 {
			rebuilt = true
		}
		sh.mu.Unlock()
	}
	if !rebuilt {
		t.Error("no table was ever rebuilt")
	}
}
