package routing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// StreamOption configures one ChatStream call.
type StreamOption func(*streamSettings)

type streamSettings struct {
	restart bool
}

// RestartOnInterrupt sets, for one stream, whether an interruption after
// the first content chunk restarts the answer on the next target (see
// ErrStreamRestarted) instead of ending the stream with
// ErrStreamInterrupted. It overrides the Client's WithStreamRestart.
func RestartOnInterrupt(on bool) StreamOption {
	return func(s *streamSettings) { s.restart = on }
}

// WithStreamRestart sets the Client's default for RestartOnInterrupt; the
// default is off, so an interrupted stream is reported, never silently
// replaced.
func WithStreamRestart(on bool) Option {
	return func(s *settings) { s.restart = on }
}

// StreamError is a stream that broke after its first content chunk was
// delivered. It matches ErrStreamInterrupted (or, for the opt-in restart
// signal, ErrStreamRestarted) with errors.Is, unwraps to the cause, and
// says what had been delivered.
type StreamError struct {
	// Model is the virtual model as called.
	Model string
	// Target is the target whose stream broke.
	Target string
	// Delivered is the content text delivered before the break.
	Delivered string
	// Chunks is the number of content chunks delivered before the break
	// (chunks that carry only a role or usage are not counted).
	Chunks int
	// Err is the cause: a *providers.Error (a cut stream, a malformed
	// event, an error event, 408 for a stall) or the context's error.
	Err error
	// Attempts are the call's failed attempts, the interrupted one
	// included, when the stream ended for good: every target tried,
	// before the commit point and after it (on restarts).
	Attempts []*target.Error

	restarted bool
}

// Error names the model, the target and the cause.
func (e *StreamError) Error() string {
	what := "interrupted"
	if e.restarted {
		what = "restarted"
	}
	return fmt.Sprintf("routing: stream of %q %s after %d %s from %s: %v", e.Model, what, e.Chunks, plural(e.Chunks, "chunk", "chunks"), e.Target, e.Err)
}

