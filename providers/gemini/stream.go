package gemini

import (
	"context"
	"errors"
	"io"
	"iter"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
)

// ChatStream sends one streamGenerateContent request and returns when its
// response headers arrive. The stream's chunks are genai's, translated
// chunk by chunk; see the package documentation for how it ends.
//
// genai's stream is an iterator that sends the request when first asked
// for a chunk, so it cannot return at the headers: a goroutine runs it,
// and ChatStream waits for the transport to see the headers. The
// goroutine ends when the iterator does, and Close (or cancelling ctx)
// ends the iterator: Close returns only once it has.
func (p *Provider) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	if !p.usable() {
		return nil, errNotCreated
	}
	if ctx == nil {
		ctx = context.Background()
	}
	b, err := buildChat(&req.Request, req.Extra)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, providers.ContextError(err)
	}
	b.config.HTTPOptions = p.httpOptions()
	sctx, cancel := context.WithCancel(ctx)
	st := newCallState(sctx, &req.Call, true)
	s := &stream{
		p:        p,
		st:       st,
		ctx:      ctx,
		cancel:   cancel,
		items:    make(chan item),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
		conv:     chunkConv{model: b.model},
	}
	go s.pump(p.models.GenerateContentStream(st, b.model, b.contents, b.config))

	select {
	case <-st.headers:
		return s, nil
	case it, ok := <-s.items:
		if ok && it.err == nil {
			// Headers and a chunk arrived together.
			s.pending = &it
			return s, nil
		}
		err := s.terminal(it, ok)
		s.Close()
		return nil, err
	case <-ctx.Done():
		s.Close()
		return nil, providers.ContextError(ctx.Err())
	}
}

// item is one value of genai's stream.
type item struct {
	resp *genai.GenerateContentResponse
	err  error
}

// stream is a providers.Stream over genai's stream iterator.
type stream struct {
	p      *Provider
	st     *callState
	ctx    context.Context // the caller's
	cancel context.CancelFunc

	items    chan item     // from pump; closed when the iterator ends
	done     chan struct{} // closed to stop pump
	finished chan struct{} // closed when pump has returned
	stopOnce sync.Once
	closed   atomic.Bool

	// Used by Recv only.
	pending *item
	err     error // the terminal result, returned again by later Recvs
	conv    chunkConv
}

// pump runs genai's iterator, handing each value to Recv, until the
// iterator ends, yields an error, or the stream is stopped. Leaving the
// range loop ends genai's iterator, which closes the response body.
func (s *stream) pump(seq iter.Seq2[*genai.GenerateContentResponse, error]) {
	defer close(s.finished)
	defer close(s.items)
	defer func() {
		// genai's stream decoder panics on some bodies of the wrong
		// shape; this goroutine cannot pass a panic to the caller.
		if v := recover(); v != nil {
			s.send(item{err: &decodePanic{v: v}})
		}
	}()
	for resp, err := range seq {
		if !s.send(item{resp: resp, err: err}) || err != nil {
			return
		}
	}
}

// send hands it to Recv, or reports false if the stream was stopped.
func (s *stream) send(it item) bool {
	select {
	case s.items <- it:
		return true
	case <-s.done:
		return false
	}
}

// stop ends pump (cancelling the request if it is still reading) and
// waits for it.
func (s *stream) stop() {
	s.stopOnce.Do(func() {
		close(s.done)
		s.cancel()
	})
	<-s.finished
}

// Close stops the upstream request. It is safe to call more than once,
// after Recv has failed, and from another goroutine while Recv is
// blocked, which it unblocks.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.stop()
	return nil
}

// Recv returns the next chunk, io.EOF once every candidate has finished,
// or the error that ended the stream.
func (s *stream) Recv() (openai.ChatCompletionStreamResponse, error) {
	var zero openai.ChatCompletionStreamResponse
	if s.closed.Load() {
		return zero, providers.ErrStreamClosed
	}
	if s.err != nil {
		return zero, s.err
	}
	for {
		var it item
		ok := true
		if s.pending != nil {
			it, s.pending = *s.pending, nil
		} else {
			select {
			case it, ok = <-s.items:
			case <-s.done:
				return zero, providers.ErrStreamClosed
			}
		}
		if !ok || it.err != nil {
			return zero, s.finish(s.terminal(it, ok))
		}
		chunk, emit, err := s.conv.chunk(it.resp)
		if err != nil {
			return zero, s.finish(s.p.responseError(s.st, err))
		}
		if emit {
			return chunk, nil
		}
	}
}

// finish records the stream's terminal result and releases the request.
func (s *stream) finish(err error) error {
	s.err = err
	s.stop()
	if s.closed.Load() {
		return providers.ErrStreamClosed
	}
	return err
}

