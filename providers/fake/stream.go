package fake

import (
	"context"
	"io"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// ChatStream answers with the next step of the model's script. It waits
// out the step's [Step.After] (the response headers), then returns the
// step's failure or a stream that sends, one chunk per Recv:
//
//   - a first chunk whose delta carries the role "assistant" (after
//     [Step.FirstChunkAfter]);
//   - one chunk per content chunk (each after [Step.Every]);
//   - a last chunk with an empty delta and the finish reason;
//   - when the request set StreamOptions.IncludeUsage, a chunk with no
//     choices and the usage;
//
// and then io.EOF, as a provider's complete answer does whether or not it
// sent "data: [DONE]". [Step.StallAfter], [Step.CutAfter],
// [Step.MalformedAfter], [Step.ErrorAfter] and [Step.InBand] end the
// stream early instead.
//
// The stream starts no goroutine: Recv waits inline. Close is safe to call
// more than once, concurrently with a blocked Recv, and after Recv failed;
// Recv after Close returns [ErrStreamClosed]. Cancelling ctx ends the
// stream too.
func (p *Provider) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	ctx = orBackground(ctx)
	st, id := p.begin(Call{Op: providers.OpChat, Stream: true, Model: req.Request.Model, Chat: req.Request, Call: req.Call})
	if err := wait(ctx, st.delay, st.hang, nil); err != nil {
		return nil, err
	}
	failure := st.failure()
	if failure != nil && !st.inBand {
		return nil, failure
	}
	s := &stream{ctx: ctx, closed: make(chan struct{})}
	if failure != nil {
		s.endWait, s.end = st.firstChunk, failure
		return s, nil
	}

	base := openai.ChatCompletionStreamResponse{
		ID:      id,
		Object:  "chat.completion.chunk",
		Created: time.Now().Unix(),
		Model:   req.Request.Model,
	}
	chunk := func(d openai.ChatCompletionStreamChoiceDelta, finish openai.FinishReason) openai.ChatCompletionStreamResponse {
		c := base
		c.Choices = []openai.ChatCompletionStreamChoice{{Delta: d, FinishReason: finish}}
		return c
	}
	s.add(st.firstChunk, chunk(openai.ChatCompletionStreamChoiceDelta{Role: openai.ChatMessageRoleAssistant}, ""))
	contents := st.contentChunks()
	if st.fault != faultNone {
		contents = contents[:min(st.faultAfter, len(contents))]
	}
	for _, text := range contents {
		s.add(st.every, chunk(openai.ChatCompletionStreamChoiceDelta{Content: text}, ""))
	}

	switch st.fault {
	case faultStall:
		s.stall = true
		return s, nil
	case faultCut:
		s.endWait = st.every
		s.end = &providers.Error{
			Status:  providers.StatusTransport,
			Code:    providers.CodeStreamTruncated,
			Message: "stream ended before a finish reason",
			Err:     io.ErrUnexpectedEOF,
		}
		return s, nil
	case faultMalformed:
		s.endWait = st.every
		s.end = &providers.Error{
			Status:  providers.StatusTransport,
			Code:    providers.CodeMalformedEvent,
			Message: "malformed stream event",
		}
		return s, nil
	case faultError:
		s.endWait = st.every
		e := st.faultErr // each stream its own copy
		s.end = &e
		return s, nil
	}

	// The finish and usage chunks follow the last content at once.
	s.add(0, chunk(openai.ChatCompletionStreamChoiceDelta{}, st.finishReason()))
	if so := req.Request.StreamOptions; so != nil && so.IncludeUsage {
		c := base
		c.Choices = []openai.ChatCompletionStreamChoice{}
		u := st.usageFor(chatWords(req.Request))
		c.Usage = &u
		s.add(0, c)
	}
	s.end = io.EOF
	return s, nil
}

// stream is a scripted providers.Stream. Its events are fixed when it is
// made; Recv plays them back.
type stream struct {
	ctx    context.Context
	events []event
	next   int // next event to send

	// After the events: wait endWait, then return end (io.EOF or a
	// failure) for good; or, with stall set, block until closed or done.
	endWait time.Duration
	end     error
	stall   bool
	ended   bool // end has been returned

	closed    chan struct{}
	closeOnce sync.Once
}

type event struct {
	wait  time.Duration
	chunk openai.ChatCompletionStreamResponse
}

func (s *stream) add(wait time.Duration, c openai.ChatCompletionStreamResponse) {
	s.events = append(s.events, event{wait: wait, chunk: c})
}

// Recv returns the next chunk, waiting as scripted.
func (s *stream) Recv() (openai.ChatCompletionStreamResponse, error) {
	select {
	case <-s.closed:
		return openai.ChatCompletionStreamResponse{}, ErrStreamClosed
	default:
	}
	if s.next < len(s.events) {
		ev := s.events[s.next]
		if err := wait(s.ctx, ev.wait, false, s.closed); err != nil {
			return openai.ChatCompletionStreamResponse{}, err
		}
		s.next++
		return ev.chunk, nil
	}
	if s.ended || s.end == io.EOF {
		// The answer is over; a later cancellation changes nothing.
		return openai.ChatCompletionStreamResponse{}, s.end
	}
	if err := wait(s.ctx, s.endWait, s.stall, s.closed); err != nil {
		return openai.ChatCompletionStreamResponse{}, err
	}
	s.ended = true
	return openai.ChatCompletionStreamResponse{}, s.end
}

// Close ends the stream; a blocked Recv returns [ErrStreamClosed].
func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}
