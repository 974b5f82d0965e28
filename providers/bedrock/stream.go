package bedrock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// errStreamClosed is what Recv returns once Close has been called.
var errStreamClosed = fmt.Errorf("bedrock: %w", providers.ErrStreamClosed)

// ChatStream starts one ConverseStream request, translated as for
// [Provider.Chat]. It returns once the response headers have arrived; an
// error response is a [*providers.Error] as for Chat.
//
// The returned stream turns Bedrock's events into go-openai chunks; see
// the package documentation for the mapping and for what Recv returns.
// It is read by one goroutine at a time. Close it when done, on every
// path: Close may be called from any goroutine, also to abort a blocked
// Recv, and more than once.
func (p *Provider) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	if !p.usable() {
		return nil, errNotCreated
	}
	if ctx == nil {
		return nil, errors.New("bedrock: nil context")
	}
	in, err := buildParams(&req.Request, req.Extra)
	if err != nil {
		return nil, err
	}
	cctx, st := withState(ctx, &req.Call)
	out, err := p.client.ConverseStream(cctx, in.converseStream())
	if err != nil {
		return nil, translate(ctx, st, "", err, inCall)
	}
	es := out.GetStream()
	if es == nil {
		return nil, &providers.Error{Status: providers.StatusTransport, Message: "bedrock: no event stream in the response"}
	}
	requestID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	s := &stream{
		ctx:       ctx,
		st:        st,
		es:        es,
		events:    es.Events(),
		done:      make(chan struct{}),
		requestID: st.redact(requestID),
		model:     req.Request.Model,
		created:   time.Now().Unix(),
	}
	s.usage = req.Request.StreamOptions != nil && req.Request.StreamOptions.IncludeUsage
	// A done ctx shuts the stream down even if the caller never calls
	// Close, so that the SDK's reader goroutines end with the call.
	s.stopWatch = context.AfterFunc(ctx, s.shutdown)
	return s, nil
}

// stream is a providers.Stream over one ConverseStream event stream.
//
// Recv is used by one goroutine at a time; Close may be called from any
// goroutine, also while Recv is blocked, and is safe to call repeatedly.
type stream struct {
	ctx    context.Context
	st     *callState
	es     *bedrockruntime.ConverseStreamEventStream
	events <-chan types.ConverseStreamOutput

	done      chan struct{} // closed by shutdown
	closed    atomic.Bool   // Close was called
	shutOnce  sync.Once
	stopWatch func() bool // stops the ctx watch that calls shutdown

	requestID string
	model     string
	created   int64
	usage     bool // stream_options.include_usage: send the usage chunk

	end    error // the sticky result once the stream is over
	stop   bool  // messageStop arrived: the answer is complete
	blocks []toolBlock
	tools  int // tool calls seen so far: the next tool call's index
}

// toolBlock ties a tool use content block to its OpenAI tool call index.
type toolBlock struct {
	block int32
	index int
}

// Recv returns the next chunk.
//
// It returns io.EOF once messageStop has arrived and the stream has ended
// (the metadata event after it, carrying usage, is awaited, but its
// absence loses nothing of the answer). A stream that ends before
// messageStop is a [*providers.Error] with Status 502 and Code
// [CodeStreamTruncated], never io.EOF. An exception in the stream is a
// [*providers.Error] with the status of that exception; an event that
// cannot be decoded is Code [CodeMalformedEvent]. A done ctx ends the
// stream as for Chat; after Close, Recv returns an error matching
// [providers.ErrStreamClosed]. A done ctx is io.EOF all the same once
// messageStop has arrived. Once Recv has returned an error, it returns
// the same error again.
func (s *stream) Recv() (openai.ChatCompletionStreamResponse, error) {
	var chunk openai.ChatCompletionStreamResponse
	if s.end != nil {
		return chunk, s.end
	}
	if s.closed.Load() {
		s.end = errStreamClosed
		return chunk, s.end
	}
	for {
		select {
		case <-s.done:
			s.end = s.stopped()
			return chunk, s.end
		case <-s.ctx.Done():
			s.end = s.stopped()
			return chunk, s.end
		case ev, ok := <-s.events:
			if !ok {
				s.end = s.finish()
				return chunk, s.end
			}
			emit, err := s.translate(ev, &chunk)
			if err != nil {
				s.end = err
				return openai.ChatCompletionStreamResponse{}, err
			}
			if emit {
				return chunk, nil
			}
		}
	}
}

// Close stops the upstream request (it closes the event stream, and with
// it the response body) and waits for the SDK's reader goroutines to
// end, so nothing the stream started outlives it. It is safe to call more
// than once and concurrently with Recv.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.stopWatch()
	s.shutdown()
	return nil
}

// shutdown closes the event stream, and with it the response body, and
// waits for the SDK's reader goroutines to end. It runs once, from Close
// or when the ctx is done.
func (s *stream) shutdown() {
	s.shutOnce.Do(func() {
		close(s.done)
		_ = s.es.Close()
		if r, ok := s.es.Reader.(interface{ Closed() <-chan struct{} }); ok {
			<-r.Closed()
		}
	})
}

