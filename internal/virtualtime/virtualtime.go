// Package virtualtime lets a simulator run routing's concurrent calls in
// its own virtual time.
//
// A hedged call runs its tries on goroutines of their own, arms a timer
// for the hedge and passes messages between its goroutines. In real time
// that needs nothing but the runtime. A simulator that moves virtual time
// on by itself must also know when every goroutine of its run is waiting
// for virtual time, and only then move it: otherwise a goroutine still
// busy would read a later "now" than the one it woke at. A Scheduler is
// how routing tells it: it starts the goroutines, arms the timers and
// marks every hand-off of a message.
package virtualtime

import "time"

// Scheduler starts a hedged call's goroutines and timers and is told of
// every message one of its goroutines hands another. Runtime is the real
// one.
//
// The hand-off rules, which let a simulator count the goroutines that are
// busy:
//   - Post is called before sending a message that another goroutine
//     receives (a try's result, a timer's tick, the end of a sleep).
//   - Await is called before blocking in a receive that such a message
//     ends: the goroutine is no longer busy, and the message it receives
//     makes it busy again.
//   - Took is called after receiving such a message without having
//     called Await first (the receiver stayed busy while it waited, as a
//     call does for the tries it has just cancelled).
type Scheduler interface {
	// Go runs f on a goroutine of its own.
	Go(f func())
	// NewTimer returns a timer that sends on its channel after d, with
	// Post called before the send.
	NewTimer(d time.Duration) Timer
	Post()
	Await()
	Took()
}

// Timer is a time.Timer a Scheduler made. As with time.Timer, after Stop
// or Reset returns no stale tick is received.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Owner is a clock that brings its own Scheduler. A routing.Clock that is
// an Owner runs a Client's hedged calls on that Scheduler; any other
// clock leaves them to the runtime.
type Owner interface {
	Scheduler() Scheduler
}

// Runtime is the Go runtime's goroutines and timers; its hand-off marks
// do nothing.
type Runtime struct{}

// Go runs f on a new goroutine.
func (Runtime) Go(f func()) { go f() }

// NewTimer returns a runtime timer.
func (Runtime) NewTimer(d time.Duration) Timer { return runtimeTimer{time.NewTimer(d)} }

// Post does nothing.
func (Runtime) Post() {}

// Await does nothing.
func (Runtime) Await() {}

// Took does nothing.
func (Runtime) Took() {}

type runtimeTimer struct{ t *time.Timer }

func (r runtimeTimer) C() <-chan time.Time        { return r.t.C }
func (r runtimeTimer) Stop() bool                 { return r.t.Stop() }
func (r runtimeTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
