package soak_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/strategy"
)

// Judging the calls: what every call must satisfy, the Tracer and
// observer hooks, and the violations reported.

// hooks is the soak's Observer and Tracer: it counts events, and counts
// each call's Tracer hooks on the call, so that every call can be checked
// for one StartCall matched by one EndCall, attempts started as often as
// ended, and a StreamChunk for every chunk delivered.
type hooks struct{ s *soak }

// callKey carries the soak's *call in the call's ctx, for the hooks.
type callKey struct{}

func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

func (h hooks) Observe(ctx context.Context, e routing.Event) { h.s.observe(ctx, e) }

func (hooks) StartCall(ctx context.Context, _ *routing.CallInfo) context.Context {
	if c := callOf(ctx); c != nil {
		c.hookCalls.Add(1)
	}
	return ctx
}

func (hooks) EndCall(ctx context.Context, _ *routing.CallInfo, end *routing.CallEnd) {
	if c := callOf(ctx); c != nil {
		c.hookEnds.Add(1)
		if end.Err == nil {
			c.hookOK.Store(true)
		}
	}
}

func (hooks) StartAttempt(ctx context.Context, _ *routing.AttemptInfo) context.Context {
	if c := callOf(ctx); c != nil {
		c.hookAttempts.Add(1)
	}
	return ctx
}

func (hooks) EndAttempt(ctx context.Context, _ *routing.AttemptInfo, _ *routing.Attempt, _ *routing.Response) {
	if c := callOf(ctx); c != nil {
		c.hookAttemptEnds.Add(1)
	}
}

func (hooks) StreamChunk(ctx context.Context, _ *routing.AttemptInfo) {
	if c := callOf(ctx); c != nil {
		c.hookChunks.Add(1)
	}
}

func (s *soak) observe(_ context.Context, e routing.Event) {
	if int(e.Kind) < len(s.events) {
		s.events[e.Kind].Add(1)
	}
	if e.Kind == routing.EventHealth {
		if int(e.Health) < len(s.health) {
			s.health[e.Health].Add(1)
		}
		if e.Target == "" || e.Model == "" || e.Health.String() == "unknown" {
			s.v.add(vHealth, func() string { return fmt.Sprintf("health event %+v names no target, model or change", e) })
		}
	}
}

