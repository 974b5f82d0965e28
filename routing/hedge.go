package routing

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmroute/llmroute/internal/virtualtime"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/strategy"
)

// Hedging settings.
const (
	// tailSamples is how many recent successes of a target a percentile
	// delay is read from, and tailMin how many it needs.
	tailSamples = 256
	tailMin     = 20
	// tailEvery is how often (in samples) a target's percentile is
	// computed again: sorting at most tailSamples numbers every
	// tailEvery calls keeps the cost per call small.
	tailEvery = 16
)

// hedging is a virtual model's compiled hedge settings and the recent
// latencies of its targets.
type hedging struct {
	after time.Duration
	pct   float64
	max   int
	tails []tail
}

func compileHedge(h *Hedge, n int) *hedging {
	if h == nil {
		return nil
	}
	out := &hedging{after: h.After, pct: h.AfterPercentile, max: max(h.Max, 1)}
	if out.pct > 0 {
		out.tails = make([]tail, n)
	}
	return out
}

// delay is how long a call waits on target i before it hedges; false when
// it does not hedge.
func (h *hedging) delay(i int) (time.Duration, bool) {
	if h.pct > 0 {
		if d := h.tails[i].cached.Load(); d > 0 {
			return time.Duration(d), true
		}
	}
	return h.after, h.after > 0
}

// record notes how long target i took to answer (or to a stream's first
// chunk).
func (h *hedging) record(i int, d time.Duration) {
	if h.pct > 0 {
		h.tails[i].add(d, h.pct)
	}
}

// tail is one target's recent times to answer, and the percentile of them
// last computed.
type tail struct {
	mu     sync.Mutex
	ring   [tailSamples]time.Duration
	n      int // samples held
	next   int
	since  int // samples since the percentile was computed
	cached atomic.Int64
}

func (t *tail) add(d time.Duration, pct float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring[t.next] = d
	t.next = (t.next + 1) % tailSamples
	t.n = min(t.n+1, tailSamples)
	t.since++
	if t.n < tailMin || (t.since < tailEvery && t.cached.Load() > 0) {
		return
	}
	t.since = 0
	var buf [tailSamples]time.Duration
	s := buf[:t.n]
	copy(s, t.ring[:t.n])
	slices.Sort(s)
	k := int(math.Ceil(pct/100*float64(t.n))) - 1
	t.cached.Store(int64(s[max(0, min(k, t.n-1))]))
}

// lane is one attempt of a hedged call, running on its own goroutine.
type lane[Resp any] struct {
	a        attempt
	hedge    bool
	cancel   context.CancelFunc
	stopped  bool // cancelled by the loop: another lane won, or the call ended
	resp     Resp
	err      error
	timedOut bool
	panicked any
}

