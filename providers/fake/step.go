package fake

import (
	"errors"
	"net/http"
	"slices"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// DefaultReply is the content of a reply whose step does not set one, and
// of every reply to a model with no script.
const DefaultReply = "ok"

// ErrTransport is the cause of a [Transport] failure, standing in for a
// connection refused or reset before the response headers.
var ErrTransport = errors.New("fake: connection reset by peer")

// ErrStreamClosed is what Recv returns once the stream has been closed.
//
// Deprecated: it is [providers.ErrStreamClosed], which every adapter
// returns; match that.
var ErrStreamClosed = providers.ErrStreamClosed

// A fault is how a stream step ends early.
type fault uint8

const (
	faultNone fault = iota
	faultStall
	faultCut
	faultMalformed
	faultError
)

// Step is one scripted answer: a reply, a failure or a hang, with an
// optional delay, used for one call (or more, see [Step.Times]).
//
// Build a Step with [Reply], [Stream], [Vector], [Fail], [Transport] or
// [Hang], then refine it with its methods; each method returns a changed
// copy, so a Step can be shared and reused. A Step is a value, safe for
// concurrent use. The zero Step is a successful reply of [DefaultReply]
// used once.
//
// One Step serves any operation: Chat and Completion answer with its
// content, Embed with its vector, ChatStream with its content in chunks.
// The streaming-only settings ([Step.FirstChunkAfter], [Step.Every],
// [Step.StallAfter], [Step.CutAfter], [Step.MalformedAfter],
// [Step.ErrorAfter], [Step.InBand]) change only what ChatStream does; the other operations
// answer with the whole reply (or the failure) after [Step.After].
type Step struct {
	times int
	delay time.Duration
	hang  bool

	status     int
	transport  bool
	code       string
	typ        string
	message    string
	retryAfter time.Duration
	inBand     bool

	content    string
	hasContent bool
	chunks     []string
	chunked    bool
	finish     openai.FinishReason
	usage      *openai.Usage
	vector     []float32
	vectors    [][]float32

	firstChunk time.Duration
	every      time.Duration
	fault      fault
	faultAfter int
	faultErr   providers.Error // the error event of ErrorAfter
}

// Reply is a successful answer with the given content and finish reason
// "stop". ChatStream sends the content as a single chunk.
func Reply(content string) Step {
	return Step{content: content, hasContent: true}
}

// Stream is a successful answer whose content is the given chunks: ChatStream
// sends one chunk per argument (after a first chunk carrying the role, and
// before a last one carrying the finish reason); Chat and Completion answer
// with the chunks joined.
func Stream(chunks ...string) Step {
	s := Step{chunks: slices.Clone(chunks), chunked: true, hasContent: true}
	for _, c := range chunks {
		s.content += c
	}
	return s
}

// Vector is a successful answer whose embedding, for every input, is v.
// Without it, Embed returns a small deterministic vector derived from each
// input.
func Vector(v ...float32) Step {
	return Step{}.WithVector(v...)
}

// Fail is a failed answer with the given HTTP status: the call returns a
// [*providers.Error] with that Status, a Message of the status text (see
// [Step.WithMessage]) and the Code, Type and RetryAfter set by the Step's
// methods. A status of 0 or 2xx is a success, not a failure.
func Fail(status int) Step {
	return Step{status: status}
}

// Transport is a failure with no HTTP status, such as a connection reset
// before the response headers: the call returns a [*providers.Error] with
// Status [providers.StatusTransport] (502) and Err [ErrTransport].
func Transport() Step {
	return Step{transport: true}
}

// Hang never answers: the call blocks until its ctx is done and then
// returns the ctx's error (a 408 [*providers.Error] if the deadline passed).
func Hang() Step {
	return Step{hang: true}
}

// Times makes the step answer n calls in a row before the script moves on.
// n < 1 counts as 1. The last step of a script repeats forever regardless.
func (s Step) Times(n int) Step {
	s.times = n
	return s
}

// After delays the answer by d: the call answers d after it was made, or
// returns the ctx's error if ctx is done first. For ChatStream, d is the
// wait for the response headers, before ChatStream returns.
func (s Step) After(d time.Duration) Step {
	s.delay = d
	return s
}

// WithUsage sets the token usage of a successful reply; TotalTokens is
// their sum. Without it, usage is estimated: one prompt token per word of
// the request, one completion token per chunk of a [Stream] step or per
// word of any other reply, each at least 1.
func (s Step) WithUsage(promptTokens, completionTokens int) Step {
	s.usage = &openai.Usage{
		PromptTokens:     promptTokens,
		CompletionTokens: completionTokens,
		TotalTokens:      promptTokens + completionTokens,
	}
	return s
}

// WithFinishReason sets the finish reason of a successful reply (default
// "stop").
func (s Step) WithFinishReason(r openai.FinishReason) Step {
	s.finish = r
	return s
}

// WithVector sets the embedding Embed returns for every input.
func (s Step) WithVector(v ...float32) Step {
	s.vector = slices.Clone(v)
	if s.vector == nil {
		s.vector = []float32{}
	}
	return s
}

// WithVectors sets the embeddings Embed returns, one per input in order:
// the ith input gets vs[i]. Inputs beyond vs get the [Step.WithVector]
// vector, or one derived from the input.
func (s Step) WithVectors(vs ...[]float32) Step {
	s.vectors = make([][]float32, len(vs))
	for i, v := range vs {
		s.vectors[i] = slices.Clone(v)
		if s.vectors[i] == nil {
			s.vectors[i] = []float32{}
		}
	}
	return s
}

// WithCode sets the provider error code of a failure, such as
// "rate_limit_exceeded" or "context_length_exceeded".
func (s Step) WithCode(code string) Step {
	s.code = code
	return s
}

// WithType sets the provider error type of a failure, such as
// "invalid_request_error".
func (s Step) WithType(typ string) Step {
	s.typ = typ
	return s
}

// WithMessage sets the message of a failure.
func (s Step) WithMessage(msg string) Step {
	s.message = msg
	return s
}

// WithRetryAfter sets the Retry-After of a failure.
func (s Step) WithRetryAfter(d time.Duration) Step {
	s.retryAfter = d
	return s
}

// InBand makes ChatStream deliver a failure inside the stream: ChatStream
// succeeds and the first Recv returns the [*providers.Error], as when a
// provider sends an error object (an overloaded error, say) as the first
// event. Other operations return the failure as usual.
func (s Step) InBand() Step {
	s.inBand = true
	return s
}

// FirstChunkAfter delays the first chunk of a stream (the one carrying the
// role) by d after ChatStream returned: a slow first token.
func (s Step) FirstChunkAfter(d time.Duration) Step {
	s.firstChunk = d
	return s
}

// Every paces a stream: each chunk after the first arrives d after the one
// before it. A stream fault ([Step.CutAfter], [Step.MalformedAfter]) also
// arrives d after the last chunk.
func (s Step) Every(d time.Duration) Step {
	s.every = d
	return s
}

// StallAfter makes a stream stop sending after n content chunks (0: after
// the role chunk, before any content): the next Recv blocks until the
// stream is closed or its ctx is done. It replaces any earlier
// StallAfter, CutAfter, MalformedAfter or ErrorAfter.
func (s Step) StallAfter(n int) Step {
	return s.withFault(faultStall, n)
}

// CutAfter makes a stream end without a finish reason after n content
// chunks (0: after the role chunk): the next Recv returns a
// [*providers.Error] with Status 502 and Code "stream_truncated", never
// io.EOF. CutAfter(len(chunks)) sends the whole content but no finish
// reason. It replaces any earlier StallAfter, CutAfter, MalformedAfter or
// ErrorAfter.
func (s Step) CutAfter(n int) Step {
	return s.withFault(faultCut, n)
}

// MalformedAfter makes a stream send an event that cannot be parsed after
// n content chunks (0: after the role chunk): the next Recv returns a
// [*providers.Error] with Status 502 and Code "malformed_event". It
// replaces any earlier StallAfter, CutAfter, MalformedAfter or
// ErrorAfter.
func (s Step) MalformedAfter(n int) Step {
	return s.withFault(faultMalformed, n)
}

// ErrorAfter makes a stream send an error event after n content chunks
// (0: after the role chunk), as a provider does when it fails in the
// middle of an answer: the next Recv returns a [*providers.Error] made
// from failure, a step built with [Fail] or [Transport] (its Status, Code,
// Type, Message and RetryAfter), never io.EOF. A failure that is not one
// gives a 502. It replaces any earlier StallAfter, CutAfter,
// MalformedAfter or ErrorAfter.
//
//	fake.Stream("Hel", "lo").ErrorAfter(1, fake.Fail(503).WithCode("overloaded"))
func (s Step) ErrorAfter(n int, failure Step) Step {
	e := failure.failure()
	if e == nil {
		e = &providers.Error{Status: providers.StatusTransport, Message: "error event in stream"}
	}
	s.faultErr = *e
	return s.withFault(faultError, n)
}

func (s Step) withFault(f fault, n int) Step {
	s.fault = f
	s.faultAfter = max(n, 0)
	return s
}

// failure returns the error the step answers with, or nil for a success.
// Every call gets its own *providers.Error.
func (s Step) failure() *providers.Error {
	switch {
	case s.transport:
		return &providers.Error{
			Status:     providers.StatusTransport,
			RetryAfter: s.retryAfter,
			Code:       s.code,
			Type:       s.typ,
			Message:    s.message,
			Err:        ErrTransport,
		}
	case s.status == 0 || (s.status >= 200 && s.status < 300):
		return nil
	}
	msg := s.message
	if msg == "" {
		msg = http.StatusText(s.status)
	}
	return &providers.Error{
		Status:     s.status,
		RetryAfter: s.retryAfter,
		Code:       s.code,
		Type:       s.typ,
		Message:    msg,
	}
}

// text returns the reply content.
func (s Step) text() string {
	if !s.hasContent {
		return DefaultReply
	}
	return s.content
}

// contentChunks returns the content chunks a stream sends.
func (s Step) contentChunks() []string {
	if s.chunked {
		return s.chunks
	}
	return []string{s.text()}
}

func (s Step) finishReason() openai.FinishReason {
	if s.finish == "" {
		return openai.FinishReasonStop
	}
	return s.finish
}

// usageFor returns the reply's usage for a request of promptWords words.
func (s Step) usageFor(promptWords int) openai.Usage {
	if s.usage != nil {
		return *s.usage
	}
	completion := wordCount(s.text())
	if s.chunked {
		completion = len(s.chunks)
	}
	u := openai.Usage{PromptTokens: max(promptWords, 1), CompletionTokens: max(completion, 1)}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}
