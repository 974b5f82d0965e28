package stores

import (
	"context"
	"fmt"
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
