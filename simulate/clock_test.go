package simulate

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A run's clock moves on only when no goroutine is busy, and a sleep
// cancelled by a busy goroutine takes its count back.
func TestClockWaitsForBusyGoroutines(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	s := c.Scheduler()
	woke := make(chan time.Time, 2)
	s.Go(func() {
		c.Sleep(ctx, 2*time.Second)
		woke <- c.Now()
	})
	s.Go(func() {
		c.Sleep(ctx, time.Second)
		woke <- c.Now()
	})
	for c.step(ctx) {
	}
	if a, b := <-woke, <-woke; a != epoch.Add(time.Second) || b != epoch.Add(2*time.Second) {
		t.Errorf("woke at %v and %v, want epoch+1s and epoch+2s", a.Sub(epoch), b.Sub(epoch))
	}
	if c.busy != 0 {
		t.Errorf("busy = %d after every goroutine ended, want 0", c.busy)
	}

	// A sleep cancelled while its canceller is busy.
	sleepCtx, cancel := context.WithCancel(ctx)
	errc, result := make(chan error, 1), make(chan error, 1)
	s.Go(func() {
		c.Sleep(ctx, time.Second) // park, so the next one can be cancelled
		cancel()
		result <- <-errc // stays busy while it waits, as a hedged call does
	})
	s.Go(func() {
		errc <- c.Sleep(sleepCtx, time.Hour)
	})
	for c.step(ctx) {
	}
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep returned %v, want context.Canceled", err)
	}
	if c.busy != 0 || len(c.events) != 0 {
		t.Errorf("busy %d, %d events left; want 0 and 0", c.busy, len(c.events))
	}
	if got := c.Now().Sub(epoch); got != 3*time.Second {
		t.Errorf("time moved to epoch+%v, want +3s: the cancelled hour never passed", got)
	}
}

// A virtual timer ticks once, counted busy until taken; Stop and Reset
// leave no stale tick and no count behind.
func TestClockTimer(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	s := c.Scheduler()
	c.busy = 1 // this goroutine
	tm := s.NewTimer(time.Second)
	if !tm.Stop() {
		t.Error("Stop of a pending timer = false, want true")
	}
	tm.Reset(2 * time.Second)
	s.Await()
	if !c.step(ctx) {
		t.Fatal("no event for the timer")
	}
	<-tm.C() // the tick carries the count
	if got := c.Now().Sub(epoch); got != 2*time.Second {
		t.Errorf("ticked at +%v, want +2s (the reset, not the stopped 1s)", got)
	}
	if c.busy != 1 {
		t.Errorf("busy = %d after the tick was taken, want 1", c.busy)
	}
	// A tick no one took is drained, with its count, by Stop.
	tm.Reset(time.Second)
	s.Await()
	c.step(ctx)
	if c.busy != 1 || len(tm.C()) != 1 {
		t.Fatalf("busy %d, %d ticks waiting; want the tick's count only", c.busy, len(tm.C()))
	}
	c.busy++ // as if this goroutine had woken for something else
	if tm.Stop() {
		t.Error("Stop after the tick = true, want false")
	}
	if c.busy != 1 || len(tm.C()) != 0 {
		t.Errorf("after Stop: busy %d, %d ticks waiting; want 1 and 0", c.busy, len(tm.C()))
	}
	if len(c.events) != 0 {
		t.Errorf("%d events left, want none", len(c.events))
	}
}