// Is matches ErrStreamRestarted for a restart signal and
// ErrStreamInterrupted otherwise.
func (e *StreamError) Is(target error) bool {
	if e.restarted {
		return target == ErrStreamRestarted
	}
	return target == ErrStreamInterrupted
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// StatusCode returns the cause's status: the upstream's for an error
// event, 408 for a stall, 502 for a cut or malformed stream.
func (e *StreamError) StatusCode() int {
	var sc interface{ StatusCode() int }
	if errors.As(e.Err, &sc) {
		return sc.StatusCode()
	}
	return providers.StatusTransport
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Stream is a routed chat stream. Recv returns chunks until io.EOF after a
// complete answer, or an error; Close releases it. A Stream is used by one
// goroutine at a time; Close may be called from another goroutine to stop
// a Recv in any state, also one reconnecting for a restart. Always Close a
// Stream; it is safe to Close twice and after Recv has failed.
type Stream struct {
	run     run
	req     openai.ChatCompletionRequest
	op      op[providers.ChatRequest, *upstream]
	restart bool
	parent  context.Context    // the caller's context
	cancel  context.CancelFunc // cancels run.ctx: Close stops all the stream does

	// Owned by the goroutine in Recv, or by Close when no Recv runs.
	a     attempt   // the serving attempt, open until the stream ends
	u     *upstream // the serving upstream
	err   error     // terminal: io.EOF or the error Recv returned for good
	ended bool      // the attempt and the call are finished

	state atomic.Uint32 // streamBusy | streamClosed
}

// Stream states, as bits.
const (
	streamBusy   uint32 = 1 << iota // a Recv is running
	streamClosed                    // Close was called
)

// upstream is one committed (or committing) upstream stream and its
// timers.
type upstream struct {
	st        providers.Stream
	cancel    context.CancelFunc
	ttftTimer *time.Timer
	idleTimer *time.Timer
	state     atomic.Uint32
	base      time.Time    // monotonic start of the attempt
	waiting   atomic.Int64 // ns since base when the current upstream read began; -1 between reads
	idle      time.Duration
	pending   []openai.ChatCompletionStreamResponse
	eof       bool // the upstream ended while committing

	ttft      time.Duration
	chunks    int
	content   strings.Builder
	outTokens int
	usage     *openai.Usage // the last usage the upstream reported
	id, model string
	finish    openai.FinishReason
}

// upstream states. The first-token timer and the first content chunk race
// once, from connecting: exactly one of them wins.
const (
	connecting uint32 = iota
	ttftExpired
	running // committed
	idleExpired
	released
)

// ChatStream opens a streaming chat through the virtual model req.Model
// names. Until the first content chunk has been received (the commit
// point), failures are retried and fall back exactly as for Chat, and an
// error event in the stream counts as a failed attempt; ChatStream returns
// once a target has committed. A target that sends no content within its
// ttft_timeout_ms (or request_timeout_ms, whichever is shorter) is a 408
// attempt. A committed stream is never cancelled by that timer.
//
// After the commit point nothing is retried silently: a cut stream, a
// malformed event, an error event or a gap longer than
// stream_idle_timeout_ms makes Recv return a *StreamError matching
// ErrStreamInterrupted — never io.EOF for a truncated answer. With
// RestartOnInterrupt (or WithStreamRestart) the stream instead restarts on
// the next target: once another target has committed, Recv returns an
// error matching ErrStreamRestarted, so the caller discards what it had,
// then the new answer from its start. With no target left to take over,
// Recv returns the interruption (ErrStreamInterrupted, its real status,
// every attempt).
//
// Targets whose provider cannot stream are skipped. Cancelling ctx or
// calling Close stops the upstream request.
func (c *Client) ChatStream(ctx context.Context, req openai.ChatCompletionRequest, opts ...StreamOption) (*Stream, error) {
	var set streamSettings
	if c != nil {
		set.restart = c.restart
	}
	for _, o := range opts {
		o(&set)
	}
	s := &Stream{req: req, restart: set.restart, parent: ctx}
	s.op = op[providers.ChatRequest, *upstream]{
		build: func(t *tgt, h http.Header, tr *Trace) (r providers.ChatRequest) {
			t.buildChat(&r, &s.req, h, tr)
			r.Request.Stream = true
			return r
		},
		discard:  (*upstream).release,
		stream:   true,
		estimate: chatEstimate,
	}
	err := c.start(ctx, &s.run, req.Model, providers.OpChat, true)
	if err == errNilContext {
		return nil, err
	}
	if err == nil {
		err = s.run.streamable()
	}
	if err == nil {
		s.run.ctx, s.cancel = context.WithCancel(s.run.ctx)
		err = s.connect()
	}
	if err != nil {
		if s.cancel != nil {
			s.cancel()
		}
		s.run.end(err, nil)
		return nil, err
	}
	return s, nil
}

// streamable keeps only targets that can stream in the run's plan.
func (r *run) streamable() error {
	if !r.plan.Restrict(r.m.streamers) {
		return fmt.Errorf("%w: no eligible target of %q can stream", ErrUnsupportedOperation, r.name)
	}
	return nil
}

// connect runs the attempt loop until a target commits, and makes it the
// serving one.
func (s *Stream) connect() error {
	var u *upstream
	var err error
	if s.run.m.hedge != nil {
		err = hedged(&s.run, &s.op, s.open, &s.a, &u)
	} else {
		err = attempts(&s.run, &s.op, s.open, &s.a, &u, nil)
	}
	if err != nil {
		return err
	}
	s.u = u
	s.a.rec.TTFT = u.ttft
	if tr := s.run.tr; tr != nil {
		tr.Resolved = s.a.t.ref
	}
	return nil
}

// open is one try: start the upstream stream and read until the first
// content chunk, bounded by the target's time-to-first-token budget.
func (s *Stream) open(ctx context.Context, t *tgt, req providers.ChatRequest) (*upstream, error) {
	sctx, cancel := context.WithCancel(ctx)
	u := &upstream{cancel: cancel, base: time.Now(), idle: t.idleTimeout}
	if budget := firstTokenBudget(t); budget > 0 {
		u.ttftTimer = time.AfterFunc(budget, func() {
			if u.state.CompareAndSwap(connecting, ttftExpired) {
				cancel()
			}
		})
	}
	st, err := t.prov.(providers.Streamer).ChatStream(sctx, req)
	if err != nil {
		return nil, u.fail(err)
	}
	u.st = st
	if rr, ok := st.(providers.RateLimitReporter); ok {
		// Noted now, not when the stream ends: calls made meanwhile
		// must already keep away from a spent budget. A hedged try
		// runs here on its own goroutine; the quota is safe for that.
		if rl := rr.RateLimits(); !rl.IsZero() {
			t.quota.note(rl, s.run.c.now())
		}
	}
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			// A complete answer with no content at all (an empty
			// reply, say): that is the answer.
			u.eof = true
			break
		}
		if err != nil {
			return nil, u.fail(err)
		}
		u.pending = append(u.pending, chunk)
		if hasContent(&chunk) {
			break
		}
	}
	if !u.state.CompareAndSwap(connecting, running) {
		// The budget ran out just as content arrived: the timer won,
		// and the upstream is already cancelled.
		return nil, u.fail(context.DeadlineExceeded)
	}
	if u.ttftTimer != nil {
		u.ttftTimer.Stop()
	}
	u.ttft = time.Since(u.base)
	u.waiting.Store(-1)
	if u.idle > 0 && !u.eof {
		// Armed only once u.idleTimer is set, since checkIdle reads it.
		u.idleTimer = time.AfterFunc(time.Duration(math.MaxInt64), u.checkIdle)
		u.idleTimer.Reset(u.idle)
	}
	return u, nil
}