// terminal is the result of the item that ended the stream: the iterator
// ended (ok false) or yielded an error.
//
//   - the iterator ended: io.EOF if every candidate has finished (or the
//     prompt was blocked); otherwise the answer was cut short: the ctx
//     errors if ctx is done, a 408 if the body timed out, else a 502 with
//     CodeStreamTruncated. genai ends its iterator the same way whether
//     the server finished or the connection dropped, so only the finish
//     reasons tell.
//   - an error object in the stream (genai.APIError): translated.
//   - no 2xx response arrived: the request failed, translated as for Chat.
//   - any other error while reading the body: the body ended mid-event
//     (truncated), the ctx ended (its error), or an event did not decode
//     (502, CodeMalformedEvent).
func (s *stream) terminal(it item, ok bool) error {
	body := s.st.body
	if !ok {
		if s.conv.complete() {
			return io.EOF
		}
		return s.cut(body)
	}
	var apiErr genai.APIError
	if errors.As(it.err, &apiErr) || body == nil {
		return s.p.failure(s.st, it.err)
	}
	if body.err != nil || body.endedMidEvent() {
		return s.cut(body)
	}
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	msg := "a stream event could not be decoded"
	var dp *decodePanic
	if errors.As(it.err, &dp) {
		msg = dp.Error()
	}
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeMalformedEvent,
		Message: s.p.redact(s.st, msg),
		Err:     s.p.redactErr(s.st, it.err),
	}
}

// cut is the error of a stream that ended before its answer did.
func (s *stream) cut(body *watchBody) error {
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	var cause error
	if body != nil {
		cause = body.err
	}
	var ne net.Error
	if errors.As(cause, &ne) && ne.Timeout() {
		return &providers.Error{Status: providers.StatusTimeout, Message: "the stream's body timed out", Err: s.p.redactErr(s.st, cause)}
	}
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeStreamTruncated,
		Message: "the stream ended before its finish reason",
		Err:     s.p.redactErr(s.st, cause),
	}
}

// chunkConv translates a stream's chunks, keeping what spans them: the
// response id and model, each candidate's progress, the latest usage.
type chunkConv struct {
	model   string
	id      string
	created int64
	cands   []candState
	blocked bool
	usage   *openai.Usage
}

// candState is one candidate's progress through a stream.
type candState struct {
	index    int
	started  bool // its role has been sent
	calls    int  // function calls so far
	finished bool
}

// state returns the progress of candidate index.
func (c *chunkConv) state(index int) *candState {
	for i := range c.cands {
		if c.cands[i].index == index {
			return &c.cands[i]
		}
	}
	c.cands = append(c.cands, candState{index: index})
	return &c.cands[len(c.cands)-1]
}

// complete reports whether the answer is whole: the prompt was blocked,
// or at least one candidate arrived and every candidate has finished.
func (c *chunkConv) complete() bool {
	if c.blocked {
		return true
	}
	if len(c.cands) == 0 {
		return false
	}
	for i := range c.cands {
		if !c.cands[i].finished {
			return false
		}
	}
	return true
}

// chunk translates one chunk; emit is false for a chunk that carries
// nothing for the caller.
//
// Usage (cumulative in Gemini's chunks) is attached once the answer is
// complete, so the chunk that finishes it carries the total, as OpenAI's
// last chunk does.
func (c *chunkConv) chunk(resp *genai.GenerateContentResponse) (out openai.ChatCompletionStreamResponse, emit bool, err error) {
	if resp == nil {
		return out, false, nil
	}
	if c.id == "" {
		c.id = resp.ResponseID
	}
	if resp.ModelVersion != "" {
		c.model = resp.ModelVersion
	}
	if c.created == 0 {
		c.created = created(resp)
	}
	out = openai.ChatCompletionStreamResponse{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model}
	if len(resp.Candidates) == 0 && resp.PromptFeedback != nil && resp.PromptFeedback.BlockReason != "" && !c.blocked {
		c.blocked = true
		out.Choices = []openai.ChatCompletionStreamChoice{{
			Delta:        openai.ChatCompletionStreamChoiceDelta{Role: openai.ChatMessageRoleAssistant},
			FinishReason: openai.FinishReasonContentFilter,
		}}
	}
	for i, cand := range resp.Candidates {
		if cand == nil {
			continue
		}
		if err := checkFinish(cand.FinishReason, cand.FinishMessage); err != nil {
			return out, false, err
		}
		idx := candidateIndex(cand, i)
		cs := c.state(idx)
		var delta openai.ChatCompletionStreamChoiceDelta
		if !cs.started {
			delta.Role = openai.ChatMessageRoleAssistant
			cs.started = true
		}
		if cand.Content != nil {
			var text, thought strings.Builder
			for _, p := range cand.Content.Parts {
				switch {
				case p == nil:
				case p.FunctionCall != nil:
					delta.ToolCalls = append(delta.ToolCalls, toolCall(c.id, idx, cs.calls, p, true))
					cs.calls++
				case p.Thought:
					thought.WriteString(p.Text)
				default:
					text.WriteString(p.Text)
				}
			}
			delta.Content, delta.ReasoningContent = text.String(), thought.String()
		}
		fr := finishReason(cand.FinishReason, cs.calls > 0)
		if fr != "" {
			cs.finished = true
		}
		out.Choices = append(out.Choices, openai.ChatCompletionStreamChoice{Index: idx, Delta: delta, FinishReason: fr})
	}
	if resp.UsageMetadata != nil {
		u := usage(resp.UsageMetadata)
		c.usage = &u
	}
	if c.usage != nil && c.complete() && (resp.UsageMetadata != nil || len(out.Choices) > 0) {
		out.Usage = c.usage
	}
	return out, len(out.Choices) > 0 || out.Usage != nil, nil
}
