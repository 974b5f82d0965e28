package routing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/internal/overrides"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// run is one routed call's state: the resolved virtual model, its plan
// through the targets and the failures so far. A unary call keeps it on the
// stack; a stream keeps it for its whole life, so an opt-in restart can
// continue the same plan.
type run struct {
	c         *Client
	ctx       context.Context // the call's context, with the Tracer's values
	name      string
	m         *model
	plan      strategy.Plan
	tr        *Trace
	reqHeader http.Header
	failed    []*target.Error
	fallback  bool // the next first try on a target is a fallback
	sticky    stickyState

	// Counts for the call's end; invalid counts the targets that refused
	// the request before sending it.
	made, retries, fallbacks, restarts, invalid int
	stickyHit                                   bool

	// Targets skipped at their rate limits, and those the shared health
	// had down when the call began.
	skipped    []Skip
	sharedDown strategy.Set

	// resolved is the target that served, "account/model".
	resolved string
	// answer is what the serving attempt answered, for a Tracer.
	answer *Response

	// start is when the call began, on the Client's clock.
	start time.Time
	// With a Tracer only.
	call *CallInfo
}

// start resolves the model a call names, checks access and operation, and
// plans the call over the eligible targets. A Tracer's call starts here
// and must be ended with r.end, whatever start returns, once ctx is not
// nil.
func (c *Client) start(ctx context.Context, r *run, name string, op providers.Operation, stream bool) error {
	if ctx == nil {
		return errNilContext
	}
	if c == nil || c.snap.Load() == nil {
		return ErrNotCreated
	}
	r.c, r.ctx, r.name = c, ctx, name
	// One clock read serves the call's start, its plan and its first
	// attempt's start: the clock is read once per try, plus once at the
	// end.
	r.start = c.now()
	if c.tracer != nil {
		r.call = &CallInfo{Operation: op, Stream: stream, Model: name, Start: r.start}
		r.ctx = c.tracer.StartCall(ctx, r.call)
	}
	// One walk up ctx finds the trace and the headers.
	vals := valuesFrom(ctx)
	if vals != nil {
		r.tr = vals.trace
	}
	if r.tr != nil {
		r.tr.reset(name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if vals != nil {
		r.reqHeader = vals.headers
	}
	if len(r.reqHeader) > 0 {
		if err := checkHeaders(r.reqHeader); err != nil {
			return err
		}
	}
	m, err := c.resolve(ctx, c.snap.Load(), name, op)
	if err != nil {
		return err
	}
	if r.tr != nil {
		r.tr.VirtualModel = m.name
	}
	md, _ := metadata.FromContext(ctx)
	md = metadata.Merge(c.defaultMD, md)
	elig, err := m.eligible(md)
	if err != nil {
		return err
	}
	if r.tr != nil && elig != strategy.All(len(m.targets)) {
		for i := range len(m.targets) {
			if !elig.Has(i) {
				r.tr.Skipped = append(r.tr.Skipped, Skip{Target: m.targets[i].ref, Reason: SkipIneligible, At: r.start})
			}
		}
	}
	r.m = m
	pin := c.pin(ctx, r, md)
	c.syncHealth(ctx, r, r.start)
	r.plan = strategy.NewPlan(strategy.PlanInfo{
		Strategy:   m.strategy,
		Eligible:   elig,
		NoFallback: m.noFallback,
		Pin:        pin,
		Health:     m.health,
		Now:        r.start,
		Rand:       c.rand,
	})
	return nil
}

// checkHeaders refuses caller headers that cannot be sent as written: the
// caller's mistake, never a provider's failure.
func checkHeaders(h http.Header) error {
	for k, vs := range h {
		if !httpheader.ValidName(k) {
			return fmt.Errorf("%w: header name %q is not a valid HTTP header name", ErrInvalidRequest, k)
		}
		for _, v := range vs {
			if !httpheader.ValidValue(v) {
				return fmt.Errorf("%w: header %q has a value with a control character (CR, LF or NUL)", ErrInvalidRequest, k)
			}
		}
	}
	return nil
}

// end reports the call's end to the Tracer, if there is one.
func (r *run) end(err error, resp *Response) {
	if r.call == nil {
		return
	}
	e := CallEnd{
		Attempts: r.made, Retries: r.retries, Fallbacks: r.fallbacks, Restarts: r.restarts,
		Sticky: r.stickyHit, Response: resp, Err: err, Duration: r.c.since(r.start),
		Skipped: len(r.skipped),
	}
	if r.m != nil {
		e.VirtualModel = r.m.name
	}
	if err == nil {
		e.Resolved = r.resolved
	}
	r.c.tracer.EndCall(r.ctx, r.call, &e)
}

// attempt is one try on one target, from its start to its finish. Its
// finish runs exactly once and feeds everything that learns from an
// attempt, together: the Trace, the observers and Tracer, and the
// strategy and health (through the plan).
//
// It holds no pointer to its run: a store through a pointer would move a
// unary call's run to the heap, so the run is passed to each method.
type attempt struct {
	t     *tgt
	index int
	// ctx is the context handed to the provider: the call's, with the
	// Tracer's values for this attempt.
	ctx  context.Context
	rec  Attempt
	info *AttemptInfo // with a Tracer only
	done bool

	// For the limits: what the try was charged, the tokens its answer
	// used (0: not reported) and its response's headers, which report
	// the provider's rate limits.
	charge charge
	used   int
	header http.Header
	// unmeasured: a success whose length was left zero (see timed).
	unmeasured bool
}

// begin starts an attempt on t; the request is built next, then started.
func (r *run) begin(a *attempt, t *tgt, step strategy.Step, try int, wait time.Duration) {
	// Field by field into the zeroed attempt: a composite literal
	// would be built aside and copied.
	*a = attempt{}
	a.t, a.index, a.ctx = t, step.Index, r.ctx
	a.rec.Target, a.rec.Try, a.rec.Reason, a.rec.Cause = t.ref, try, step.Reason, step.Cause
	a.rec.Retry, a.rec.Fallback, a.rec.Wait = try > 1, r.fallback && try == 1, wait
	if r.made == 0 {
		a.rec.Start = r.start
	} else {
		a.rec.Start = r.c.now()
	}
	r.made++
	if a.rec.Retry {
		r.retries++
	}
	if a.rec.Fallback {
		r.fallbacks++
	}
	if try == 1 {
		if b := r.m.budget(step.Index); b != nil {
			b.Call(a.rec.Start)
		}
	}
	if r.made == 1 && step.Reason == strategy.ReasonSticky {
		r.stickyHit = true
	}
	if try == 1 && step.Reason == strategy.ReasonProbe {
		r.healthEvent(t, HealthProbed)
	}
}

// healthEvent tells observers a target's health changed.
func (r *run) healthEvent(t *tgt, h HealthChange) {
	if len(r.c.observers) > 0 {
		r.c.observe(r.ctx, Event{Kind: EventHealth, Model: r.m.name, Target: t.ref, Health: h})
	}
}

// started tells the Tracer, if there is one, that the attempt is about to
// send req (a pointer to a copy of the providers request), and takes the
// context it returns.
func (a *attempt) started(r *run, stream bool, req any) {
	tc := r.c.tracer
	info := &AttemptInfo{
		Operation: r.call.Operation, Stream: stream, VirtualModel: r.m.name,
		Target: a.t.ref, Model: a.t.model, Provider: a.t.info,
		Try: a.rec.Try, Reason: a.rec.Reason, Cause: a.rec.Cause,
		Retry: a.rec.Retry, Fallback: a.rec.Fallback, Wait: a.rec.Wait,
	}
	switch q := req.(type) {
	case *providers.ChatRequest:
		info.Chat = q
	case *providers.CompletionRequest:
		info.Completion = q
	case *providers.EmbeddingRequest:
		info.Embedding = q
	}
	a.info = info
	a.ctx = tc.StartAttempt(r.ctx, info)
}

// finish ends the attempt: class and err are its outcome, dur its length,
// o (when not nil) what the strategy and health learn from it, and resp
// what the provider answered. It runs once; later calls do nothing.
func (a *attempt) finish(r *run, class string, err error, dur time.Duration, o *strategy.Outcome, resp *Response) {
	if a.done {
		return
	}
	a.done = true
	rec := &a.rec
	rec.Class, rec.Err, rec.Duration = class, err, dur
	if o != nil {
		o.Index, o.Start, o.Latency = a.index, rec.Start, dur
		rec.Status = o.Status
		if o.Err == nil && o.OutputTokens > 0 {
			rec.TPOT = strategy.TPOT(*o)
		}
		switch r.shareHealth(a, o, r.plan.Done(*o)) {
		case strategy.Demoted:
			r.healthEvent(a.t, HealthDemoted)
		case strategy.Recovered:
			r.healthEvent(a.t, HealthRecovered)
		}
	}
	r.settle(a, err, dur)
	if tr := r.tr; tr != nil {
		tr.Attempts = append(tr.Attempts, *rec)
		if err == nil {
			tr.Resolved = a.t.ref
		}
	}
	if len(r.c.observers) > 0 {
		r.c.observe(r.ctx, Event{Kind: EventAttempt, Model: r.m.name, Attempt: *rec})
	}
	if a.info != nil {
		// A copy, declared here so that only a traced call pays for
		// the record escaping to the Tracer.
		sent := *rec
		r.c.tracer.EndAttempt(a.ctx, a.info, &sent, resp)
	}
}

// verdict is what one failed try means for the call: try the same target
// again after wait, fall back to the next target, or stop with err.
type verdict struct {
	next retry.Decision
	wait time.Duration
	err  error
}

// fail finishes a failed try and decides what follows, the one place
// where a failure is classified: by behaviour, wherever its status,
// Retry-After and code sit in err's chain (providers.FromError), so a
// user's own provider is judged like the adapters. timedOut says the try
// ran out of its own time budget.
func (a *attempt) fail(r *run, err error, timedOut bool, bo *backoff) verdict {
	t := a.t
	dur := r.c.since(a.rec.Start)
	if cerr := r.ctx.Err(); cerr != nil {
		// The caller gave up (or closed the stream): not the
		// target's fault, so nothing is recorded against it.
		a.finish(r, "canceled", cerr, dur, nil, nil)
		return verdict{next: retry.Stop, err: r.stopped(cerr)}
	}
	if errors.Is(err, providers.ErrInvalidRequest) {
		// The adapter refused to send the request as the caller wrote
		// it: nothing was sent, so nothing counts against the target,
		// and asking it again cannot help. Another target's adapter
		// may take it (one that accepts an image URL, say); when none
		// does, the call fails with ErrInvalidRequest.
		r.failed = append(r.failed, &target.Error{Target: t.ref, Try: a.rec.Try, Status: http.StatusBadRequest, Err: err})
		r.invalid++
		a.finish(r, "invalid", err, dur, nil, nil)
		return verdict{next: retry.Fallback}
	}
	status, retryAfter, code := providers.StatusTransport, time.Duration(0), ""
	if pe, ok := providers.FromError(err); ok && pe.Status > 0 {
		status, retryAfter, code = pe.Status, pe.RetryAfter, pe.Code
	}
	if timedOut {
		status = providers.StatusTimeout
	}
	r.failed = append(r.failed, &target.Error{Target: t.ref, Try: a.rec.Try, Status: status, Err: err})
	tries := a.rec.Try
	if a.rec.Hedge || a.rec.Reason == strategy.ReasonProbe || a.rec.Reason == strategy.ReasonDemoted {
		// A hedge, or a target already known to be failing, gets one
		// try: retrying it would only spend the caller's time.
		tries = t.policy.Tries()
	}
	v := verdict{next: t.policy.ClassifyError(status, code, tries)}
	if v.next == retry.Again {
		if b := r.m.budget(a.index); b != nil && !b.Retry(a.rec.Start.Add(dur)) {
			// The target's retries already add their share of its
			// calls: decide as if this were the last try.
			a.rec.BudgetExhausted = true
			v.next = t.policy.ClassifyError(status, code, t.policy.Tries())
		}
	}
	if v.next == retry.Again {
		d, ok := bo.next(&t.policy, retryAfter, r.c.rand())
		dl, hasDL := r.ctx.Deadline()
		// A context deadline is on the runtime's clock, whatever
		// clock the Client reads.
		if ok && retry.Fits(time.Now(), d, dl, hasDL) {
			v.wait = d
		} else {
			// Waiting cannot help this call: decide as if this
			// were the last try.
			v.next = t.policy.ClassifyError(status, code, t.policy.Tries())
		}
	}
	if v.next == retry.Stop {
		v.err = r.exhausted()
	}
	a.finish(r, v.next.String(), err, dur, &strategy.Outcome{Status: status, Err: err}, nil)
	return v
}

// backoff is one target's retry waits, built on its first retry only.
type backoff struct {
	b     retry.Backoff
	ready bool
}

func (b *backoff) next(p *retry.Policy, retryAfter time.Duration, r float64) (time.Duration, bool) {
	if !b.ready {
		b.b, b.ready = p.Backoff(), true
	}
	return b.b.Next(retryAfter, r)
}

// stopped is the call's error when cause (the context's error) ended it.
func (r *run) stopped(cause error) error {
	return &Error{Model: r.name, Attempts: r.failed, Cause: cause, made: r.made}
}

// exhausted is the call's error when its targets are used up. When every
// target refused the request before sending it, it matches
// ErrInvalidRequest.
func (r *run) exhausted() error {
	if r.made == 0 && len(r.skipped) > 0 {
		return r.rateLimited()
	}
	return &Error{Model: r.name, Attempts: r.failed, made: r.made, invalid: r.invalid > 0 && r.invalid == len(r.failed)}
}

// op is one kind of call: how to build a target's request, send it, and
// read what its answer says. Values pass to these function values by
// value on purpose: a pointer given to a function value escapes, and the
// loop must not allocate. Within the loop, requests and answers pass by
// pointer to functions it calls directly, so that each is copied no more
// than a function value or the Provider's method needs.
type op[Req, Resp any] struct {
	build func(t *tgt, header http.Header, tr *Trace) Req
	facts func(Resp) *Response // for a Tracer
	// estimate is a request's tokens before it is sent. (What a unary
	// answer used is read by usage, called directly.)
	estimate func(Req) (prompt, output int)
	// discard releases an answer no one will read: a stream a losing
	// hedge had opened.
	discard func(Resp)
	// stream: a success commits the stream and leaves its attempt open
	// until the stream ends; otherwise each try gets the target's
	// request timeout and a success finishes the attempt at once.
	stream bool
}

// sender sends one try's request to its target. It is kept out of op: a
// hedged try's goroutine holds the sender, and a function value read
// through the op would take the op's other closures (and the caller's
// request they capture) to the heap with it. A nil sender is the unary
// call of the request's kind to the target's Provider (provide).
type sender[Req, Resp any] func(ctx context.Context, t *tgt, req Req) (Resp, error)

// provide sends a unary request to t's Provider, and puts its answer in
// resp. It is called directly, not through a function value, so the
// request and the answer pass by pointer down to the Provider's method,
// and the request is copied only into that method's argument.
func provide[Req, Resp any](ctx context.Context, t *tgt, req *Req, resp *Resp) (err error) {
	switch q := any(req).(type) {
	case *providers.ChatRequest:
		*any(resp).(*openai.ChatCompletionResponse), err = t.prov.Chat(ctx, *q)
	case *providers.CompletionRequest:
		*any(resp).(*openai.CompletionResponse), err = t.prov.(providers.Completer).Completion(ctx, *q)
	case *providers.EmbeddingRequest:
		*any(resp).(*openai.EmbeddingResponse), err = t.prov.(providers.Embedder).Embed(ctx, *q)
	default:
		// Only the three kinds above are unary calls; a new one
		// needs its case here.
		panic("routing: provide: not a unary request")
	}
	return err
}

// attempts is the loop over the order the run's plan gives: tries on a
// target while its retry rules allow, then the next target while its
// fallback rules allow. It only sequences; each try's outcome is decided
// and recorded by the attempt itself. a holds the try that served, and
// resp its answer.
//
// chat, when not nil, is the caller's request of a unary chat call, from
// which each try's request is built in place (buildChat) rather than
// through o.build, sparing the call and the copy of its result. It is a
// parameter of its own, not a field of the op: escape analysis does not
// tell an op's fields apart, and the request's contents, which go on to
// the Provider, would take the op's closures (and the caller's request
// they capture) to the heap with them.
func attempts[Req, Resp any](r *run, o *op[Req, Resp], snd sender[Req, Resp], a *attempt, resp *Resp, chat *openai.ChatCompletionRequest) error {
	for {
		step, ok := r.plan.Next()
		if !ok {
			return r.exhausted()
		}
		t := &r.m.targets[step.Index]
		header := mergeHeaders(r.reqHeader, t.setHeader)
		var bo backoff
		var wait time.Duration
		for try := 1; ; try++ {
			var req Req
			if q, ok := any(&req).(*providers.ChatRequest); ok && chat != nil {
				t.buildChat(q, chat, header, r.tr)
			} else {
				req = o.build(t, header, r.tr)
			}
			ch, ok := admit(r, o, t, step, try, &req)
			if !ok {
				// Skipped at its limit: on to the next target, which
				// is a fallback when this one had already failed.
				r.fallback = r.fallback || try > 1
				break
			}
			r.begin(a, t, step, try, wait)
			a.charge = ch
			if r.c.tracer != nil {
				sent := new(Req)
				*sent = req
				a.started(r, o.stream, sent)
			}
			err, timedOut := send(r, o, snd, a, &req, resp)
			if err == nil {
				succeeded(r, o, a, resp, -1)
				return nil
			}
			v := a.fail(r, err, timedOut, &bo)
			switch v.next {
			case retry.Again:
				if err := r.c.clock.Sleep(r.ctx, v.wait); err != nil {
					return r.stopped(err)
				}
				wait = v.wait
				continue
			case retry.Fallback:
				r.fallback = true
			default:
				return v.err
			}
			break
		}
	}
}

// succeeded records the try a that served the call, which took dur; a
// negative dur means not measured yet. A unary attempt is finished here;
// a stream's stays open until the stream ends.
func succeeded[Req, Resp any](r *run, o *op[Req, Resp], a *attempt, resp *Resp, dur time.Duration) {
	r.resolved = a.t.ref
	if !o.stream {
		var f *Response
		if a.info != nil {
			f = o.facts(*resp)
			r.answer = f
		}
		var output int
		output, a.used, a.header = usage(resp)
		if dur < 0 {
			dur = 0
			if r.timed(a) {
				dur = r.c.since(a.rec.Start)
			} else {
				a.unmeasured = true
			}
		}
		a.finish(r, "ok", nil, dur, &strategy.Outcome{Status: http.StatusOK, OutputTokens: output}, f)
	}
	r.c.repin(r, a.index)
}

// timed reports whether anything reads the length of the successful
// unary try a: a Trace, observers (a Tracer among them), the model's
// latency statistics, the shared health, or the token budget corrected
// from its answer. When nothing does, the clock is not read for it and
// its length is left zero; should its response report a spent rate
// limit, learn reads the clock then (unmeasured).
func (r *run) timed(a *attempt) bool {
	return r.m.timed || r.tr != nil || len(r.c.observers) > 0 || r.c.shared != nil ||
		a.charge.tokens
}

// send makes one try of req; its answer goes to resp. A panic in the
// provider is not the Client's to swallow: the try is recorded as a
// "panic" attempt, and the panic goes on up to the caller.
func send[Req, Resp any](r *run, o *op[Req, Resp], snd sender[Req, Resp], a *attempt, req *Req, resp *Resp) (err error, timedOut bool) {
	defer func() {
		if p := recover(); p != nil {
			a.finish(r, "panic", fmt.Errorf("routing: provider panicked: %v", p), r.c.since(a.rec.Start), nil, nil)
			panic(p)
		}
	}()
	return call(r, snd, o.stream, a, req, resp)
}

// call makes one try of req with send, within the target's request
// timeout for a unary call, and puts its answer in resp; timedOut reports
// that the timeout, not the caller, ended it. It takes send rather than
// the op so that a hedged try's goroutine holds no closure that captured
// the caller's request.
func call[Req, Resp any](r *run, send sender[Req, Resp], stream bool, a *attempt, req *Req, resp *Resp) (err error, timedOut bool) {
	ctx, cancel := a.ctx, context.CancelFunc(nil)
	if !stream && a.t.requestTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, a.t.requestTimeout)
		defer cancel()
	}
	if send != nil {
		*resp, err = send(ctx, a.t, *req)
	} else {
		err = provide(ctx, a.t, req, resp)
	}
	if cancel != nil {
		timedOut = err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.ctx.Err() == nil
	}
	return err, timedOut
}

