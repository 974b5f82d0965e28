package routing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/strategy"
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

// errStreamClosed is returned by Recv after Close.
var errStreamClosed = errors.New("routing: stream closed")

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
	// Chunks is the number of chunks delivered before the break.
	Chunks int
	// Err is the cause: a *providers.Error (a cut stream, a malformed
	// event, an error event, 408 for a stall), the context's error, or,
	// when a restart found no target to serve, the *Error of that
	// attempt.
	Err error

	restarted bool
}

// Error names the model, the target and the cause.
func (e *StreamError) Error() string {
	what := "interrupted"
	if e.restarted {
		what = "restarted"
	}
	return fmt.Sprintf("routing: stream of %q %s after %d chunks from %s: %v", e.Model, what, e.Chunks, e.Target, e.Err)
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

// Stream is a routed chat stream. Recv returns chunks until io.EOF after a
// complete answer, or an error; Close releases it. A Stream is used by one
// goroutine at a time; Close may be called from another goroutine to stop
// a blocked Recv. Always Close a Stream; it is safe to Close twice and
// after Recv has failed.
type Stream struct {
	run     run
	req     openai.ChatCompletionRequest
	restart bool

	mu         sync.Mutex // guards u against a concurrent Close
	u          *upstream
	served     served
	rec        int // index of the serving attempt in the trace
	restarting bool
	closed     atomic.Bool
	err        error // terminal: io.EOF, an error, or errStreamClosed
}

// upstream is one committed (or committing) upstream stream and its
// timers.
type upstream struct {
	st      providers.Stream
	cancel  context.CancelFunc
	timer   *time.Timer
	state   atomic.Uint32
	base    time.Time    // monotonic start of the attempt
	waiting atomic.Int64 // ns since base when the current upstream read began; -1 between reads
	idle    time.Duration
	pending []openai.ChatCompletionStreamResponse
	eof     bool // the upstream ended while committing

	ttft      time.Duration
	chunks    int
	content   strings.Builder
	outTokens int
	usage     bool
}

// upstream states.
const (
	running uint32 = iota
	ttftExpired
	idleExpired
	released
)

// ChatStream opens a streaming chat through the virtual model req.Model
// names. Until the first content chunk has been received (the commit
// point), failures are retried and fall back exactly as for Chat, and an
// error event in the stream counts as a failed attempt; ChatStream returns
// once a target has committed. A target that sends no content within its
// ttft_timeout_ms (or request_timeout_ms, whichever is shorter) is a 408
// attempt.
//
// After the commit point nothing is retried silently: a cut stream, a
// malformed event, an error event or a gap longer than
// stream_idle_timeout_ms makes Recv return a *StreamError matching
// ErrStreamInterrupted — never io.EOF for a truncated answer. With
// RestartOnInterrupt (or WithStreamRestart) the stream instead restarts on
// the next target: Recv first returns an error matching ErrStreamRestarted,
// so the caller discards what it had, then the new answer from its start.
//
// Targets whose provider cannot stream are skipped. Cancelling ctx or
// calling Close stops the upstream request.
func (c *Client) ChatStream(ctx context.Context, req openai.ChatCompletionRequest, opts ...StreamOption) (*Stream, error) {
	set := streamSettings{restart: c.restart}
	for _, o := range opts {
		o(&set)
	}
	s := &Stream{req: req, restart: set.restart}
	if err := c.start(ctx, &s.run, req.Model, providers.OpChat); err != nil {
		return nil, err
	}
	if err := s.run.streamable(); err != nil {
		return nil, err
	}
	if err := s.connect(); err != nil {
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

// connect runs the attempt loop until a target commits.
func (s *Stream) connect() error {
	u, sv, err := attempts(&s.run, false, s.open, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.u, s.served = u, sv
	closed := s.closed.Load()
	s.mu.Unlock()
	if closed {
		u.release()
		return errStreamClosed
	}
	if s.run.tr != nil {
		s.rec = len(s.run.tr.Attempts) - 1
	}
	return nil
}

// open is one try: start the upstream stream and read until the first
// content chunk, bounded by the target's time-to-first-token budget.
func (s *Stream) open(ctx context.Context, t *tgt, a attempt) (*upstream, error) {
	req := t.chatRequest(&s.req, a)
	req.Request.Stream = true
	sctx, cancel := context.WithCancel(ctx)
	u := &upstream{cancel: cancel, base: time.Now(), idle: t.idleTimeout}
	if budget := firstTokenBudget(t); budget > 0 {
		u.timer = time.AfterFunc(budget, func() {
			if u.state.CompareAndSwap(running, ttftExpired) {
				cancel()
			}
		})
	}
	st, err := t.prov.(providers.Streamer).ChatStream(sctx, req)
	if err != nil {
		return nil, u.fail(err)
	}
	u.st = st
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
	if u.timer != nil {
		u.timer.Stop()
	}
	if u.state.Load() != running {
		// The budget ran out just as content arrived.
		return nil, u.fail(context.DeadlineExceeded)
	}
	u.ttft = time.Since(u.base)
	u.waiting.Store(-1)
	if u.idle > 0 && !u.eof {
		// Armed only once u.timer is set, since checkIdle reads it.
		u.timer = time.AfterFunc(time.Duration(math.MaxInt64), u.checkIdle)
		u.timer.Reset(u.idle)
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
		u.timer.Reset(u.idle)
		return
	}
	since := time.Since(u.base) - time.Duration(began)
	if since < u.idle {
		u.timer.Reset(u.idle - since)
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
func (u *upstream) release() {
	u.state.Store(released)
	if u.timer != nil {
		u.timer.Stop()
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
// another target (opt-in), or the error of a failed restart.
func (s *Stream) Recv() (openai.ChatCompletionStreamResponse, error) {
	var zero openai.ChatCompletionStreamResponse
	if s.err != nil {
		return zero, s.err
	}
	if s.closed.Load() {
		s.err = errStreamClosed
		return zero, s.err
	}
	if s.restarting {
		s.restarting = false
		if err := s.connect(); err != nil {
			s.err = &StreamError{Model: s.run.name, Target: s.served.t.ref, Err: err}
			return zero, s.err
		}
	}
	u := s.u
	if len(u.pending) > 0 {
		ch := u.pending[0]
		u.pending = u.pending[1:]
		u.account(&ch)
		return ch, nil
	}
	if u.eof {
		return zero, s.end()
	}
	if u.idle > 0 {
		u.waiting.Store(int64(time.Since(u.base)))
	}
	ch, err := u.st.Recv()
	if u.idle > 0 {
		u.waiting.Store(-1)
	}
	if err == nil {
		u.account(&ch)
		return ch, nil
	}
	if err == io.EOF {
		return zero, s.end()
	}
	return zero, s.interrupted(err)
}

// account records what a delivered chunk adds to the answer.
func (u *upstream) account(ch *openai.ChatCompletionStreamResponse) {
	u.chunks++
	for i := range ch.Choices {
		if c := ch.Choices[i].Delta.Content; c != "" {
			u.content.WriteString(c)
			if !u.usage {
				u.outTokens++
			}
		}
	}
	if ch.Usage != nil && ch.Usage.CompletionTokens > 0 {
		u.outTokens, u.usage = ch.Usage.CompletionTokens, true
	}
}

// end completes the stream: the answer arrived whole.
func (s *Stream) end() error {
	u := s.u
	u.release()
	total := time.Since(u.base)
	s.report(http.StatusOK, nil, total)
	s.err = io.EOF
	return io.EOF
}

// report feeds a finished stream's outcome to the strategy and the trace.
func (s *Stream) report(status int, err error, total time.Duration) {
	u := s.u
	o := strategy.Outcome{Index: s.served.index, Start: s.served.start, Latency: total, TTFT: u.ttft, OutputTokens: u.outTokens, Status: status, Err: err}
	s.run.plan.Done(o)
	if tr := s.run.tr; tr != nil && s.rec < len(tr.Attempts) {
		a := &tr.Attempts[s.rec]
		a.Duration, a.TTFT = total, u.ttft
		if u.outTokens > 0 {
			a.TPOT = strategy.TPOT(o)
		}
		if err != nil {
			a.Status, a.Class, a.Err = status, "interrupted", err
			tr.Resolved = ""
		}
	}
	if err != nil {
		s.run.observe(Attempt{Target: s.served.t.ref, Status: status, Class: "interrupted", Err: err, Start: s.served.start, Duration: total, TTFT: u.ttft})
	}
}

// interrupted handles a break after the commit point.
func (s *Stream) interrupted(err error) error {
	u := s.u
	state := u.state.Load()
	u.release()
	if cerr := s.run.ctx.Err(); cerr != nil {
		s.err = &StreamError{Model: s.run.name, Target: s.served.t.ref, Delivered: u.content.String(), Chunks: u.chunks, Err: cerr}
		return s.err
	}
	if s.closed.Load() {
		s.err = errStreamClosed
		return s.err
	}
	if state == idleExpired {
		err = &providers.Error{Status: providers.StatusTimeout, Code: providers.CodeStreamIdleTimeout, Message: "no chunk within the stream idle timeout", Err: context.DeadlineExceeded}
	}
	status := statusOf(err, context.Background())
	s.report(status, err, time.Since(u.base))
	se := &StreamError{Model: s.run.name, Target: s.served.t.ref, Delivered: u.content.String(), Chunks: u.chunks, Err: err}
	if s.restart {
		s.run.fallback = true
		s.restarting = true
		se.restarted = true
		return se
	}
	s.err = se
	return se
}

// Close stops the stream and its upstream request. It is safe to call more
// than once, and from another goroutine to unblock Recv.
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	u := s.u
	s.mu.Unlock()
	if u != nil {
		u.release()
	}
	return nil
}

// Target returns the target now serving the stream, "account/model".
func (s *Stream) Target() string {
	if s.served.t == nil {
		return ""
	}
	return s.served.t.ref
}