// hedged is the attempt loop of a virtual model that hedges. It follows
// the same order and the same retry and fallback rules as attempts, but a
// primary try that is late starts the next target beside it (at most
// max hedges a call, each paid from the late target's retry budget); the
// first success wins and the others are cancelled, finished as
// "hedge_cancelled" and counted against no target. Every try runs on its
// own goroutine; this one only sequences and keeps the books, so the run
// is never touched by two goroutines at once. Nothing it starts outlives
// it: it waits for every cancelled try to return.
func hedged[Req, Resp any](r *run, o *op[Req, Resp], snd sender[Req, Resp], a *attempt, resp *Resp) error {
	h := r.m.hedge
	sch := r.c.sched
	done := make(chan *lane[Resp], 1+h.max) // every lane sends once; never blocks
	var live []*lane[Resp]
	var primary *lane[Resp]
	var (
		step   strategy.Step
		t      *tgt
		header http.Header
		try    int
		wait   time.Duration
		bo     backoff
		hedges int
		final  error // what the call returns if nothing serves
	)
	var timer virtualtime.Timer
	var timerC <-chan time.Time
	var nap sleeper
	defer nap.stop(sch)
	defer func() {
		// A timer left armed would tick for no one: under a simulator's
		// clock, a tick no one takes keeps virtual time from moving on.
		if timer != nil {
			timer.Stop()
		}
	}()

	// start begins a try, or skips it (nil) when its target is at its
	// rate limit.
	start := func(s strategy.Step, t *tgt, hdr http.Header, try int, wait time.Duration, hedge bool) *lane[Resp] {
		req := o.build(t, hdr, r.tr)
		ch, ok := admit(r, o, t, s, try, &req)
		if !ok {
			return nil
		}
		l := &lane[Resp]{hedge: hedge}
		r.begin(&l.a, t, s, try, wait)
		l.a.charge = ch
		l.a.rec.Hedge = hedge
		if r.c.tracer != nil {
			sent := new(Req)
			*sent = req
			l.a.started(r, o.stream, sent)
		}
		l.a.ctx, l.cancel = context.WithCancel(l.a.ctx)
		live = append(live, l)
		stream := o.stream
		sch.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					l.panicked = p
				}
				sch.Post()
				done <- l
			}()
			l.err, l.timedOut = call(r, snd, stream, &l.a, &req, &l.resp)
		})
		return l
	}
	nextTarget := func() bool {
		s, ok := r.plan.Next()
		if !ok {
			return false
		}
		step, t, try, wait, bo = s, &r.m.targets[s.Index], 0, 0, backoff{}
		header = mergeHeaders(r.reqHeader, t.setHeader)
		return true
	}
	// launch starts the next try of the current target, going on to the
	// next targets while they are skipped at their rate limits.
	launch := func() {
		try++
		for primary = start(step, t, header, try, wait, false); primary == nil; primary = start(step, t, header, try, wait, false) {
			if !nextTarget() {
				return
			}
			try = 1
		}
		if hedges < h.max {
			if d, ok := h.delay(step.Index); ok {
				if timer == nil {
					timer = sch.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				timerC = timer.C()
			}
		}
	}
	// end cancels every lane still running, waits for each and finishes
	// it: "hedge_cancelled" when another won, "canceled" when the call
	// ended. A stream a loser had already opened is released.
	end := func(class string) {
		if timer != nil {
			timer.Stop()
		}
		nap.stop(sch)
		for _, l := range live {
			l.stopped = true
			l.cancel()
		}
		for range live {
			l := <-done
			sch.Took()
			if l.err == nil && o.discard != nil {
				o.discard(l.resp)
			}
			dur := r.c.since(l.a.rec.Start)
			if class == "hedge_cancelled" && !l.hedge {
				// The late try would have taken at least this long:
				// leaving it out would teach the percentile only the
				// fast answers, and hedges would come ever sooner.
				h.record(l.a.index, dur)
			}
			l.a.finish(r, class, context.Canceled, dur, nil, nil)
		}
		live = nil
	}

	if !nextTarget() {
		return r.exhausted()
	}
	launch()
	for {
		if len(live) == 0 && nap.done == nil {
			if final == nil {
				final = r.exhausted()
			}
			return final
		}
		sch.Await()
		select {
		case <-r.ctx.Done():
			end("canceled")
			return r.stopped(r.ctx.Err())

		case <-timerC:
			timerC = nil
			if primary == nil || hedges >= h.max {
				continue
			}
			if b := r.m.budget(primary.a.index); b != nil && !b.Retry(r.c.now()) {
				continue
			}
			if s, ok := r.plan.Next(); ok {
				ht := &r.m.targets[s.Index]
				if start(s, ht, mergeHeaders(r.reqHeader, ht.setHeader), 1, 0, true) != nil {
					hedges++
				}
			}

		case err := <-nap.done:
			nap.cancel()
			nap = sleeper{}
			if err != nil {
				end("canceled")
				return r.stopped(err)
			}
			launch()

		case l := <-done:
			live = slices.DeleteFunc(live, func(x *lane[Resp]) bool { return x == l })
			if l.err != nil || !o.stream {
				// A committed stream goes on under its try's
				// context; the stream's end cancels it.
				l.cancel()
			}
			if l == primary {
				primary = nil
				if timer != nil {
					timer.Stop()
				}
				timerC = nil
			}
			if l.panicked != nil {
				l.a.finish(r, "panic", fmt.Errorf("routing: provider panicked: %v", l.panicked), r.c.since(l.a.rec.Start), nil, nil)
				end("canceled")
				panic(l.panicked)
			}
			if l.err == nil {
				end("hedge_cancelled")
				dur := r.c.since(l.a.rec.Start)
				sample := dur
				if u, ok := any(l.resp).(*upstream); ok {
					sample = u.ttft
				}
				h.record(l.a.index, sample)
				*a = l.a
				*resp = l.resp
				succeeded(r, o, a, resp, dur)
				return nil
			}
			if r.ctx.Err() != nil {
				l.a.finish(r, "canceled", r.ctx.Err(), r.c.since(l.a.rec.Start), nil, nil)
				end("canceled")
				return r.stopped(r.ctx.Err())
			}
			var v verdict
			if l.hedge {
				var one backoff
				v = l.a.fail(r, l.err, l.timedOut, &one)
				if v.next == retry.Stop && final == nil {
					final = v.err
				}
				continue
			}
			v = l.a.fail(r, l.err, l.timedOut, &bo)
			switch v.next {
			case retry.Again:
				wait = v.wait
				nap.start(r.ctx, r.c.clock, sch, v.wait)
			case retry.Fallback:
				r.fallback = true
				if nextTarget() {
					launch()
				}
			default:
				end("canceled")
				return v.err
			}
		}
	}
}

// sleeper is a hedged call's back-off sleep, on a goroutine of its own so
// that the call goes on watching its other tries. Its context is made
// only when a retry needs one.
type sleeper struct {
	done   chan error // nil when not sleeping
	cancel context.CancelFunc
}

// start sleeps d on clock; done receives the outcome.
func (s *sleeper) start(ctx context.Context, clock Clock, sch virtualtime.Scheduler, d time.Duration) {
	ctx, s.cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	s.done = done
	sch.Go(func() {
		err := clock.Sleep(ctx, d)
		sch.Post()
		done <- err
	})
}

// stop ends a sleep in progress and waits for its goroutine.
func (s *sleeper) stop(sch virtualtime.Scheduler) {
	if s.cancel != nil {
		s.cancel()
	}
	if s.done != nil {
		<-s.done
		sch.Took()
	}
	*s = sleeper{}
}

// budget returns target i's retry budget, or nil when the virtual model
// has none.
func (m *model) budget(i int) *retry.Budget {
	if m.budgets == nil {
		return nil
	}
	return m.budgets[i]
}

// compileBudgets returns one retry budget per target, or nil when the
// virtual model turned budgets off.
func compileBudgets(b *RetryBudget, n int) []*retry.Budget {
	if b != nil && b.Disabled {
		return nil
	}
	percent, floor := retry.DefaultBudgetPercent, float64(retry.DefaultBudgetMinPerSecond)
	if b != nil {
		percent = cmp.Or(b.Percent, percent)
		floor = cmp.Or(b.MinPerSecond, floor)
	}
	out := make([]*retry.Budget, n)
	for i := range out {
		out[i] = retry.NewBudget(percent, floor)
	}
	return out
}