// errNilContext is returned for a call made with a nil context, rather than
// a panic deep inside the attempt loop.
var errNilContext = errors.New("routing: nil context")

// unary runs a non-streaming call, whose answer goes to resp: the
// caller's result, so that the answer is not copied on its way out. chat
// is the caller's request of a chat call, nil otherwise (see attempts).
func unary[Req, Resp any](c *Client, ctx context.Context, name string, kind providers.Operation, o *op[Req, Resp], snd sender[Req, Resp], resp *Resp, chat *openai.ChatCompletionRequest) error {
	var r run
	var a attempt
	err := c.start(ctx, &r, name, kind, false)
	if err == errNilContext {
		return err
	}
	if err == nil {
		if r.m.hedge != nil {
			// The hedged loop shares the run with goroutines: give it
			// a copy on the heap, so the plain loop's stays put.
			hr := new(run)
			*hr = r
			err = hedged(hr, o, snd, &a, resp)
			r = *hr
		} else {
			err = attempts(&r, o, snd, &a, resp, chat)
		}
	}
	if r.call != nil {
		r.end(err, r.answer)
	}
	return err
}

// Chat sends a chat completion through the virtual model req.Model names
// (as "group/model" or a slug). The response is the serving provider's
// own, with its model name and usage. On failure the error is a sentinel
// (ErrUnknownModel, ErrForbidden, ErrUnsupportedOperation,
// ErrNoEligibleTarget, ErrInvalidRequest), the context's error, or an
// *Error carrying every attempt.
func (c *Client) Chat(ctx context.Context, req openai.ChatCompletionRequest) (resp openai.ChatCompletionResponse, err error) {
	err = unary(c, ctx, req.Model, providers.OpChat, &op[providers.ChatRequest, openai.ChatCompletionResponse]{
		// Built into the closure's own result: a helper returning the
		// request would be copied once more on its way out.
		build: func(t *tgt, h http.Header, tr *Trace) (out providers.ChatRequest) {
			t.buildChat(&out, &req, h, tr)
			return out
		},
		facts:    chatFacts,
		estimate: chatEstimate,
	}, nil, &resp, &req)
	return resp, err
}

