package anthropic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/ssestream"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// ChatStream starts one streaming Messages API request translated from
// req.Request, as [Provider.Chat] does. It returns once the response
// headers have arrived; an error status is a [*providers.Error] as for
// Chat.
//
// The stream turns Anthropic's events into go-openai chunks; see the
// package documentation for how, and for what Recv returns. The stream
// is read by one goroutine at a time. Close it when done, on every path:
// Close may be called from any goroutine, also to abort a blocked Recv,
// and more than once. Cancelling ctx also ends the stream.
func (p *Provider) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	if !p.usable() {
		return nil, errNotCreated
	}
	if ctx == nil {
		ctx = context.Background()
	}
	params, err := buildParams(&req.Request, req.Extra)
	if err != nil {
		return nil, err
	}
	s := &stream{
		st:           callState{parent: ctx},
		includeUsage: req.Request.StreamOptions != nil && req.Request.StreamOptions.IncludeUsage,
		created:      time.Now().Unix(),
	}
	// The stream's own ctx: Close cancels it, which stops the request
	// whatever state its connection is in.
	var sctx context.Context
	sctx, s.cancel = context.WithCancel(ctx)
	s.st.ctx = context.WithValue(sctx, stateKey{}, &s.st)
	var raw *http.Response
	s.events = p.client.Messages.NewStreaming(s.st.ctx, params, append(p.callOptions(&req.Call), option.WithResponseInto(&raw))...)
	if err := s.events.Err(); err != nil {
		s.release()
		return nil, s.st.translate(err)
	}
	if raw != nil {
		s.limits = providers.ParseRateLimits(raw.Header, time.Now())
	}
	return s, nil
}

// RateLimits implements [providers.RateLimitReporter]: what the
// response's anthropic-ratelimit-* headers said. They are read before the
// stream is returned and never change.
func (s *stream) RateLimits() providers.RateLimits { return s.limits }

// errStreamClosed is what Recv returns once Close has been called.
var errStreamClosed = fmt.Errorf("anthropic: %w", providers.ErrStreamClosed)

// stream is a providers.Stream over one Messages API event stream.
//
// Recv is used by one goroutine at a time; Close may be called from any
// goroutine, also while Recv is blocked, and is safe to call repeatedly.
type stream struct {
	st           callState
	cancel       context.CancelFunc
	events       *ssestream.Stream[sdk.MessageStreamEventUnion]
	closed       atomic.Bool
	includeUsage bool

	end     error                                   // the sticky result once the stream is over
	done    bool                                    // message_stop arrived
	pending []goopenai.ChatCompletionStreamResponse // chunks of the last event
	next    int                                     // the first of pending not yet returned

	id, model string
	created   int64
	stop      sdk.StopReason
	usage     streamUsage
	toolIndex []int // content block index → tool call index + 1; 0: not a tool_use block
	tools     int   // tool_use blocks seen

	limits providers.RateLimits // read-only
}

// streamUsage is the usage a stream reports, as the latest event says.
type streamUsage struct {
	input, cacheRead, cacheWrite, output, thinking int64
}

// Recv returns the next chunk.
//
// It returns io.EOF once message_stop has arrived and its chunks have
// been returned. A body that ends before message_stop, however it ends,
// is a [*providers.Error] with Status 502 and Code [CodeStreamTruncated];
// an error event is a [*providers.Error] as described in the package
// documentation; an event that cannot be decoded is Code
// [CodeMalformedEvent]. A done ctx ends the stream as for Chat, and after
// Close, Recv returns an error matching [providers.ErrStreamClosed]. Once
// Recv has returned an error, it returns the same error again until
// Close.
func (s *stream) Recv() (goopenai.ChatCompletionStreamResponse, error) {
	var chunk goopenai.ChatCompletionStreamResponse
	if s.closed.Load() {
		return chunk, errStreamClosed
	}
	if s.end != nil {
		return chunk, s.end
	}
	if s.next == len(s.pending) {
		// Reuse the queue's array for the next event's chunks.
		s.pending, s.next = s.pending[:0], 0
	}
	for len(s.pending) == 0 {
		if s.done {
			s.end = io.EOF
			s.release()
			return chunk, s.end
		}
		if !s.events.Next() {
			s.end = s.failure(s.events.Err())
			s.release()
			return chunk, s.end
		}
		ev := s.events.Current()
		if err := s.event(&ev); err != nil {
			s.end = s.st.translate(&malformedEvent{cause: err})
			s.release()
			return chunk, s.end
		}
	}
	chunk = s.pending[s.next]
	s.pending[s.next] = goopenai.ChatCompletionStreamResponse{}
	s.next++
	return chunk, nil
}

