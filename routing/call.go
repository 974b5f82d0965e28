package routing

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

func trailingZeros(s strategy.Set) int { return bits.TrailingZeros64(uint64(s)) }

// attempt is what the loop hands an operation for one try.
type attempt struct {
	header http.Header
	trace  *Trace
}

// note records a decision in the trace, if there is one.
func (a attempt) note(s string) {
	if a.trace != nil {
		a.trace.Notes = append(a.trace.Notes, s)
	}
}

// run is one routed call's state: the resolved virtual model, its plan
// through the targets and the failures so far. A unary call keeps it on the
// stack; a stream keeps it for its whole life, so an opt-in restart can
// continue the same plan.
type run struct {
	c         *Client
	ctx       context.Context
	name      string
	m         *model
	plan      strategy.Plan
	tr        *Trace
	reqHeader http.Header
	failed    []*target.Error
	fallback  bool // the next first try on a target is a fallback
	sticky    stickyState
}

// start resolves the model a call names, checks access and operation, and
// plans the call over the eligible targets.
func (c *Client) start(ctx context.Context, r *run, name string, op providers.Operation) error {
	if ctx == nil {
		return errNilContext
	}
	r.c, r.ctx, r.name = c, ctx, name
	r.tr = traceFrom(ctx)
	if r.tr != nil {
		r.tr.reset(name)
	}
	if err := ctx.Err(); err != nil {
		return err
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
	r.m = m
	r.reqHeader = headersFrom(ctx)
	pin := c.pin(ctx, r, md)
	r.plan = strategy.NewPlan(strategy.PlanInfo{
		Strategy:   m.strategy,
		Eligible:   elig,
		NoFallback: m.noFallback,
		Pin:        pin,
		Health:     m.health,
		Now:        c.now(),
		Rand:       c.rand,
	})
	return nil
}

// served is the target and try that served a call.
type served struct {
	t     *tgt
	index int
	start time.Time
}

// attempts is the loop of SPEC §5 over the order the run's plan gives:
// tries on a target while its retry rules allow, then the next target
// while its fallback rules allow. do performs one try on one target. For a
// unary call (timed true) each try gets the target's request timeout, and
// a success is recorded at once with its output tokens; a stream's tries
// time themselves and report their outcome when the stream ends.
func attempts[Resp any](r *run, timed bool,
	do func(ctx context.Context, t *tgt, a attempt) (Resp, error), tokens func(Resp) int,
) (Resp, served, error) {
	var zero Resp
	c, ctx, tr := r.c, r.ctx, r.tr
	for {
		step, ok := r.plan.Next()
		if !ok {
			break
		}
		t := &r.m.targets[step.Index]
		a := attempt{header: mergeHeaders(r.reqHeader, t.setHeader), trace: tr}
		bo := t.policy.Backoff()
		var wait time.Duration
		for try := 1; ; try++ {
			start := c.now()
			actx, cancel := ctx, context.CancelFunc(nil)
			if timed && t.requestTimeout > 0 {
				actx, cancel = context.WithTimeout(ctx, t.requestTimeout)
			}
			resp, err := guarded(r, do, actx, t, a, step, try, start)
			if cancel != nil {
				cancel()
			}
			end := c.now()
			rec := Attempt{
				Target: t.ref, Try: try, Reason: step.Reason, Cause: step.Cause,
				Retry: try > 1, Fallback: r.fallback && try == 1, Wait: wait,
				Start: start, Duration: end.Sub(start),
			}
			if err == nil {
				rec.Status, rec.Class = http.StatusOK, "ok"
				if timed {
					o := strategy.Outcome{Index: step.Index, Start: start, Latency: rec.Duration, OutputTokens: tokens(resp), Status: http.StatusOK}
					if o.OutputTokens > 0 {
						rec.TPOT = strategy.TPOT(o)
					}
					r.plan.Done(o)
				}
				tr.add(rec)
				if tr != nil {
					tr.Resolved = t.ref
				}
				r.observe(rec)
				c.repin(r, step.Index)
				return resp, served{t: t, index: step.Index, start: start}, nil
			}
			if cerr := ctx.Err(); cerr != nil {
				// The caller gave up: not the target's fault, so
				// nothing is recorded against it.
				rec.Class, rec.Err = "canceled", cerr
				tr.add(rec)
				r.observe(rec)
				return zero, served{}, &Error{Model: r.name, Attempts: r.failed, Cause: cerr}
			}
			status := statusOf(err, actx)
			rec.Status, rec.Err = status, err
			r.failed = append(r.failed, &target.Error{Target: t.ref, Try: try, Status: status, Err: err})
			r.plan.Done(strategy.Outcome{Index: step.Index, Start: start, Latency: rec.Duration, Status: status, Err: err})
			classifyTry := try
			if step.Reason == strategy.ReasonProbe || step.Reason == strategy.ReasonDemoted {
				// A target already known to be failing gets one
				// try: retrying it would only spend the caller's
				// time.
				classifyTry = t.policy.Tries()
			}
			decision := t.policy.ClassifyError(status, errorCodeOf(err), classifyTry)
			if decision == retry.Again {
				d, ok := bo.Next(retryAfterOf(err), c.rand())
				dl, hasDL := ctx.Deadline()
				// A context deadline is on the runtime's clock,
				// whatever clock the Client reads.
				if !ok || !retry.Fits(time.Now(), d, dl, hasDL) {
					// Waiting cannot help this call: decide as if
					// this were the last try.
					decision = t.policy.ClassifyError(status, errorCodeOf(err), t.policy.Tries())
				} else {
					wait = d
				}
			}
			rec.Class = decision.String()
			tr.add(rec)
			r.observe(rec)
			switch decision {
			case retry.Again:
				if err := c.clock.Sleep(ctx, wait); err != nil {
					return zero, served{}, &Error{Model: r.name, Attempts: r.failed, Cause: err}
				}
				continue
			case retry.Fallback:
				r.fallback = true
			default:
				return zero, served{}, &Error{Model: r.name, Attempts: r.failed}
			}
			break
		}
	}
	return zero, served{}, &Error{Model: r.name, Attempts: r.failed}
}

// errNilContext is returned for a call made with a nil context, rather than
// a panic deep inside the attempt loop.
var errNilContext = errors.New("routing: nil context")

// guarded makes one try. A panic in the provider is not the Client's to
// swallow: the try is recorded in the trace and reported to observers as
// a "panic" attempt, and the panic goes on up to the caller.
func guarded[Resp any](r *run, do func(ctx context.Context, t *tgt, a attempt) (Resp, error),
	ctx context.Context, t *tgt, a attempt, step strategy.Step, try int, start time.Time,
) (Resp, error) {
	defer func() {
		if p := recover(); p != nil {
			rec := Attempt{
				Target: t.ref, Try: try, Reason: step.Reason, Cause: step.Cause,
				Start: start, Duration: r.c.now().Sub(start), Class: "panic",
				Err: fmt.Errorf("routing: provider panicked: %v", p),
			}
			r.tr.add(rec)
			r.observe(rec)
			panic(p)
		}
	}()
	return do(ctx, t, a)
}

// unary runs a non-streaming call.
func unary[Resp any](c *Client, ctx context.Context, name string, op providers.Operation,
	do func(ctx context.Context, t *tgt, a attempt) (Resp, error), tokens func(Resp) int,
) (Resp, error) {
	var r run
	if err := c.start(ctx, &r, name, op); err != nil {
		var zero Resp
		return zero, err
	}
	resp, _, err := attempts(&r, true, do, tokens)
	return resp, err
}

// observe reports an attempt to the Client's observers.
func (r *run) observe(a Attempt) {
	if len(r.c.observers) > 0 {
		r.c.observe(r.ctx, Event{Kind: EventAttempt, Model: r.m.name, Attempt: a})
	}
}

// add appends an attempt to a trace that may be nil.
func (tr *Trace) add(a Attempt) {
	if tr != nil {
		tr.Attempts = append(tr.Attempts, a)
	}
}

// statusOf classifies a failed try by behaviour: a try that ran out of its
// own time is a 408; a provider error carries its status; anything else is
// a transport failure, 502.
func statusOf(err error, actx context.Context) int {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return providers.StatusTimeout
	}
	if pe, ok := providers.AsError(err); ok && pe.Status > 0 {
		return pe.Status
	}
	return providers.StatusTransport
}