// buildChat writes into out req as target t should see it on one
// attempt: its real model, its override_params, and the attempt's headers
// and extra fields. prompt_version_fqn is held back from a request that
// carries tools, and the trace says so. It writes field by field: a
// request is some 440 bytes, and building it in place spares the copies
// a composite literal and its return would make.
func (t *tgt) buildChat(out *providers.ChatRequest, req *openai.ChatCompletionRequest, header http.Header, tr *Trace) {
	withPrompt := !t.hasPrompt || !hasTools(req)
	if !withPrompt && tr != nil {
		tr.Notes = append(tr.Notes, t.ref+": "+overrides.PromptVersion+" not sent: the request carries tools")
	}
	out.Request = *req
	out.Request.Model = t.model
	out.Call.Header = header
	out.Call.RemoveHeader = t.removeHeader
	out.Call.Extra = t.params.ChatExtra(withPrompt)
	t.params.Chat(&out.Request)
}

// Completion sends a legacy text completion through the virtual model
// req.Model names. Errors are as for Chat.
func (c *Client) Completion(ctx context.Context, req openai.CompletionRequest) (resp openai.CompletionResponse, err error) {
	err = unary(c, ctx, req.Model, providers.OpCompletion, &op[providers.CompletionRequest, openai.CompletionResponse]{
		build: func(t *tgt, h http.Header, _ *Trace) providers.CompletionRequest {
			out := providers.CompletionRequest{Request: req, Call: providers.Call{
				Header: h, RemoveHeader: t.removeHeader, Extra: t.params.CompletionExtra(),
			}}
			out.Request.Model = t.model
			t.params.Completion(&out.Request)
			return out
		},
		facts:    completionFacts,
		estimate: completionEstimate,
	}, nil, &resp, nil)
	return resp, err
}

// Embed creates embeddings through the virtual model req.Model names.
// Errors are as for Chat.
func (c *Client) Embed(ctx context.Context, req openai.EmbeddingRequest) (resp openai.EmbeddingResponse, err error) {
	err = unary(c, ctx, string(req.Model), providers.OpEmbedding, &op[providers.EmbeddingRequest, openai.EmbeddingResponse]{
		build: func(t *tgt, h http.Header, _ *Trace) providers.EmbeddingRequest {
			out := providers.EmbeddingRequest{Request: req, Call: providers.Call{
				Header: h, RemoveHeader: t.removeHeader, Extra: t.params.EmbeddingExtra(),
			}}
			out.Request.Model = openai.EmbeddingModel(t.model)
			t.params.Embedding(&out.Request)
			return out
		},
		facts:    embeddingFacts,
		estimate: embeddingEstimate,
	}, nil, &resp, nil)
	return resp, err
}
