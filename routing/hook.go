package routing

import (
	"context"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/strategy"
)

// Tracer follows calls and their attempts as they start and end, for
// tracing systems such as OpenTelemetry. An Observer given to
// WithObserver that also implements Tracer is called at each of these
// points, on the calling goroutine; with no Tracer registered the Client
// builds none of the values below.
//
// The context StartCall returns is the one every later hook of that call
// receives; the context StartAttempt returns is the one handed to the
// provider for that attempt (so HTTP instrumentation nests under whatever
// the Tracer put in it) and the one EndAttempt and StreamChunk receive.
// Each StartCall is matched by exactly one EndCall and each StartAttempt
// by exactly one EndAttempt. The pointers are valid only during the hook:
// copy what must be kept.
type Tracer interface {
	StartCall(ctx context.Context, call *CallInfo) context.Context
	EndCall(ctx context.Context, call *CallInfo, end *CallEnd)
	StartAttempt(ctx context.Context, a *AttemptInfo) context.Context
	// EndAttempt receives the attempt's record, as the Trace holds it,
	// and what the provider answered (nil when it answered nothing).
	// A committed stream's attempt ends when the stream does: at io.EOF,
	// an interruption, or Close.
	EndAttempt(ctx context.Context, a *AttemptInfo, rec *Attempt, resp *Response)
	// StreamChunk is called for every chunk a committed stream delivers
	// to the caller, at the moment it is delivered. It is on the
	// stream's hot path: it must not allocate.
	StreamChunk(ctx context.Context, a *AttemptInfo)
}

// CallInfo describes a routed call as it starts.
type CallInfo struct {
	// Operation is chat, completion or embedding.
	Operation providers.Operation
	// Stream is set for ChatStream.
	Stream bool
	// Model is the model name as called: "group/model" or a slug.
	Model string
	// Start is when the call began, on the Client's clock.
	Start time.Time
}

// CallEnd is how a routed call ended.
type CallEnd struct {
	// VirtualModel is the resolved "group/model"; empty when the name
	// did not resolve.
	VirtualModel string
	// Resolved is the target that served, "account/model"; empty when
	// none did.
	Resolved string
	// Attempts counts every attempt; Retries those that repeated a try
	// on the same target; Fallbacks the first tries on a target after
	// another failed.
	Attempts, Retries, Fallbacks int
	// Restarts counts opt-in stream restarts.
	Restarts int
	// Sticky is set when a session pin chose the first target.
	Sticky bool
	// Response is what the serving attempt answered, or nil.
	Response *Response
	// Err is what the caller was given: nil for a success (a stream that
	// reached io.EOF), else the call's error.
	Err error
	// Duration is the whole call, to its return (unary) or the stream's
	// end.
	Duration time.Duration
}

// AttemptInfo describes one attempt as it starts.
type AttemptInfo struct {
	// Operation and Stream are the call's.
	Operation providers.Operation
	Stream    bool
	// VirtualModel is the resolved "group/model".
	VirtualModel string
	// Target is "account/model"; Model is the provider's own model name.
	Target, Model string
	// Provider is what the target's provider says of itself.
	Provider providers.Info
	// Try is the 1-based try on this target.
	Try int
	// Reason and Cause say why the target was tried.
	Reason strategy.Reason
	Cause  strategy.Cause
	// Retry and Fallback are as in Attempt.
	Retry, Fallback bool
	// Wait is the delay slept before this try.
	Wait time.Duration
	// The request as sent to the provider, after the target's overrides:
	// exactly one of these is set.
	Chat       *providers.ChatRequest
	Completion *providers.CompletionRequest
	Embedding  *providers.EmbeddingRequest
}

// Response is what the conventions of tracing systems record of a
// provider's answer.
type Response struct {
	// ID and Model are the provider's response id and model name.
	ID, Model string
	// FinishReasons are the choices' finish reasons, in order.
	FinishReasons []string
	// Token usage as the provider reported it; CachedTokens and
	// ReasoningTokens are the parts of the input and output that were
	// cached or spent reasoning.
	InputTokens, OutputTokens, CachedTokens, ReasoningTokens int
}

// chatFacts reads what a Tracer records of a chat answer.
func chatFacts(r openai.ChatCompletionResponse) *Response {
	f := &Response{ID: r.ID, Model: r.Model, InputTokens: r.Usage.PromptTokens, OutputTokens: r.Usage.CompletionTokens}
	if d := r.Usage.PromptTokensDetails; d != nil {
		f.CachedTokens = d.CachedTokens
	}
	if d := r.Usage.CompletionTokensDetails; d != nil {
		f.ReasoningTokens = d.ReasoningTokens
	}
	for _, c := range r.Choices {
		f.FinishReasons = append(f.FinishReasons, string(c.FinishReason))
	}
	return f
}

// completionFacts reads what a Tracer records of a completion answer.
func completionFacts(r openai.CompletionResponse) *Response {
	f := &Response{ID: r.ID, Model: r.Model}
	if u := r.Usage; u != nil {
		f.InputTokens, f.OutputTokens = u.PromptTokens, u.CompletionTokens
	}
	for _, c := range r.Choices {
		f.FinishReasons = append(f.FinishReasons, c.FinishReason)
	}
	return f
}

// embeddingFacts reads what a Tracer records of an embedding answer.
func embeddingFacts(r openai.EmbeddingResponse) *Response {
	return &Response{Model: string(r.Model), InputTokens: r.Usage.PromptTokens}
}

// tracers calls several Tracers in turn, each with the context the one
// before it returned.
type tracers []Tracer

func (ts tracers) StartCall(ctx context.Context, call *CallInfo) context.Context {
	for _, t := range ts {
		ctx = t.StartCall(ctx, call)
	}
	return ctx
}

func (ts tracers) EndCall(ctx context.Context, call *CallInfo, end *CallEnd) {
	for _, t := range ts {
		t.EndCall(ctx, call, end)
	}
}

func (ts tracers) StartAttempt(ctx context.Context, a *AttemptInfo) context.Context {
	for _, t := range ts {
		ctx = t.StartAttempt(ctx, a)
	}
	return ctx
}

func (ts tracers) EndAttempt(ctx context.Context, a *AttemptInfo, rec *Attempt, resp *Response) {
	for _, t := range ts {
		t.EndAttempt(ctx, a, rec, resp)
	}
}

func (ts tracers) StreamChunk(ctx context.Context, a *AttemptInfo) {
	for _, t := range ts {
		t.StreamChunk(ctx, a)
	}
}

// tracerOf returns the Tracer among the observers, nil when none is one.
func tracerOf(observers []Observer) Tracer {
	var ts tracers
	for _, o := range observers {
		if t, ok := o.(Tracer); ok {
			ts = append(ts, t)
		}
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return ts[0]
	}
	return ts
}