// judge checks what every call must satisfy, whatever its kind: one
// outcome, a typed error, no hang.
func (s *soak) judge(c *call) {
	s.recorded.Add(1)
	for _, a := range c.tr.Attempts {
		switch a.Reason {
		case strategy.ReasonDemoted:
			s.tracedDemoted.Add(1)
		case strategy.ReasonProbe:
			s.tracedProbes.Add(1)
		}
		if a.Hedge {
			s.hedges.Add(1)
		}
		if a.BudgetExhausted {
			s.budgetSpent.Add(1)
		}
		if a.Reason == strategy.ReasonSticky {
			s.pinned.Add(1)
		}
	}
	// The bounds allow for the time the whole process stood still.
	elapsed := c.end.Sub(c.start)
	if stalled := s.stalls.during(c.start, c.end); elapsed > c.deadline+hangSlack+stalled {
		s.violation(vHung, c, "returned %v after its start, past its deadline %v plus %v (and %v the process stood still)",
			elapsed.Round(time.Millisecond), c.deadline.Round(time.Millisecond), hangSlack, stalled.Round(time.Millisecond))
	}
	if at, ok := c.actedAt(); ok && c.plan != planPreCancelled {
		if stalled := s.stalls.during(c.start.Add(at), c.end); elapsed-at > closeBound+stalled {
			kind := vSlowCancel
			if c.closed() {
				kind = vSlowClose
			}
			s.violation(kind, c, "returned %v after the caller's %s at %v (the process stood still %v of that)",
				(elapsed - at).Round(time.Millisecond), planNames[c.plan], at.Round(time.Millisecond), stalled.Round(time.Millisecond))
		}
	}

	// Once Close or cancel has returned, an attempt may still begin (the
	// call may be between two), but it must end at once as cancelled:
	// one that went on to its own end did work upstream nobody wanted.
	// Only the order of events counts here, not their speed.
	if done := c.actDone.Load(); done != 0 && c.plan != planPreCancelled {
		at := c.start.Add(time.Duration(done - 1))
		var late []string
		for _, a := range c.tr.Attempts {
			if a.Start.After(at) && a.Class != "canceled" {
				late = append(late, fmt.Sprintf("%s at +%v (%s)", a.Target, a.Start.Sub(c.start).Round(time.Millisecond), a.Class))
			}
		}
		if len(late) > 0 {
			s.violation(vWorkAfter, c, "attempts began after the caller's %s returned at +%v and ran to their end: %s",
				planNames[c.plan], time.Duration(done-1).Round(time.Millisecond), strings.Join(late, ", "))
		}
	}

	// One answer per call: of tries run side by side (hedges), one wins;
	// a stream commits once, and once more for each restart.
	oks := 0
	for _, a := range c.tr.Attempts {
		if a.Class == "ok" {
			oks++
		}
	}
	if oks > 1+c.restarts {
		s.violation(vTwoAnswers, c, "%d attempts answered for %d restarts", oks, c.restarts)
	}

	err := c.err
	if err == io.EOF {
		err = nil
	}
	s.checkHooks(c, err == nil)
	switch c.plan {
	case planBadHeader:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, routing.ErrInvalidRequest) {
			s.violation(vInvalid, c, "a request header net/http cannot send made %d upstream attempts and ended with %v; want ErrInvalidRequest and no attempt", n, err)
		}
	case planForbidden:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, routing.ErrForbidden) {
			s.violation(vForbidden, c, "a subject outside the group made %d attempts and got %v; want ErrForbidden", n, err)
		}
	case planPreCancelled:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, context.Canceled) {
			s.violation(vPreCancelled, c, "a call with a cancelled ctx made %d attempts and got %v; want context.Canceled", n, err)
		}
	case planRestartExhausted:
		// Every target answers and is then cut, so the stream ends
		// when none is left, with the status of the last cut.
		var se *routing.StreamError
		if err == nil || (!errors.As(err, &se) && !errors.Is(err, context.DeadlineExceeded)) {
			s.violation(vExhausted, c, "a stream cut on every target ended with %v; want a *routing.StreamError", err)
		}
	case planCloseEarly:
		if c.closed() && !errors.Is(err, routing.ErrStreamClosed) {
			s.violation(vNotClosed, c, "Recv after Close returned %q (%T), which does not match ErrStreamClosed", errText(err), err)
		}
	}
	if err != nil {
		s.checkError(c, err)
	}
	s.mu.Lock()
	s.outcomes[opNames[c.op]+": "+outcome(c)]++
	s.mu.Unlock()
}

// checkHooks checks what the Tracer saw of a call that is over: one call
// started and ended, with the caller's outcome; every attempt started
// ended, one per attempt in the trace; one StreamChunk per chunk.
func (s *soak) checkHooks(c *call, ok bool) {
	calls, ends := c.hookCalls.Load(), c.hookEnds.Load()
	attempts, attemptEnds := c.hookAttempts.Load(), c.hookAttemptEnds.Load()
	switch {
	case calls != 1 || ends != 1:
		s.violation(vHooks, c, "StartCall %d times, EndCall %d times; want once each", calls, ends)
	case c.hookOK.Load() != ok:
		s.violation(vHooks, c, "EndCall says success %v, the caller's outcome was %v", c.hookOK.Load(), c.err)
	}
	if attempts != attemptEnds || attemptEnds != int64(len(c.tr.Attempts)) {
		s.violation(vHooks, c, "StartAttempt %d times, EndAttempt %d times, %d attempts in the trace", attempts, attemptEnds, len(c.tr.Attempts))
	}
	if n := c.hookChunks.Load(); n != int64(c.chunks) {
		s.violation(vHooks, c, "StreamChunk %d times for %d chunks delivered", n, c.chunks)
	}
}