// firstTokenBudget is the time a try may take to its first content chunk.
func firstTokenBudget(t *tgt) time.Duration {
	switch {
	case t.ttftTimeout > 0 && t.requestTimeout > 0:
		return min(t.ttftTimeout, t.requestTimeout)
	case t.ttftTimeout > 0:
		return t.ttftTimeout
	}
	return t.requestTimeout
}

// checkIdle fires when a stream may have stalled: it ends the upstream if
// a read has waited longer than the idle timeout for its chunk, else it
// waits for the rest of it. Only time spent waiting on the upstream
// counts: a caller slow to call Recv is not a stalled provider. Reads only
// store timestamps, so the per-chunk cost stays tiny.
func (u *upstream) checkIdle() {
	if u.state.Load() != running {
		return
	}
	began := u.waiting.Load()
	if began < 0 {
		u.idleTimer.Reset(u.idle)
		return
	}
	since := time.Since(u.base) - time.Duration(began)
	if since < u.idle {
		u.idleTimer.Reset(u.idle - since)
		return
	}
	if u.state.CompareAndSwap(running, idleExpired) {
		u.cancel()
	}
}

// fail releases a try that did not commit and returns its error, a 408
// when its first-token budget ran out.
func (u *upstream) fail(err error) error {
	expired := u.state.Load() == ttftExpired
	u.release()
	if expired {
		return &providers.Error{Status: providers.StatusTimeout, Code: providers.CodeTTFTTimeout, Message: "no content before the time-to-first-token timeout", Err: context.DeadlineExceeded}
	}
	return err
}

// release stops the timers, closes the upstream and cancels its request.
// It is safe to call more than once.
func (u *upstream) release() {
	u.state.Store(released)
	if u.ttftTimer != nil {
		u.ttftTimer.Stop()
	}
	if u.idleTimer != nil {
		u.idleTimer.Stop()
	}
	if u.st != nil {
		u.st.Close()
	}
	u.cancel()
}

// hasContent reports whether a chunk carries part of the answer: text,
// a refusal, reasoning, a tool or function call, or a finish reason.
func hasContent(ch *openai.ChatCompletionStreamResponse) bool {
	for i := range ch.Choices {
		d := &ch.Choices[i].Delta
		if d.Content != "" || d.Refusal != "" || d.ReasoningContent != "" || len(d.ToolCalls) > 0 || d.FunctionCall != nil || ch.Choices[i].FinishReason != "" {
			return true
		}
	}
	return false
}

