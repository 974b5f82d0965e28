package stores

import (
	"context"
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
// one. An expired pin is dropped when it is
// next read, or when it is the least recently used; Memory starts no
// goroutines, so it needs no Close.
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

	mu   sync.Mutex
	pins map[string]*entry
	// lru is the sentinel of a circular list of the entries, most recently
	// used first: lru.next is the newest, lru.prev the next to evict.
	lru entry

	health memHealth
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

// GetPin implements [Store].
func (m *Memory) GetPin(_ context.Context, key string, ttl time.Duration) (Pin, bool, error) {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pins[key]
	if e == nil {
		return Pin{}, false, nil
	}
	if !now.Before(e.expires) {
		m.unlink(e)
		delete(m.pins, key)
		return Pin{}, false, nil
	}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	m.unlink(e)
	m.pushFront(e)
	return e.pin, true, nil
}

// SetPin implements [Store].
func (m *Memory) SetPin(_ context.Context, key string, pin Pin, ttl time.Duration) error {
	if err := CheckPin(pin, ttl); err != nil {
		return err
	}
	expires := m.clock().Add(ttl)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	e := m.pins[key]
	switch {
	case e != nil:
		m.unlink(e)
	case len(m.pins) >= m.limit():
		// Full: reuse the least recently used entry for the new pin.
		e = m.lru.prev
		m.unlink(e)
		delete(m.pins, e.key)
		e.key = key
		m.pins[key] = e
	default:
		e = &entry{key: key}
		m.pins[key] = e
	}
	e.pin = pin
	e.expires = expires
	m.pushFront(e)
	return nil
}

// Len returns how many pins m holds, counting expired pins that have not
// been dropped yet. It is never more than m's MaxEntries.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pins)
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

// init prepares the zero Memory; m.mu must be held.
func (m *Memory) init() {
	if m.pins == nil {
		m.pins = make(map[string]*entry)
		m.lru.next = &m.lru
		m.lru.prev = &m.lru
	}
}

// pushFront makes e the most recently used entry; m.mu must be held.
func (m *Memory) pushFront(e *entry) {
	e.prev = &m.lru
	e.next = m.lru.next
	e.prev.next = e
	e.next.prev = e
}

// unlink takes e out of the LRU list; m.mu must be held.
func (m *Memory) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