// checkError checks a failure: typed, carrying its status, caused by the
// caller only when the caller did it, and free of the API key.
func (s *soak) checkError(c *call, err error) {
	var re *routing.Error
	var se *routing.StreamError
	isCtx := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	typed := errors.As(err, &re) || errors.As(err, &se) || isCtx ||
		errors.Is(err, routing.ErrStreamClosed) || errors.Is(err, routing.ErrForbidden) || errors.Is(err, routing.ErrInvalidRequest)
	switch {
	case !typed && c.closed():
		s.violation(vNotClosed, c, "Recv after Close returned %q (%T), which does not match ErrStreamClosed", errText(err), err)
	case !typed:
		s.violation(vUntyped, c, "untyped error %q (%T)", errText(err), err)
	}
	if errors.Is(err, context.Canceled) && !c.cancelled() {
		s.violation(vPhantomCancel, c, "the error matches context.Canceled, yet the caller cancelled nothing: %v", err)
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) && sc.StatusCode() == 0 && !isCtx {
		s.violation(vStatus0, c, "%T with StatusCode 0: %v", sc, err)
	}
	for _, text := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, sentinelKey) {
			s.violation(vKeyLeak, c, "the API key is in the error: %s", text)
		}
	}
	for _, a := range c.tr.Attempts {
		if a.Err != nil && strings.Contains(fmt.Sprintf("%v %+v", a.Err, a.Err), sentinelKey) {
			s.violation(vKeyLeak, c, "the API key is in the trace's attempt error: %v", a.Err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// outcome names how a call ended, for the statistics.
func outcome(c *call) string {
	err := c.err
	var se *routing.StreamError
	var sc interface{ StatusCode() int }
	switch {
	case err == nil || err == io.EOF:
		return "ok"
	case errors.Is(err, routing.ErrStreamClosed):
		return "closed"
	case c.closed() && !errors.As(err, &se):
		return "closed (untyped)"
	case errors.Is(err, routing.ErrForbidden):
		return "forbidden"
	case errors.Is(err, routing.ErrInvalidRequest):
		return "invalid request"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return "interrupted " + strconv.Itoa(se.StatusCode())
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.As(err, &sc):
		return "failed " + strconv.Itoa(sc.StatusCode())
	}
	return "untyped"
}

func (s *soak) describeOutcomes() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.outcomes))
	for k := range s.outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %d", k, s.outcomes[k])
	}
	return b.String()
}

// checkHealth checks that observers heard of the health changes the
// traces show: a target an attempt found demoted or probed was demoted
// first.
func (s *soak) checkHealth() {
	if n := s.tracedDemoted.Load(); n > 0 && s.health[routing.HealthDemoted].Load() == 0 {
		s.v.add(vHealth, func() string {
			return fmt.Sprintf("%d attempts went to demoted targets, yet observers heard of no demotion", n)
		})
	}
	if n := s.tracedProbes.Load(); n > 0 && s.health[routing.HealthProbed].Load() == 0 {
		s.v.add(vHealth, func() string {
			return fmt.Sprintf("%d attempts probed unhealthy targets, yet observers heard of no probe", n)
		})
	}
}

// seenEnough is how often a run must have been expected to meet a fault,
// a plan or an outcome before missing it counts: at 20 the chance of
// missing it by luck is about one in 500 million.
const seenEnough = 20