// failure is what a stream that stopped before message_stop comes to.
func (s *stream) failure(err error) error {
	if s.closed.Load() {
		return errStreamClosed
	}
	var apiErr *sdk.Error
	switch {
	case errors.As(err, &apiErr):
	case isDecodeError(err):
		err = &malformedEvent{cause: err}
	default:
		// Read errors (reset, unexpected EOF) and a clean end alike:
		// the SDK reports a body that just stopped as a clean end.
		err = &streamCut{cause: err}
	}
	return s.st.translate(err)
}

// isDecodeError reports whether err is the SDK's failure to decode an
// event: its data is not JSON, does not decode as an event, or is a line
// longer than the SDK reads.
func isDecodeError(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, bufio.ErrTooLong)
}

// Close stops the upstream request. It is safe to call more than once
// and concurrently with Recv.
func (s *stream) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.release()
	return nil
}

// release cancels the request and closes its body.
func (s *stream) release() {
	s.cancel()
	_ = s.events.Close()
}

// event turns one event into the chunks it stands for, appended to
// s.pending. An event this package reads that lacks what it needs (the
// SDK decodes leniently: a field of the wrong type is left empty) is an
// error rather than content silently lost.
func (s *stream) event(ev *sdk.MessageStreamEventUnion) error {
	if !ev.JSON.Type.Valid() || ev.Type == "" {
		return errors.New("event has no type: " + truncate(ev.RawJSON(), 80))
	}
	if (ev.Type == "content_block_start" || ev.Type == "content_block_delta") && !ev.JSON.Index.Valid() {
		return errors.New(ev.Type + " has no index")
	}
	switch ev.Type {
	case "message_start":
		s.id, s.model = ev.Message.ID, ev.Message.Model
		u := &ev.Message.Usage
		s.usage = streamUsage{
			input: u.InputTokens, cacheRead: u.CacheReadInputTokens, cacheWrite: u.CacheCreationInputTokens,
			output: u.OutputTokens, thinking: u.OutputTokensDetails.ThinkingTokens,
		}
		s.emit(goopenai.ChatCompletionStreamChoiceDelta{Role: goopenai.ChatMessageRoleAssistant})
	case "content_block_start":
		b := &ev.ContentBlock
		switch b.Type {
		case "text":
			if b.Text != "" {
				s.emit(goopenai.ChatCompletionStreamChoiceDelta{Content: b.Text})
			}
		case "thinking":
			if b.Thinking != "" {
				s.emit(goopenai.ChatCompletionStreamChoiceDelta{ReasoningContent: b.Thinking})
			}
		case "tool_use":
			if !b.JSON.ID.Valid() || !b.JSON.Name.Valid() {
				return errors.New("tool_use block without its id or name")
			}
			// OpenAI numbers tool calls; Anthropic numbers content
			// blocks, text and thinking included.
			k := s.tools
			s.tools++
			s.setToolIndex(ev.Index, k)
			s.emit(goopenai.ChatCompletionStreamChoiceDelta{ToolCalls: []goopenai.ToolCall{{
				Index:    &k,
				ID:       b.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: b.Name},
			}}})
		}
	case "content_block_delta":
		d := &ev.Delta
		switch d.Type {
		case "text_delta":
			if !d.JSON.Text.Valid() {
				return errors.New("text_delta without text")
			}
			if d.Text != "" {
				s.emit(goopenai.ChatCompletionStreamChoiceDelta{Content: d.Text})
			}
		case "thinking_delta":
			if !d.JSON.Thinking.Valid() {
				return errors.New("thinking_delta without thinking")
			}
			if d.Thinking != "" {
				s.emit(goopenai.ChatCompletionStreamChoiceDelta{ReasoningContent: d.Thinking})
			}
		case "input_json_delta":
			if !d.JSON.PartialJSON.Valid() {
				return errors.New("input_json_delta without partial_json")
			}
			// The input of a server tool's block is not a tool call.
			if k, ok := s.toolIndexOf(ev.Index); ok && d.PartialJSON != "" {
				s.emit(goopenai.ChatCompletionStreamChoiceDelta{ToolCalls: []goopenai.ToolCall{{
					Index:    &k,
					Function: goopenai.FunctionCall{Arguments: d.PartialJSON},
				}}})
			}
		}
	case "message_delta":
		if ev.Delta.StopReason != "" {
			s.stop = ev.Delta.StopReason
		}
		// Counts in message_delta are totals so far, not increments.
		u := &ev.Usage
		set := func(dst *int64, v int64, present bool) {
			if present {
				*dst = v
			}
		}
		set(&s.usage.input, u.InputTokens, u.JSON.InputTokens.Valid())
		set(&s.usage.cacheRead, u.CacheReadInputTokens, u.JSON.CacheReadInputTokens.Valid())
		set(&s.usage.cacheWrite, u.CacheCreationInputTokens, u.JSON.CacheCreationInputTokens.Valid())
		set(&s.usage.output, u.OutputTokens, u.JSON.OutputTokens.Valid())
		set(&s.usage.thinking, u.OutputTokensDetails.ThinkingTokens, u.OutputTokensDetails.JSON.ThinkingTokens.Valid())
	case "message_stop":
		s.done = true
		use := usage(s.usage.input, s.usage.cacheRead, s.usage.cacheWrite, s.usage.output, s.usage.thinking)
		finish := s.chunk()
		finish.Choices = []goopenai.ChatCompletionStreamChoice{{FinishReason: finishReason(s.stop)}}
		if !s.includeUsage {
			// Without stream_options.include_usage OpenAI reports no
			// usage; the finish chunk carries it anyway, so that the
			// routing layer and the caller can count tokens.
			finish.Usage = &use
			s.pending = append(s.pending, finish)
			return nil
		}
		last := s.chunk()
		last.Choices = []goopenai.ChatCompletionStreamChoice{}
		last.Usage = &use
		s.pending = append(s.pending, finish, last)
	}
	// ping is skipped by the SDK; content_block_stop, signature and
	// citation deltas, and event types this package does not know carry
	// nothing a chunk can hold.
	return nil
}

