package stores

import (
	"context"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxEntries is how many pins a Memory holds unless
// [WithMaxEntries] says otherwise.
const DefaultMaxEntries = 100_000

// Option configures a Memory made by [NewMemory].
type Option func(*Memory)

// WithMaxEntries bounds a Memory to n pins; when it is full, a new pin
// replaces one not used recently. n < 1 means [DefaultMaxEntries].
func WithMaxEntries(n int) Option {
	return func(m *Memory) {
		if n >= 1 {
			m.max = n
		}
	}
}

// WithClock makes a Memory read the time from now instead of time.Now;
// tests use it to move time by hand. now must be safe for concurrent use.
// A nil now means time.Now.
func WithClock(now func() time.Time) Option {
	return func(m *Memory) {
		m.now = now
	}
}

// Memory is a Store that holds pins in the process: the default for a
// service with one replica, and for tests.
//
// It holds at most the pins WithMaxEntries allows (DefaultMaxEntries by
// default). When it is full, a new pin replaces one not used recently,
// in approximately least-recently-used order ("second chance", or CLOCK):
// a use of a pin marks it used, and a clock hand goes round the pins,
// clearing the marks it passes, until it finds a pin that is not marked,
// or has expired, which the new pin replaces. So a pin used since the
// hand last passed it is never replaced while an unused one is there to
// take, and when every pin is marked the hand goes round once and takes
// the pin it started from. A use that finds its pin already marked
// writes nothing to mark it again, so that lookups of the same pins from
// many goroutines do not keep moving the memory that holds them between
// processors. An expired pin is dropped when it is next read, or when
// the hand reaches it; Memory starts no goroutines, so it needs no
// Close.
//
// A use with a ttl > 0 refreshes the pin with a granularity: its expiry
// moves to ttl from now only when that differs from the expiry it has by
// more than ttl/64 or one second, whichever is less. So a pin expires
// within that much of exactly ttl after its last use (at most one second
// early, for a ttl of a minute or more), and a lookup that finds its pin
// refreshed in the last second changes nothing. A use with a shorter
// ttl than the pin's remaining life shortens it the same way.
//
// A lookup takes no lock: it reads the pin from a table that only
// SetPin, eviction and the dropping of an expired pin change. So lookups
// on many goroutines do not wait for each other, and a lookup that finds
// its pin marked and refreshed writes nothing at all. A pin for a key
// that has none, or a different pin, allocates its entry.
//
// So that changes on different sessions do not wait for each other, a
// Memory of 2×512 pins or more spreads them over shards, up to 32 of
// them, by a hash of the key (seeded at random for each Memory, so that
// callers cannot choose the keys that share a shard). Each shard has its
// own lock, its own clock hand and an equal share of the bound (the
// shares differ by at most one and add up to the bound): a new pin in a
// full shard replaces a pin of that shard, so a Memory may drop a pin
// before it holds MaxEntries pins in all, and the pin it drops was not
// used recently in its shard, though pins of other shards may have been
// used less recently. A smaller Memory is one shard.
//
// Memory is also a [HealthStore], for tests and simulations of several
// Clients in one process: it keeps one small record per target reported
// unhealthy, dropped once it has expired, and compares times with those
// each call gives it rather than with its clock.
//
// A Memory is safe for concurrent use. Its operations never block on
// anything but each other, never fail except on invalid input, and
// ignore their ctx. The zero Memory is ready to use, with the default
// bound and time.Now; a Memory must not be copied after first use.
type Memory struct {
	max int
	now func() time.Time

	once   sync.Once
	seed   maphash.Seed
	shards []shard
	// epoch is the time expiries count from: an entry's expiry is the
	// nanoseconds from epoch to it, so that lookups can read and move it
	// atomically.
	epoch time.Time

	health memHealth
}

// Sharding: a Memory has one shard per minShard pins of its bound, as a
// power of two, at most maxShards.
const (
	minShard  = 512
	maxShards = 32
)

// shard is a part of a Memory's pins. Lookups read its table without a
// lock; everything else holds mu.
type shard struct {
	tab atomic.Pointer[table]
	// Padding keeps the table pointer, which every lookup reads, off
	// the line of the lock, which every change writes.
	_ [56]byte

	mu  sync.Mutex
	max int
	n   int // live entries in the table
	// full counts the table's slots holding an entry or a tombstone.
	full int
	// ring holds the live entries in the order the clock hand visits
	// them, each at its slot; hand is the slot the hand looks at next.
	ring []*entry
	hand int
	// Padding keeps two shards' locks off one cache line.
	_ [64]byte
}

// table is an open-addressing hash table of entries, probed linearly
// from the slot a key's hash picks. A slot, once set, holds an entry or
// the tombstone of a removed one until the table is rebuilt (when the
// live entries and tombstones would fill more than half of it), so a
// lookup's probe stops only at a slot never used.
type table struct {
	mask  uint64
	slots []atomic.Pointer[entry]
}

// tombstone marks the slot of a removed entry.
var tombstone = &entry{}

// entry is one pin. Its key, hash and pin never change once it is in a
// table (a new pin for its key is a new entry), so lookups read them
// without a lock; its expiry and mark are atomic.
type entry struct {
	key  string
	hash uint64
	pin  Pin
	// expires is the nanoseconds from the Memory's epoch to the pin's
	// expiry.
	expires atomic.Int64
	// used: used since the clock hand last passed.
	used atomic.Bool

	// Under the shard's mu: the entry's slot in the ring, and whether
	// it has left the table.
	slot    int
	removed bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory configured by opts.
func NewMemory(opts ...Option) *Memory {
	m := new(Memory)
	for _, opt := range opts {
		if opt != nil {
			opt(m)
		}
	}
	return m
}

// shardOf returns the shard of the key whose hash is h; m.seedOf,
// which gave the hash, made the shards.
func (m *Memory) shardOf(h uint64) *shard {
	return &m.shards[h&uint64(len(m.shards)-1)]
}

// setup divides m's bound between its shards.
func (m *Memory) setup() {
	limit := m.limit()
	n := 1
	for n < maxShards && 2*n*minShard <= limit {
		n *= 2
	}
	m.seed = maphash.MakeSeed()
	m.epoch = m.clock()
	m.shards = make([]shard, n)
	for i := range m.shards {
		sh := &m.shards[i]
		sh.max = limit / n
		if i < limit%n {
			sh.max++
		}
		sh.tab.Store(newTable(8))
	}
}

// since returns the nanoseconds from m's epoch to t.
func (m *Memory) since(t time.Time) int64 {
	return int64(t.Sub(m.epoch))
}

// GetPin implements [Store].
func (m *Memory) GetPin(_ context.Context, key string, ttl time.Duration) (Pin, bool, error) {
	now := m.clock()
	h := maphash.String(m.seedOf(), key)
	sh := m.shardOf(h)
	p, ok := m.hit(sh, find(sh.tab.Load(), h, key), ttl, now)
	return p, ok, nil
}

// seedOf returns m's seed, making m's shards on first use.
func (m *Memory) seedOf() maphash.Seed {
	m.once.Do(m.setup)
	return m.seed
}

// GetSessionPin is GetPin of the key SessionKey(model, values), without
// making that key a string: the key is built on the stack, so a lookup
// allocates nothing. now is the time of the lookup; the zero time means
// the time m's clock reads. A caller passes a now only when it reads the
// same clock as m, as package routing does for the Memory it makes
// itself: it looks the pin up at the time its call began, which saves a
// clock read.
func (m *Memory) GetSessionPin(_ context.Context, model string, values []string, ttl time.Duration, now time.Time) (Pin, bool, error) {
	// Most keys fit a small buffer, which costs less to clear.
	var key []byte
	if n, esc := sessionKeySize(model, values); n <= smallKey {
		var buf [smallKey]byte
		key = appendKey(buf[:0], model, values, esc)
	} else {
		var buf [MaxSessionKeyLen]byte
		key = appendSizedKey(buf[:0], model, values, n, esc)
	}
	if now.IsZero() {
		now = m.clock()
	}
	h := maphash.Bytes(m.seedOf(), key)
	sh := m.shardOf(h)
	p, ok := m.hit(sh, find(sh.tab.Load(), h, key), ttl, now)
	return p, ok, nil
}

// smallKey is the size of the buffer GetSessionPin builds most keys in.
const smallKey = 64

// find returns the entry for key, whose hash is h, in t; nil if there is
// none. It takes no lock.
func find[K string | []byte](t *table, h uint64, key K) *entry {
	for i := t.start(h); ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil
		}
		if e.hash == h && e != tombstone && e.key == string(key) {
			return e
		}
	}
}

