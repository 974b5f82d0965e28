package simulate

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/llmroute/llmroute/internal/virtualtime"
)

// epoch is the virtual time every run starts at, so that runs are alike
// whatever the wall clock says.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a run's virtual time, and the scheduler of everything that
// waits on it. Calls overlap as they would in real time: each runs on a
// goroutine of its own, and so do the tries of a hedged call. A
// goroutine waiting on virtual time (a provider answering, a back-off, a
// hedge timer) is parked on an event; the run moves time on to the next
// event only once no goroutine of the run is busy, so every goroutine
// reads the "now" it woke at, and a run gives the same result every time.
//
// busy counts the goroutines that are running or about to: the run's
// calls and the goroutines routing starts through the clock's
// Scheduler, less those parked. Routing marks every message one of its
// goroutines hands another (see package virtualtime), and each one
// counts as busy until taken, so a goroutine that waits for a message is
// never mistaken for one that waits on time.
type clock struct {
	mu     sync.Mutex
	idle   sync.Cond // broadcast when busy drops to 0
	now    time.Time
	busy   int
	events events
	seq    uint64
}

// Event classes order the events of one instant: a goroutine's wake-up
// (a provider's answer, the end of a back-off) comes before a timer that
// would hedge it, and both before a new call arrives.
const (
	classWake = iota
	classTimer
	classArrival
)

type event struct {
	at    time.Time
	class int
	seq   uint64
	index int // in the heap; -1 once fired or cancelled
	fire  func()
}

func newClock() *clock {
	c := &clock{now: epoch}
	c.idle.L = &c.mu
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep parks the calling goroutine until d of virtual time has passed,
// or until ctx is done.
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	wake := make(chan struct{})
	c.mu.Lock()
	ev := c.scheduleLocked(d, classWake, func() { close(wake) })
	c.releaseLocked()
	c.mu.Unlock()
	select {
	case <-wake: // the run counted this goroutine busy again
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if c.cancelLocked(ev) {
			// Cancelled before it fired: whoever cancelled ctx is
			// busy, and waits for this goroutine, so time cannot have
			// moved on in between.
			c.busy++
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// scheduleLocked adds an event d from now.
func (c *clock) scheduleLocked(d time.Duration, class int, fire func()) *event {
	c.seq++
	ev := &event{at: c.now.Add(d), class: class, seq: c.seq, fire: fire}
	heap.Push(&c.events, ev)
	return ev
}

// cancelLocked removes ev if it has not fired; it reports whether it did.
func (c *clock) cancelLocked(ev *event) bool {
	if ev.index < 0 {
		return false
	}
	heap.Remove(&c.events, ev.index)
	return true
}

// releaseLocked counts one busy goroutine less.
func (c *clock) releaseLocked() {
	c.busy--
	if c.busy == 0 {
		c.idle.Broadcast()
	}
}

func (c *clock) release() {
	c.mu.Lock()
	c.releaseLocked()
	c.mu.Unlock()
}

// step waits until no goroutine of the run is busy, then moves time on to
// the next event and fires it. It reports false when no event is left,
// or when ctx is done.
func (c *clock) step(ctx context.Context) bool {
	c.mu.Lock()
	for c.busy > 0 && ctx.Err() == nil {
		c.idle.Wait()
	}
	if ctx.Err() != nil || len(c.events) == 0 {
		c.mu.Unlock()
		return false
	}
	ev := heap.Pop(&c.events).(*event)
	if ev.at.After(c.now) {
		c.now = ev.at
	}
	c.busy++ // the goroutine the event wakes, or starts
	c.mu.Unlock()
	ev.fire()
	return true
}

// stop wakes a step waiting for idleness, once ctx is done.
func (c *clock) stop() {
	c.mu.Lock()
	c.idle.Broadcast()
	c.mu.Unlock()
}

// at schedules fire at the virtual time t (or now, if t has passed), as
// an event of the given class; fire runs on the stepping goroutine,
// counted busy, and must hand that count on or release it.
func (c *clock) at(t time.Time, class int, fire func()) {
	c.mu.Lock()
	c.scheduleLocked(max(t.Sub(c.now), 0), class, fire)
	c.mu.Unlock()
}

// Scheduler runs a Client's hedged calls in the run's virtual time.
func (c *clock) Scheduler() virtualtime.Scheduler { return (*scheduler)(c) }

var _ virtualtime.Owner = (*clock)(nil)

type scheduler clock

func (s *scheduler) Go(f func()) {
	c := (*clock)(s)
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
	go func() {
		defer c.release()
		f()
	}()
}

func (s *scheduler) Post() {
	c := (*clock)(s)
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

func (s *scheduler) Await() { (*clock)(s).release() }
func (s *scheduler) Took()  { (*clock)(s).release() }

func (s *scheduler) NewTimer(d time.Duration) virtualtime.Timer {
	t := &timer{c: (*clock)(s), ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// timer is a virtual time.Timer. Its tick counts as busy until taken.
type timer struct {
	c  *clock
	ch chan time.Time
	ev *event // pending, or nil
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.stopLocked()
}

func (t *timer) stopLocked() bool {
	if t.ev != nil && t.c.cancelLocked(t.ev) {
		t.ev = nil
		return true
	}
	t.ev = nil
	select {
	case <-t.ch: // a tick no one took, and its count
		t.c.releaseLocked()
	default:
	}
	return false
}

func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.stopLocked()
	var ev *event
	ev = t.c.scheduleLocked(d, classTimer, func() {
		t.c.mu.Lock()
		defer t.c.mu.Unlock()
		if t.ev != ev { // stopped or reset since: no tick
			t.c.releaseLocked()
			return
		}
		t.ev = nil
		t.ch <- t.c.now // cap 1, emptied by Stop and Reset
	})
	t.ev = ev
	return active
}

// events is a heap of events by time, then class, then order scheduled.
type events []*event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	a, b := h[i], h[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.class != b.class {
		return a.class < b.class
	}
	return a.seq < b.seq
}
func (h events) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *events) Push(x any) {
	ev := x.(*event)
	ev.index = len(*h)
	*h = append(*h, ev)
}
func (h *events) Pop() any {
	old := *h
	ev := old[len(old)-1]
	old[len(old)-1] = nil
	ev.index = -1
	*h = old[:len(old)-1]
	return ev
}