// checkCoverage makes a run that missed a fault, a plan, a success, a
// restart or a hedge it was all but sure to meet a failure: a soak that
// does not look passes nothing. What a run was expected to meet follows
// from the calls it made, so a short or slowed run asks for less.
func (s *soak) checkCoverage() {
	for o := range numOps {
		var attempts int64
		for _, srv := range s.servers {
			for f := range numFaults {
				attempts += srv.served[o][f].Load()
			}
		}
		for f, n := range share(s.opt.mixes[o][:], attempts) {
			var served int64
			for _, srv := range s.servers {
				served += srv.served[o][f].Load()
			}
			if n >= seenEnough && served == 0 {
				s.v.add(vCoverage, func() string {
					return fmt.Sprintf("no %s attempt met the %s fault in %d attempts", opNames[o], faultNames[f], attempts)
				})
			}
		}
		s.mu.Lock()
		var calls int64
		for _, n := range s.plans[o] {
			calls += int64(n)
		}
		for p, n := range share(planMixes[o][:], calls) {
			if n >= seenEnough && s.plans[o][p] == 0 {
				s.v.add(vCoverage, func() string {
					return fmt.Sprintf("no %s call had the %s plan in %d calls", opNames[o], planNames[p], calls)
				})
			}
		}
		ok := s.outcomes[opNames[o]+": ok"]
		s.mu.Unlock()
		if calls >= 5*seenEnough && ok == 0 {
			s.v.add(vCoverage, func() string { return fmt.Sprintf("none of %d %s calls succeeded", calls, opNames[o]) })
		}
	}
	streams := s.plansOf(opStream)
	if streams >= 10*seenEnough && s.restarts.Load() == 0 {
		s.v.add(vCoverage, func() string { return fmt.Sprintf("none of %d streams restarted", streams) })
	}
	if calls := s.started.Load(); calls >= 10*seenEnough && s.hedges.Load() == 0 {
		s.v.add(vCoverage, func() string { return fmt.Sprintf("none of %d calls was hedged", calls) })
	}
	if calls := s.started.Load(); calls >= 10*seenEnough && s.pinned.Load() == 0 {
		s.v.add(vCoverage, func() string { return fmt.Sprintf("none of %d calls went to a pinned target", calls) })
	}
	if s.started.Load() > 0 && s.events[routing.EventAttempt].Load() == 0 {
		s.v.add(vCoverage, func() string { return "observers saw no attempt" })
	}
	if s.opt.duration >= 3*time.Second && s.applies.Load() == 0 {
		s.v.add(vCoverage, func() string { return "no reconfiguration was applied" })
	}
}

// share splits n in proportion to weights.
func share[W int | int64](weights []W, n int64) []float64 {
	var total float64
	for _, w := range weights {
		total += float64(w)
	}
	out := make([]float64, len(weights))
	if total == 0 {
		return out
	}
	for i, w := range weights {
		out[i] = float64(n) * float64(w) / total
	}
	return out
}

// plansOf returns how many calls of kind o the soak made.
func (s *soak) plansOf(o op) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, c := range s.plans[o] {
		n += int64(c)
	}
	return n
}

// reportStuck reports every call still in flight.
func (s *soak) reportStuck(when string) {
	s.mu.Lock()
	stuck := make([]*call, 0, len(s.inflight))
	for _, c := range s.inflight {
		stuck = append(stuck, c)
	}
	s.mu.Unlock()
	for _, c := range stuck {
		s.v.add(vHung, func() string {
			return fmt.Sprintf("%s: call %d (%s %s, plan %s, restart %v, deadline %v) still running %v after its start; servers: %s",
				when, c.id, opNames[c.op], c.model, planNames[c.plan], c.restart, c.deadline.Round(time.Millisecond),
				time.Since(c.start).Round(time.Millisecond), strings.Join(s.reg.log(c.id), ", "))
		})
	}
	if len(stuck) > 0 {
		s.v.add(vHung, func() string { return "goroutines in routing:\n" + routingStacks() })
	}
}

// violation records a broken promise with what is needed to debug it: the
// call, its plan, what the caller saw, its attempts, and what the servers
// did.
func (s *soak) violation(kind string, c *call, format string, args ...any) {
	s.v.add(vkey(kind, c.op), func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "call %d: %s %s, plan %s", c.id, opNames[c.op], c.model, planNames[c.plan])
		switch c.plan {
		case planCancelAt, planCloseAt:
			fmt.Fprintf(&b, " at %v", c.at.Round(time.Millisecond))
		case planCancelAfter, planCloseAfter:
			fmt.Fprintf(&b, " after %d chunks", c.k)
		}
		if c.restart {
			b.WriteString(", restarts on")
		}
		fmt.Fprintf(&b, ", deadline %v", c.deadline.Round(time.Millisecond))
		if !c.end.IsZero() {
			fmt.Fprintf(&b, ", returned after %v", c.end.Sub(c.start).Round(time.Millisecond))
		}
		if at, ok := c.actedAt(); ok {
			fmt.Fprintf(&b, ", caller acted at %v", at.Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "\n      %s", fmt.Sprintf(format, args...))
		for _, saw := range c.saw {
			fmt.Fprintf(&b, "\n      caller: %s", saw)
		}
		for _, a := range c.tr.Attempts {
			fmt.Fprintf(&b, "\n      attempt: %s try %d (%s) at +%v for %v: %d %s %v", a.Target, a.Try, a.Why(),
				a.Start.Sub(c.start).Round(time.Millisecond), a.Duration.Round(time.Millisecond), a.Status, a.Class, a.Err)
		}
		fmt.Fprintf(&b, "\n      servers: %s", strings.Join(s.reg.log(c.id), ", "))
		return b.String()
	})
}