// errorCodeOf returns the provider's own error code of a failed try.
func errorCodeOf(err error) string {
	if pe, ok := providers.AsError(err); ok {
		return pe.Code
	}
	return ""
}

func retryAfterOf(err error) time.Duration {
	if pe, ok := providers.AsError(err); ok {
		return pe.RetryAfter
	}
	return 0
}

// Chat sends a chat completion through the virtual model req.Model names
// (as "group/model" or a slug). The response is the serving provider's
// own, with its model name and usage. On failure the error is a sentinel
// (ErrUnknownModel, ErrForbidden, ErrUnsupportedOperation,
// ErrNoEligibleTarget), the context's error, or an *Error carrying every
// attempt.
func (c *Client) Chat(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	return unary(c, ctx, req.Model, providers.OpChat,
		func(ctx context.Context, t *tgt, a attempt) (openai.ChatCompletionResponse, error) {
			return t.prov.Chat(ctx, t.chatRequest(&req, a))
		},
		func(r openai.ChatCompletionResponse) int { return r.Usage.CompletionTokens })
}

// chatRequest is req as target t should see it on one attempt: its real
// model, its override_params, and the attempt's headers and extra fields.
// prompt_version_fqn is held back from a request that carries tools, and
// the trace says so.
func (t *tgt) chatRequest(req *openai.ChatCompletionRequest, a attempt) providers.ChatRequest {
	extra := t.params.chatExtra
	if t.hasPrompt && hasTools(req) {
		extra = t.params.chatExtraNoPrompt
		a.note(t.ref + ": " + promptVersionKey + " not sent: the request carries tools")
	}
	out := providers.ChatRequest{Request: *req, Call: providers.Call{
		Header: a.header, RemoveHeader: t.removeHeader, Extra: extra,
	}}
	out.Request.Model = t.model
	t.params.chat(&out.Request)
	return out
}

