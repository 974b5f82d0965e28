package stores

import (
	"context"
	"hash/maphash"
	"sync"
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
// So that calls on different sessions do not wait for each other, a
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

	health memHealth
}

// Sharding: a Memory has one shard per minShard pins of its bound, as a
// power of two, at most maxShards.
const (
	minShard  = 512
	maxShards = 32
)

// shard is a part of a Memory's pins with its own lock and clock hand.
type shard struct {
	mu   sync.Mutex
	max  int
	pins map[string]*entry
	// ring holds the entries in the order the clock hand visits them,
	// each at its slot; hand is the slot the hand looks at next.
	ring []*entry
	hand int
	// Padding keeps two shards' locks off one cache line.
	_ [64]byte
}

// entry is one pin, its place in its shard's ring and its mark.
type entry struct {
	key     string
	pin     Pin
	expires time.Time
	slot    int
	// used: used since the clock hand last passed.
	used bool
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

// shard returns key's shard, making m's shards on first use.
func (m *Memory) shard(key string) *shard {
	m.once.Do(m.setup)
	if len(m.shards) == 1 {
		return &m.shards[0]
	}
	return &m.shards[maphash.String(m.seed, key)&uint64(len(m.shards)-1)]
}

// setup divides m's bound between its shards.
func (m *Memory) setup() {
	limit := m.limit()
	n := 1
	for n < maxShards && 2*n*minShard <= limit {
		n *= 2
	}
	m.seed = maphash.MakeSeed()
	m.shards = make([]shard, n)
	for i := range m.shards {
		sh := &m.shards[i]
		sh.max = limit / n
		if i < limit%n {
			sh.max++
		}
		sh.pins = make(map[string]*entry)
	}
}

// GetPin implements [Store].
func (m *Memory) GetPin(_ context.Context, key string, ttl time.Duration) (Pin, bool, error) {
	now := m.clock()
	sh := m.shard(key)
	sh.mu.Lock()
	p, ok := sh.hit(sh.pins[key], ttl, now)
	sh.mu.Unlock()
	return p, ok, nil
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
	m.once.Do(m.setup)
	sh := &m.shards[0]
	if len(m.shards) > 1 {
		sh = &m.shards[maphash.Bytes(m.seed, key)&uint64(len(m.shards)-1)]
	}
	sh.mu.Lock()
	p, ok := sh.hit(sh.pins[string(key)], ttl, now)
	sh.mu.Unlock()
	return p, ok, nil
}

// smallKey is the size of the buffer GetSessionPin builds most keys in.
const smallKey = 64

// hit answers a lookup at now that found e (nil: nothing) in sh; sh.mu
// must be held (nothing in it panics, so callers unlock without a
// defer). A live pin is marked used and, when ttl > 0, refreshed (see
// [Memory]); an expired one is dropped. On the way of a hit, only what
// changes is written, and the clock is compared once.
func (sh *shard) hit(e *entry, ttl time.Duration, now time.Time) (Pin, bool) {
	if e == nil {
		return Pin{}, false
	}
	left := e.expires.Sub(now)
	if left <= 0 {
		sh.remove(e)
		return Pin{}, false
	}
	if ttl > 0 {
		// The refresh would move the expiry by ttl-left.
		if d, g := ttl-left, refreshStep(ttl); d > g || d < -g {
			e.expires = now.Add(ttl)
		}
	}
	if !e.used {
		e.used = true
	}
	return e.pin, true
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
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.pins[key]
	switch {
	case e != nil:
		// A new pin for the session is a use of it.
		e.used = true
	case len(sh.ring) >= sh.max:
		// Full: the new pin takes the place of the one the hand
		// picks, and starts unmarked, the last one the hand will
		// reach.
		e = sh.evict(now)
		e.key = key
		sh.pins[key] = e
	default:
		e = &entry{key: key, slot: len(sh.ring)}
		sh.ring = append(sh.ring, e)
		sh.pins[key] = e
	}
	e.pin = pin
	e.expires = now.Add(ttl)
	return nil
}

// evict takes a pin out of the full shard sh to make room at now: the
// first the clock hand finds unmarked or expired, clearing the marks it
// passes (so it stops within one turn). It returns the entry, out of
// sh.pins and unmarked, still in its slot of the ring for the new pin;
// sh.mu must be held.
func (sh *shard) evict(now time.Time) *entry {
	for {
		e := sh.ring[sh.hand]
		sh.hand++
		if sh.hand == len(sh.ring) {
			sh.hand = 0
		}
		if !e.used || !now.Before(e.expires) {
			delete(sh.pins, e.key)
			e.used = false
			return e
		}
		e.used = false
	}
}

// remove drops e from sh: the last entry of the ring takes its slot;
// sh.mu must be held.
func (sh *shard) remove(e *entry) {
	delete(sh.pins, e.key)
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

// Len returns how many pins m holds, counting expired pins that have not
// been dropped yet. It is never more than m's MaxEntries.
func (m *Memory) Len() int {
	m.once.Do(m.setup)
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.pins)
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