// Kinds of violation.
const (
	vIncomplete    = "incomplete answer presented as a success"
	vForeign       = "another call's answer presented as a success"
	vUntyped       = "untyped error"
	vStatus0       = "failure with StatusCode 0"
	vPhantomCancel = "context.Canceled the caller never caused"
	vHung          = "call hung past its deadline"
	vSlowClose     = "Recv slow to return after Close"
	vSlowCancel    = "call slow to return after its cancellation"
	vWorkAfter     = "attempts went on after Close or cancel"
	vNotClosed     = "Recv after Close does not match ErrStreamClosed"
	vInvalid       = "invalid request sent upstream"
	vForbidden     = "forbidden call not refused"
	vPreCancelled  = "call with a done ctx not refused"
	vRestart       = "restart signal without opting in"
	vDelivered     = "StreamError's Delivered or Chunks differ from what was delivered"
	vSticky        = "ended stream did not stay ended"
	vClose         = "Close failed"
	vEndless       = "stream never ended"
	vKeyLeak       = "API key in an error"
	vLost          = "calls and outcomes do not match"
	vLeak          = "resources left after the servers closed"
	vHeap          = "heap grew"
	vReconfig      = "reconfiguration misbehaved"
	vWire          = "wrong requests upstream"
	vCoverage      = "soak did not exercise everything"
	vExhausted     = "stream with no target left misreported"
	vHealth        = "health changes not reported"
	vHooks         = "Tracer hooks do not match the call"
	vTwoAnswers    = "more than one attempt answered"
)

func vkey(kind string, o op) string { return kind + " (" + opNames[o] + ")" }

// violations collects broken promises by kind: every one is counted, the
// first few of each kind are kept in full.
type violations struct {
	mu    sync.Mutex
	kinds map[string]*vkind
}

type vkind struct {
	n        int
	examples []string
}

const maxExamples = 3

func (v *violations) add(kind string, detail func() string) {
	v.mu.Lock()
	k := v.kinds[kind]
	if k == nil {
		k = &vkind{}
		v.kinds[kind] = k
	}
	k.n++
	keep := len(k.examples) < maxExamples
	v.mu.Unlock()
	if keep {
		d := detail()
		v.mu.Lock()
		if len(k.examples) < maxExamples {
			k.examples = append(k.examples, d)
		}
		v.mu.Unlock()
	}
}

func (v *violations) count(kind string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := v.kinds[kind]; k != nil {
		return k.n
	}
	return 0
}

// all describes every kind of violation with its examples, sorted.
func (v *violations) all() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.kinds))
	for name, k := range v.kinds {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %d times; first:", name, k.n)
		for _, e := range k.examples {
			b.WriteString("\n    ")
			b.WriteString(e)
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func (s *soak) kinds() []string { return s.v.all() }

// TestCheckCoverage checks that a run is held to meeting what it was all
// but sure to meet, and only that.
func TestCheckCoverage(t *testing.T) {
	tests := []struct {
		name     string
		attempts int64 // chat attempts, spread over the mix but for one fault
		want     []string
	}{
		{"a large run that never met a fault", 10000, []string{"no chat attempt met the reset fault"}},
		{"a small run that never met it", 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &server{}
			s := &soak{opt: soakOptions{mixes: [numOps]mix{opChat: defaultMixes[opChat]}}, servers: []*server{srv}, outcomes: map[string]int{}}
			s.v.kinds = map[string]*vkind{}
			for f, n := range share(defaultMixes[opChat][:], tt.attempts) {
				if fault(f) != faultReset {
					srv.served[opChat][f].Add(int64(n))
				}
			}
			s.checkCoverage()
			var got []string
			for _, k := range s.v.kinds {
				for _, e := range k.examples {
					what, _, _ := strings.Cut(e, " in ")
					got = append(got, what)
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("coverage violations (-got +want):\n%s", diff)
			}
		})
	}
}