// hit answers a lookup at now that found e (nil: nothing) in sh, without
// sh's lock unless e has expired. A live pin is marked used and, when
// ttl > 0, refreshed (see [Memory]), each written only when it changes;
// an expired one is dropped.
func (m *Memory) hit(sh *shard, e *entry, ttl time.Duration, now time.Time) (Pin, bool) {
	if e == nil {
		return Pin{}, false
	}
	t := m.since(now)
	left := remaining(e.expires.Load(), t)
	if left <= 0 {
		sh.mu.Lock()
		// Unless it went meanwhile, or a lookup at a later time
		// refreshed it.
		if !e.removed && e.expires.Load() <= t {
			sh.remove(e)
		}
		sh.mu.Unlock()
		return Pin{}, false
	}
	if ttl > 0 {
		// The refresh would move the expiry by ttl-left.
		if d, g := int64(ttl)-left, int64(refreshStep(ttl)); d > g || d < -g {
			e.expires.Store(expiry(t, ttl))
		}
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e.pin, true
}

// expiry is t+ttl in nanoseconds from the epoch, at most math.MaxInt64.
// t is negative for a time before the epoch: a call that read the clock
// before its first use of the Memory set the epoch, or a caller's time.
func expiry(t int64, ttl time.Duration) int64 {
	if t > 0 && int64(ttl) > math.MaxInt64-t {
		return math.MaxInt64
	}
	return t + int64(ttl)
}

// remaining is the time from t to the expiry exp, both in nanoseconds
// from the epoch, at most math.MaxInt64 (a t before the epoch and an
// expiry near the end of time would overflow).
func remaining(exp, t int64) int64 {
	if t < 0 && exp > math.MaxInt64+t {
		return math.MaxInt64
	}
	return exp - t
}

// refreshStep is how far a use's new expiry may be from a pin's expiry
// without moving it: ttl/64, at most a second.
func refreshStep(ttl time.Duration) time.Duration {
	return min(ttl/64, time.Second)
}

// SetPin implements [Store].
func (m *Memory) SetPin(_ context.Context, key string, pin Pin, ttl time.Duration) error {
	if err := CheckPin(pin, ttl); err != nil {
		return err
	}
	now := m.clock()
	h := maphash.String(m.seedOf(), key)
	sh := m.shardOf(h)
	t := m.since(now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := find(sh.tab.Load(), h, key)
	if old != nil && old.pin == pin {
		// The same pin again: a use, and a new expiry.
		old.expires.Store(expiry(t, ttl))
		old.used.Store(true)
		return nil
	}
	// Otherwise a new entry: lookups read entries without a lock, so an
	// entry's key and pin never change.
	e := &entry{key: key, hash: h, pin: pin}
	e.expires.Store(expiry(t, ttl))
	switch {
	case old != nil:
		// A new pin for the session is a use of it.
		e.used.Store(true)
		sh.replace(old, e)
		return nil
	case sh.n >= sh.max:
		// Full: the new pin takes the place of the one the hand
		// picks, and starts unmarked, the last one the hand will
		// reach.
		old := sh.evict(t)
		sh.replace(old, nil)
		e.slot = old.slot
		sh.ring[e.slot] = e
	default:
		e.slot = len(sh.ring)
		sh.ring = append(sh.ring, e)
	}
	sh.insert(e)
	return nil
}

// evict picks the entry of the full shard sh to make room for a new one
// at t: the first the clock hand finds unmarked or expired, clearing the
// marks it passes (so it stops within one turn). sh.mu must be held.
func (sh *shard) evict(t int64) *entry {
	for {
		e := sh.ring[sh.hand]
		sh.hand++
		if sh.hand == len(sh.ring) {
			sh.hand = 0
		}
		if !e.used.Load() || e.expires.Load() <= t {
			return e
		}
		e.used.Store(false)
	}
}

// replace puts e (nil: a tombstone) in old's table slot, old leaving
// the table; e takes old's place in the ring too, when not nil. sh.mu
// must be held.
func (sh *shard) replace(old, e *entry) {
	tab := sh.tab.Load()
	i := tab.start(old.hash)
	for tab.slots[i].Load() != old {
		i = (i + 1) & tab.mask
	}
	old.removed = true
	if e == nil {
		tab.slots[i].Store(tombstone)
		sh.n--
		return
	}
	e.slot = old.slot
	sh.ring[e.slot] = e
	tab.slots[i].Store(e)
}

// insert adds e, whose key is not in the table, to sh's table, which
// is rebuilt first if it would be too full; e is in the ring already.
// sh.mu must be held.
func (sh *shard) insert(e *entry) {
	tab := sh.tab.Load()
	if 2*(sh.full+1) > len(tab.slots) {
		// Rebuilt from the ring, without tombstones: twice the size
		// when the live entries fill a quarter of it. So at most half
		// the slots are used, and probes stay short.
		size := len(tab.slots)
		if 4*(sh.n+1) > size {
			size *= 2
		}
		tab = newTable(size)
		sh.full = 0
		for _, r := range sh.ring {
			if r != e {
				tab.put(r)
				sh.full++
			}
		}
		sh.tab.Store(tab)
	}
	if tab.put(e) {
		sh.full++
	}
	sh.n++
}

// remove drops e from sh: its slot holds a tombstone, and the last
// entry of the ring takes its place there. sh.mu must be held.
func (sh *shard) remove(e *entry) {
	sh.replace(e, nil)
	last := len(sh.ring) - 1
	moved := sh.ring[last]
	sh.ring[e.slot] = moved
	moved.slot = e.slot
	sh.ring[last] = nil
	sh.ring = sh.ring[:last]
	if sh.hand >= last {
		sh.hand = 0
	}
}

func newTable(size int) *table {
	return &table{mask: uint64(size - 1), slots: make([]atomic.Pointer[entry], size)}
}

// start is the slot the probe for hash h starts at. The shard took the
// hash's low bits, so the slot comes from the high ones.
func (t *table) start(h uint64) uint64 {
	return bits.RotateLeft64(h, 32) & t.mask
}

// put stores e in the first free slot or tombstone of its probe; it
// reports whether the slot was free (never used).
func (t *table) put(e *entry) bool {
	for i := t.start(e.hash); ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			t.slots[i].Store(e)
			return true
		case tombstone:
			t.slots[i].Store(e)
			return false
		}
	}
}

// Len returns how many pins m holds, counting expired pins that have not
// been dropped yet. It is never more than m's MaxEntries.
func (m *Memory) Len() int {
	m.once.Do(m.setup)
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

func (m *Memory) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

func (m *Memory) limit() int {
	if m.max >= 1 {
		return m.max
	}
	return DefaultMaxEntries
}