// Completion sends a legacy text completion through the virtual model
// req.Model names. Errors are as for Chat.
func (c *Client) Completion(ctx context.Context, req openai.CompletionRequest) (openai.CompletionResponse, error) {
	return unary(c, ctx, req.Model, providers.OpCompletion,
		func(ctx context.Context, t *tgt, a attempt) (openai.CompletionResponse, error) {
			r := req
			r.Model = t.model
			t.params.completion(&r)
			return t.prov.(providers.Completer).Completion(ctx, providers.CompletionRequest{Request: r, Call: providers.Call{
				Header: a.header, RemoveHeader: t.removeHeader, Extra: t.params.completionExtra,
			}})
		},
		func(r openai.CompletionResponse) int {
			if r.Usage == nil {
				return 0
			}
			return r.Usage.CompletionTokens
		})
}

// Embed creates embeddings through the virtual model req.Model names.
// Errors are as for Chat.
func (c *Client) Embed(ctx context.Context, req openai.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	return unary(c, ctx, string(req.Model), providers.OpEmbedding,
		func(ctx context.Context, t *tgt, a attempt) (openai.EmbeddingResponse, error) {
			r := req
			r.Model = openai.EmbeddingModel(t.model)
			t.params.embedding(&r)
			return t.prov.(providers.Embedder).Embed(ctx, providers.EmbeddingRequest{Request: r, Call: providers.Call{
				Header: a.header, RemoveHeader: t.removeHeader, Extra: t.params.embeddingExtra,
			}})
		},
		func(openai.EmbeddingResponse) int { return 0 })
}