// Recv returns the next chunk, io.EOF after a complete answer, or an
// error: a *StreamError matching ErrStreamInterrupted when the answer was
// cut short, one matching ErrStreamRestarted when it starts over on
// another target (opt-in), or ErrStreamClosed after Close.
func (s *Stream) Recv() (openai.ChatCompletionStreamResponse, error) {
	var zero openai.ChatCompletionStreamResponse
	if !s.state.CompareAndSwap(0, streamBusy) {
		// Closed; Close finished the stream, or a Recv that saw
		// the Close did.
		return zero, ErrStreamClosed
	}
	if s.err != nil {
		s.idle()
		return zero, s.err
	}
	ch, err := s.next()
	if !s.state.CompareAndSwap(streamBusy, 0) {
		// Close came while this Recv ran: it stopped the upstream
		// and left the rest to this goroutine.
		s.state.Store(streamClosed)
		if s.ended && err != nil {
			// The stream had ended on its own first.
			return zero, err
		}
		s.u.release()
		s.finish("canceled", ErrStreamClosed, nil)
		if err == nil {
			// The chunk arrived before the Close took hold, and
			// observers were told of it: hand it over, and let the
			// next Recv report the Close.
			return ch, nil
		}
		return zero, ErrStreamClosed
	}
	return ch, err
}

// idle ends a Recv that did nothing, handing a Close that came meanwhile
// its work.
func (s *Stream) idle() {
	if !s.state.CompareAndSwap(streamBusy, 0) {
		s.state.Store(streamClosed)
		s.closeIdle()
	}
}

// next is Recv's work while it holds the stream.
func (s *Stream) next() (openai.ChatCompletionStreamResponse, error) {
	var zero openai.ChatCompletionStreamResponse
	u := s.u
	if len(u.pending) > 0 {
		ch := u.pending[0]
		u.pending = u.pending[1:]
		s.deliver(&ch)
		return ch, nil
	}
	if u.eof {
		return zero, s.complete()
	}
	if u.idle > 0 {
		u.waiting.Store(int64(time.Since(u.base)))
	}
	ch, err := u.st.Recv()
	if u.idle > 0 {
		u.waiting.Store(-1)
	}
	switch {
	case err == nil:
		s.deliver(&ch)
		return ch, nil
	case err == io.EOF:
		return zero, s.complete()
	case s.state.Load()&streamClosed != 0:
		return zero, ErrStreamClosed
	}
	return zero, s.interrupted(err)
}

// deliver records what a chunk handed to the caller adds to the answer.
func (s *Stream) deliver(ch *openai.ChatCompletionStreamResponse) {
	u := s.u
	if hasContent(ch) {
		u.chunks++
	}
	for i := range ch.Choices {
		c := &ch.Choices[i]
		if c.Delta.Content != "" {
			u.content.WriteString(c.Delta.Content)
			if u.usage == nil {
				u.outTokens++
			}
		}
		if c.FinishReason != "" && c.Index == 0 {
			u.finish = c.FinishReason
		}
	}
	if ch.Usage != nil {
		u.usage = ch.Usage
		if ch.Usage.CompletionTokens > 0 {
			u.outTokens = ch.Usage.CompletionTokens
		}
	}
	if u.id == "" {
		u.id, u.model = ch.ID, ch.Model
	}
	if a := &s.a; a.info != nil {
		s.run.c.tracer.StreamChunk(a.ctx, a.info)
	}
}

// complete ends the stream: the answer arrived whole.
func (s *Stream) complete() error {
	s.u.release()
	s.err = io.EOF
	s.finish("ok", nil, &strategy.Outcome{Status: http.StatusOK})
	return io.EOF
}

// finish ends the serving attempt and the call: class and err are the
// attempt's outcome, o what the strategy and health learn from it (nil
// when the caller stopped). It runs once per stream.
func (s *Stream) finish(class string, err error, o *strategy.Outcome) {
	if s.ended {
		return
	}
	s.ended = true
	u, a := s.u, &s.a
	total := time.Since(u.base)
	if o != nil {
		o.TTFT, o.OutputTokens = u.ttft, u.outTokens
	}
	var resp *Response
	if a.info != nil || s.run.call != nil {
		resp = u.facts()
	}
	a.used = u.streamTokens(a.charge.prompt)
	a.finish(&s.run, class, err, total, o, resp)
	s.cancel()
	callErr := err
	if class == "interrupted" {
		callErr = s.err
		s.run.resolved = ""
		if tr := s.run.tr; tr != nil {
			tr.Resolved = ""
		}
	}
	if callErr != nil {
		resp = nil
	}
	s.run.end(callErr, resp)
}

