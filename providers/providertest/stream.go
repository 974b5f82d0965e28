package providertest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// maxChunks bounds how many chunks the suite reads from one stream, so a
// stream that never ends fails instead of running forever.
const maxChunks = 10000

// drained is what a stream delivered up to its first error.
type drained struct {
	text   string
	chunks int
	finish []openai.FinishReason
	ids    map[string]int // chunks per response id
	models map[string]int // chunks per model
	usage  *openai.Usage  // the last usage seen
	err    error
}

// drain reads st until Recv fails or, when text is not "", until it has
// delivered text.
func (c *call) drain(t *testing.T, st providers.Stream, text string) drained {
	t.Helper()
	d := drained{ids: map[string]int{}, models: map[string]int{}}
	for range maxChunks {
		if text != "" && d.text == text {
			return d
		}
		chunk, err := c.recv(t, st)
		if err != nil {
			d.err = err
			return d
		}
		d.chunks++
		d.ids[chunk.ID]++
		d.models[chunk.Model]++
		for _, ch := range chunk.Choices {
			d.text += ch.Delta.Content
			if ch.FinishReason != "" {
				d.finish = append(d.finish, ch.FinishReason)
			}
		}
		if chunk.Usage != nil {
			u := *chunk.Usage
			d.usage = &u
		}
	}
	t.Fatalf("stream delivered %d chunks without ending; want it to end", maxChunks)
	return d
}

// openStream starts the stream of a behaviour that has one.
func (c *call) openStream(t *testing.T, ctx context.Context) providers.Stream {
	t.Helper()
	st, err := c.chatStream(t, ctx)
	if err != nil {
		t.Fatalf("ChatStream error = %v; want a stream", err)
	}
	return st
}

func testStream(t *testing.T, c *call) {
	st := c.openStream(t, context.Background())
	defer c.close(t, st)
	d := c.drain(t, st, "")
	if d.err != io.EOF {
		t.Errorf("complete stream: Recv error = %v; want io.EOF itself after the answer", d.err)
	} else if _, err := c.recv(t, st); err != io.EOF {
		t.Errorf("complete stream: Recv after io.EOF error = %v; want io.EOF again", err)
	}
	c.checkStream(t, "complete stream", d)
	if d.usage == nil {
		if !c.h.Omits.StreamUsage {
			t.Errorf("complete stream reported no usage; want %+v (or Harness.Omits.StreamUsage set)", usage(c.b.Answer))
		}
	} else if diff := cmp.Diff(*d.usage, usage(c.b.Answer)); diff != "" {
		t.Errorf("complete stream usage mismatch (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(d.finish, []openai.FinishReason{openai.FinishReasonStop}); diff != "" {
		t.Errorf("complete stream finish reasons mismatch (-got +want):\n%s", diff)
	}
}

// checkStream checks what every stream must have delivered before it
// ended: the whole text the upstream sent (an answer is never garbled or
// cut short by the adapter), and one response id and model on every
// chunk.
func (c *call) checkStream(t *testing.T, what string, d drained) {
	t.Helper()
	if d.text != c.b.Answer.Text {
		t.Errorf("%s delivered text %q; want %q, every content event the upstream sent", what, d.text, c.b.Answer.Text)
	}
	if d.chunks == 0 {
		return
	}
	var id string
	for got := range d.ids {
		id = got
	}
	if diff := cmp.Diff(d.ids, map[string]int{c.wantID(id): d.chunks}); diff != "" {
		t.Errorf("%s chunk ids (id: chunks) mismatch (-got +want):\n%s", what, diff)
	}
	if diff := cmp.Diff(d.models, map[string]int{c.wantModel(): d.chunks}); diff != "" {
		t.Errorf("%s chunk models (model: chunks) mismatch (-got +want):\n%s", what, diff)
	}
}

// wantStreamEnd is a test of a stream that starts, delivers its content,
// then fails so.
func wantStreamEnd(want errWant) func(*testing.T, *call) {
	return func(t *testing.T, c *call) {
		what := fmt.Sprintf("stream ending %v", c.b.Ending)
		st := c.openStream(t, context.Background())
		defer c.close(t, st)
		d := c.drain(t, st, "")
		checkFailure(t, what+": Recv", d.err, want)
		c.checkStream(t, what, d)
		if d.err != nil && d.err != io.EOF {
			// A caller that asks again must not be told the answer is
			// over, nor handed another chunk.
			_, err := c.recv(t, st)
			checkFailure(t, what+": Recv after it failed", err, errWant{})
		}
	}
}

// testStallDeadline: the stream stops sending and the deadline passes.
func testStallDeadline(t *testing.T, c *call) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	st := c.openStream(t, ctx)
	defer c.close(t, st)
	d := c.drain(t, st, "")
	took := time.Since(start)
	checkFailure(t, "stalled stream past its deadline: Recv", d.err, errWant{status: providers.StatusTimeout, is: context.DeadlineExceeded})
	c.checkStream(t, "stalled stream", d)
	if took > deadline+promptly {
		t.Errorf("stalled stream past its %v deadline ended after %v; want it to end when its ctx is done", deadline, took)
	}
}

// stalled opens the stream and reads its content, up to the stall.
func (c *call) stalled(t *testing.T, ctx context.Context) providers.Stream {
	t.Helper()
	st := c.openStream(t, ctx)
	d := c.drain(t, st, c.b.Answer.Text)
	c.checkStream(t, "stalled stream", d)
	if d.err != nil {
		c.close(t, st)
		t.Fatalf("stalled stream: Recv error = %v before the stall; want the content", d.err)
	}
	return st
}

// testStallCanceled: the stream stops sending and the caller cancels.
func testStallCanceled(t *testing.T, c *call) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := c.stalled(t, ctx)
	defer c.close(t, st)
	timer := time.AfterFunc(cancelIn, cancel)
	defer timer.Stop()
	start := time.Now()
	_, err := c.recv(t, st)
	took := time.Since(start)
	checkFailure(t, "stalled stream cancelled: Recv", err, errWant{is: context.Canceled})
	if took > cancelIn+promptly {
		t.Errorf("stalled stream cancelled after %v: Recv returned after %v; want it to end when its ctx is done", cancelIn, took)
	}
}

// testStallClose: the stream stops sending and the caller closes it from
// another goroutine while Recv waits.
func testStallClose(t *testing.T, c *call) {
	st := c.stalled(t, context.Background())
	var wg sync.WaitGroup
	var closeErr error
	wg.Go(func() {
		time.Sleep(cancelIn)
		closeErr = st.Close()
	})
	start := time.Now()
	_, err := c.recv(t, st)
	took := time.Since(start)
	if !within(hang, wg.Wait) {
		t.Fatalf("Close from another goroutine still running after %v; want it to return", hang)
	}
	c.checkKey(t, "Close", closeErr)
	checkFailure(t, "stalled stream closed while Recv waits: Recv", err, errWant{is: providers.ErrStreamClosed})
	if took > cancelIn+promptly {
		t.Errorf("stalled stream closed after %v: Recv returned after %v; want Close to unblock it", cancelIn, took)
	}
	_, err = c.recv(t, st)
	checkFailure(t, "Recv after Close", err, errWant{is: providers.ErrStreamClosed})
	c.close(t, st) // again: Close is safe to repeat
}