// chunk returns an empty chunk of this stream.
func (s *stream) chunk() goopenai.ChatCompletionStreamResponse {
	return goopenai.ChatCompletionStreamResponse{
		ID:      s.id,
		Object:  "chat.completion.chunk",
		Created: s.created,
		Model:   s.model,
	}
}

// emit queues a chunk with one choice carrying d.
func (s *stream) emit(d goopenai.ChatCompletionStreamChoiceDelta) {
	c := s.chunk()
	c.Choices = []goopenai.ChatCompletionStreamChoice{{Delta: d}}
	s.pending = append(s.pending, c)
}

// maxBlocks bounds the content block indexes tracked for tool calls, so
// that a hostile index cannot make the stream allocate without bound.
const maxBlocks = 4096

func (s *stream) setToolIndex(block int64, k int) {
	if block < 0 || block >= maxBlocks {
		return
	}
	if int(block) >= len(s.toolIndex) {
		s.toolIndex = append(s.toolIndex, make([]int, int(block)+1-len(s.toolIndex))...)
	}
	s.toolIndex[block] = k + 1
}

func (s *stream) toolIndexOf(block int64) (int, bool) {
	if block < 0 || block >= int64(len(s.toolIndex)) || s.toolIndex[block] == 0 {
		return 0, false
	}
	return s.toolIndex[block] - 1, true
}
