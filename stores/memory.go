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
// replaces the least recently used one. n < 1 means [DefaultMaxEntries].
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
// default), dropping the least recently used one to make room for a new
// one. An expired pin is dropped when it is next read, or when it is the
// least recently used; Memory starts no goroutines, so it needs no Close.
//
// So that calls on different sessions do not wait for each other, a
// Memory of 2×512 pins or more spreads them over shards, up to 32 of
// them, by a hash of the key (seeded at random for each Memory, so that
// callers cannot choose the keys that share a shard). Each shard has its
// own lock, its own least-recently-used order and an equal share of the
// bound (the shares differ by at most one and add up to the bound): a
// new pin in a full shard drops the least recently used pin of that
// shard, so a Memory may drop a pin before it holds MaxEntries pins in
// all, and the pin it drops is the least recently used of its shard,
// not always of the whole Memory. A smaller Memory is one shard, in
// exact least-recently-used order.
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

// shard is a part of a Memory's pins with its own lock and LRU list.
type shard struct {
	mu   sync.Mutex
	max  int
	pins map[string]*entry
	// lru is the sentinel of a circular list of the entries, most recently
	// used first: lru.next is the newest, lru.prev the next to evict.
	lru entry
	// Padding keeps two shards' locks off one cache line.
	_ [64]byte
}

// entry is one pin and its place in the LRU list. The list is intrusive
// so that a hit moves pointers and allocates nothing.
type entry struct {
	key        string
	pin        Pin
	expires    time.Time
	prev, next *entry
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
		sh.lru.next = &sh.lru
		sh.lru.prev = &sh.lru
	}
}

// GetPin implements [Store].
func (m *Memory) GetPin(_ context.Context, key string, ttl time.Duration) (Pin, bool, error) {
	now := m.clock()
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.hit(sh.pins[key], ttl, now)
}

// GetSessionPin is GetPin of the key SessionKey(model, values), without
// making that key a string: the key is built on the stack, so a lookup
// allocates nothing. now is the time of the lookup; the zero time means
// the time m's clock reads. A caller passes a now only when it reads the
// same clock as m, as package routing does for the Memory it makes
// itself: it looks the pin up at the time its call began, which saves a
// clock read.
func (m *Memory) GetSessionPin(_ context.Context, model string, values []string, ttl time.Duration, now time.Time) (Pin, bool, error) {
	var buf [MaxSessionKeyLen]byte
	key := appendSessionKey(buf[:0], model, values)
	if now.IsZero() {
		now = m.clock()
	}
	m.once.Do(m.setup)
	sh := &m.shards[0]
	if len(m.shards) > 1 {
		sh = &m.shards[maphash.Bytes(m.seed, key)&uint64(len(m.shards)-1)]
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.hit(sh.pins[string(key)], ttl, now)
}

// hit answers a lookup at now that found e (nil: nothing) in sh; sh.mu
// must be held. A live pin's expiry moves to ttl after now (when ttl > 0)
// and it becomes the most recently used; an expired one is dropped.
func (sh *shard) hit(e *entry, ttl time.Duration, now time.Time) (Pin, bool, error) {
	if e == nil {
		return Pin{}, false, nil
	}
	if !now.Before(e.expires) {
		unlink(e)
		delete(sh.pins, e.key)
		return Pin{}, false, nil
	}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	if sh.lru.next != e {
		unlink(e)
		sh.pushFront(e)
	}
	return e.pin, true, nil
}

// SetPin implements [Store].
func (m *Memory) SetPin(_ context.Context, key string, pin Pin, ttl time.Duration) error {
	if err := CheckPin(pin, ttl); err != nil {
		return err
	}
	expires := m.clock().Add(ttl)
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.pins[key]
	switch {
	case e != nil:
		unlink(e)
	case len(sh.pins) >= sh.max:
		// Full: reuse the least recently used entry for the new pin.
		e = sh.lru.prev
		unlink(e)
		delete(sh.pins, e.key)
		e.key = key
		sh.pins[key] = e
	default:
		e = &entry{key: key}
		sh.pins[key] = e
	}
	e.pin = pin
	e.expires = expires
	sh.pushFront(e)
	return nil
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

// pushFront makes e the most recently used entry; sh.mu must be held.
func (sh *shard) pushFront(e *entry) {
	e.prev = &sh.lru
	e.next = sh.lru.next
	e.prev.next = e
	e.next.prev = e
}

// unlink takes e out of its LRU list; its shard's mu must be held.
func unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