// stopped is the end of a stream that Close or its ctx stopped: after
// Close, the stream is closed; after its ctx ended, a complete answer
// (messageStop seen) is still io.EOF, as nothing of it is lost, and
// anything else the ctx error.
func (s *stream) stopped() error {
	switch {
	case s.closed.Load():
		return errStreamClosed
	case s.stop:
		return io.EOF
	case s.ctx.Err() != nil:
		return providers.ContextError(s.ctx.Err())
	}
	return errStreamClosed
}

// finish decides what the end of the event channel means.
func (s *stream) finish() error {
	if s.closed.Load() {
		return errStreamClosed
	}
	if s.stop {
		// The answer is complete; a failure after messageStop (before or
		// instead of the metadata event) loses nothing of it.
		return io.EOF
	}
	if err := s.es.Err(); err != nil {
		return translate(s.ctx, s.st, s.requestID, err, inStream)
	}
	if s.ctx.Err() != nil {
		return s.stopped()
	}
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeStreamTruncated,
		Message: withRequestID("stream ended before messageStop", s.requestID),
		Err:     io.ErrUnexpectedEOF,
	}
}

func (s *stream) malformed(err error) error {
	return &providers.Error{
		Status:  providers.StatusTransport,
		Code:    CodeMalformedEvent,
		Message: withRequestID("malformed stream event", s.requestID),
		Err:     s.st.redactErr(err),
	}
}

// translate turns one event into chunk. It reports whether chunk is to
// be returned (events such as contentBlockStop carry nothing for the
// caller), or the error the event means.
func (s *stream) translate(ev types.ConverseStreamOutput, chunk *openai.ChatCompletionStreamResponse) (bool, error) {
	switch e := ev.(type) {
	case *types.ConverseStreamOutputMemberMessageStart:
		s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{Role: openai.ChatMessageRoleAssistant})
		return true, nil

	case *types.ConverseStreamOutputMemberContentBlockStart:
		tu, ok := e.Value.Start.(*types.ContentBlockStartMemberToolUse)
		if !ok || e.Value.ContentBlockIndex == nil {
			return false, nil
		}
		idx := s.tools
		s.tools++
		s.blocks = append(s.blocks, toolBlock{block: *e.Value.ContentBlockIndex, index: idx})
		s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{ToolCalls: []openai.ToolCall{{
			Index:    &idx,
			ID:       deref(tu.Value.ToolUseId),
			Type:     openai.ToolTypeFunction,
			Function: openai.FunctionCall{Name: deref(tu.Value.Name)},
		}}})
		return true, nil

	case *types.ConverseStreamOutputMemberContentBlockDelta:
		return s.contentDelta(&e.Value, chunk)

	case *types.ConverseStreamOutputMemberMessageStop:
		fr, err := finishReason(e.Value.StopReason, s.requestID)
		if err != nil {
			return false, err
		}
		s.stop = true
		s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{})
		chunk.Choices[0].FinishReason = fr
		return true, nil

	case *types.ConverseStreamOutputMemberMetadata:
		if !s.usage {
			return false, nil
		}
		u := usage(e.Value.Usage)
		s.header(chunk)
		chunk.Choices = []openai.ChatCompletionStreamChoice{}
		chunk.Usage = &u
		return true, nil
	}
	// contentBlockStop, and events newer than this package: nothing to
	// pass on.
	return false, nil
}

func (s *stream) contentDelta(e *types.ContentBlockDeltaEvent, chunk *openai.ChatCompletionStreamResponse) (bool, error) {
	switch d := e.Delta.(type) {
	case *types.ContentBlockDeltaMemberText:
		if d.Value == "" {
			return false, nil
		}
		s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{Content: d.Value})
		return true, nil
	case *types.ContentBlockDeltaMemberToolUse:
		idx, ok := s.toolIndex(e.ContentBlockIndex)
		if !ok {
			return false, s.malformed(errors.New("tool input for a content block that did not start as a tool use"))
		}
		s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{ToolCalls: []openai.ToolCall{{
			Index:    &idx,
			Function: openai.FunctionCall{Arguments: deref(d.Value.Input)},
		}}})
		return true, nil
	case *types.ContentBlockDeltaMemberReasoningContent:
		if t, ok := d.Value.(*types.ReasoningContentBlockDeltaMemberText); ok && t.Value != "" {
			s.delta(chunk, openai.ChatCompletionStreamChoiceDelta{ReasoningContent: t.Value})
			return true, nil
		}
	}
	// Signatures, redacted reasoning, citations, images: no place in a
	// go-openai chunk.
	return false, nil
}

func (s *stream) toolIndex(block *int32) (int, bool) {
	if block == nil {
		return 0, false
	}
	for _, b := range s.blocks {
		if b.block == *block {
			return b.index, true
		}
	}
	return 0, false
}

func (s *stream) header(chunk *openai.ChatCompletionStreamResponse) {
	chunk.ID = s.requestID
	chunk.Object = "chat.completion.chunk"
	chunk.Created = s.created
	chunk.Model = s.model
}

func (s *stream) delta(chunk *openai.ChatCompletionStreamResponse, d openai.ChatCompletionStreamChoiceDelta) {
	s.header(chunk)
	chunk.Choices = []openai.ChatCompletionStreamChoice{{Index: 0, Delta: d}}
}