// facts is what a Tracer records of the streamed answer.
func (u *upstream) facts() *Response {
	f := &Response{ID: u.id, Model: u.model}
	if u.finish != "" {
		f.FinishReasons = []string{string(u.finish)}
	}
	// Token counts only as the provider reported them: the count of
	// content chunks the strategy falls back on is no usage.
	if us := u.usage; us != nil {
		f.InputTokens, f.OutputTokens = us.PromptTokens, us.CompletionTokens
		if d := us.PromptTokensDetails; d != nil {
			f.CachedTokens = d.CachedTokens
		}
		if d := us.CompletionTokensDetails; d != nil {
			f.ReasoningTokens = d.ReasoningTokens
		}
	}
	return f
}

// interrupted handles a break after the commit point: it finishes the
// attempt as interrupted and, with restarts on, tries to continue on the
// next target before saying anything to the caller.
func (s *Stream) interrupted(err error) error {
	u := s.u
	state := u.state.Load()
	u.release()
	se := &StreamError{Model: s.run.name, Target: s.a.t.ref, Delivered: u.content.String(), Chunks: u.chunks}
	if cerr := s.parent.Err(); cerr != nil {
		// The caller gave up: not the target's fault.
		se.Err = cerr
		s.err = se
		s.finish("canceled", cerr, nil)
		return se
	}
	if state == idleExpired {
		err = &providers.Error{Status: providers.StatusTimeout, Code: providers.CodeStreamIdleTimeout, Message: "no chunk within the stream idle timeout", Err: context.DeadlineExceeded}
	}
	status := providers.StatusTransport
	if pe, ok := providers.FromError(err); ok && pe.Status > 0 {
		status = pe.Status
	}
	se.Err = err
	r := &s.run
	r.failed = append(r.failed, &target.Error{Target: s.a.t.ref, Try: s.a.rec.Try, Status: status, Err: err})
	if !s.restart {
		se.Attempts = r.failed
		s.err = se
		s.finish("interrupted", err, &strategy.Outcome{Status: status, Err: err})
		return se
	}
	// The interrupted attempt ends here, the call goes on.
	s.a.used = u.streamTokens(s.a.charge.prompt)
	s.a.finish(r, "interrupted", err, time.Since(u.base), &strategy.Outcome{Status: status, Err: err, TTFT: u.ttft, OutputTokens: u.outTokens}, nil)
	r.fallback = true
	r.restarts++
	if cerr := s.connect(); cerr != nil {
		if s.state.Load()&streamClosed != 0 {
			return ErrStreamClosed
		}
		if errors.Is(cerr, context.Canceled) || errors.Is(cerr, context.DeadlineExceeded) {
			if pe := s.parent.Err(); pe != nil {
				se.Err = pe
			}
		}
		se.Attempts = r.failed
		s.err = se
		s.ended = true
		s.cancel()
		r.resolved = ""
		if tr := r.tr; tr != nil {
			tr.Resolved = ""
		}
		r.end(se, nil)
		return se
	}
	se.restarted = true
	return se
}

// Close stops the stream and its upstream request. It is safe to call more
// than once, and from another goroutine to unblock Recv in any state,
// including a restart's reconnect.
func (s *Stream) Close() error {
	for {
		st := s.state.Load()
		if st&streamClosed != 0 {
			return nil
		}
		if s.state.CompareAndSwap(st, st|streamClosed) {
			if st&streamBusy != 0 {
				// A Recv is running: stop what it waits on, and
				// it finishes the stream on its way out.
				s.cancel()
				return nil
			}
			s.closeIdle()
			return nil
		}
	}
}

// closeIdle closes a stream no Recv is running on.
func (s *Stream) closeIdle() {
	if s.u != nil {
		s.u.release()
	}
	if s.err == nil {
		s.finish("canceled", ErrStreamClosed, nil)
	}
	s.cancel()
}

// Target returns the target now serving the stream, "account/model".
func (s *Stream) Target() string {
	if s.a.t == nil {
		return ""
	}
	return s.a.t.ref
}
