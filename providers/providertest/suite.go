package providertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Waits the suite gives a provider. The short ones are how long the
// upstream stays silent before the call's ctx ends; promptly bounds how
// long a call may take to notice: it catches a call that hangs, not one
// that is slow, so it is generous.
const (
	deadline = 300 * time.Millisecond
	cancelIn = 50 * time.Millisecond
	promptly = 5 * time.Second
)

// maxChunks bounds how many chunks the suite reads from one stream, so a
// stream that never ends fails instead of running forever.
const maxChunks = 10000

// Run runs the contract suite against the provider h makes: one subtest
// per behaviour, each with a provider of its own making one call (see
// [Harness]). Streaming subtests are skipped when the provider is not a
// [providers.Streamer], embedding subtests when it is not a
// [providers.Embedder].
//
// Every subtest also checks that no goroutine the call started outlives
// it, that h.Key appears in no error, and, when h.New started a server
// with [Serve] for the subtest, that the call sent exactly one request (an
// adapter never retries: the routing layer does) and, when it gave up on
// a request, that it let go of the connection.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("providertest.Run: Harness.New is nil")
	}
	if h.Model == "" {
		t.Fatal("providertest.Run: Harness.Model is empty")
	}
	for _, tc := range cases(h) {
		t.Run(tc.name, func(t *testing.T) {
			p := h.New(t, tc.b)
			if p == nil {
				t.Fatalf("Harness.New(%+v) = nil; want a provider", tc.b)
			}
			switch {
			case tc.b.Stream:
				if _, ok := p.(providers.Streamer); !ok {
					t.Skipf("%T is not a providers.Streamer", p)
				}
			case tc.b.Embed:
				if _, ok := p.(providers.Embedder); !ok {
					t.Skipf("%T is not a providers.Embedder", p)
				}
			}
			c := &call{h: h, p: p, b: tc.b, srvs: serversOf(t)}
			id := tracked(func() { tc.test(t, c) })
			noLeak(t, tc.name, id)
			c.checkRequests(t, tc)
		})
	}
}

// testCase is one subtest: a behaviour and the call that checks what the
// provider makes of it.
type testCase struct {
	name string
	b    Behaviour
	test func(t *testing.T, c *call)
	// holds: the behaviour keeps the request open, so the call must
	// give it up and the server see its client go.
	holds bool
}

// call is what a subtest works with.
type call struct {
	h    Harness
	p    providers.Provider
	b    Behaviour
	srvs []*Server // the servers h.New started with Serve, if any
}

func cases(h Harness) []testCase {
	answer := Answer{
		ID:               "resp-providertest-7f3a9c",
		Model:            h.Model + "-2025-06-01",
		Text:             "Hello from the contract suite, sent in five parts.",
		PromptTokens:     12,
		CompletionTokens: 9,
	}
	fault := func(f Fault, retryAfter string) Behaviour {
		return Behaviour{Fault: f, RetryAfter: retryAfter, Answer: answer}
	}
	stream := func(b Behaviour) Behaviour {
		b.Stream = true
		return b
	}
	ending := func(chunks int, e Ending, f Fault) Behaviour {
		return Behaviour{Stream: true, Answer: answer, Chunks: chunks, Ending: e, Fault: f}
	}
	// An HTTP date has whole seconds: ask for 30 s ahead and accept what
	// a whole-second date and a little lag make of it.
	date := func() string { return time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat) }

	return []testCase{
		{name: "Chat/Answer", b: Behaviour{Answer: answer}, test: testChat},
		{name: "Chat/RateLimited/Seconds", b: fault(FaultRateLimited, "7"), test: wantFailure(errWant{status: 429, retryAfter: 7 * time.Second})},
		{name: "Chat/RateLimited/Date", b: fault(FaultRateLimited, date()), test: wantFailure(errWant{status: 429, retryAfterMin: 25 * time.Second, retryAfter: 31 * time.Second})},
		{name: "Chat/ServerError", b: fault(FaultServerError, ""), test: wantFailure(errWant{status: 500})},
		{name: "Chat/BadRequest", b: fault(FaultBadRequest, ""), test: wantFailure(errWant{status: 400, anyCode: true})},
		{name: "Chat/ContextLength", b: fault(FaultContextLength, ""), test: wantFailure(errWant{status: 400, code: "context_length_exceeded"})},
		{name: "Chat/Overloaded", b: fault(FaultOverloaded, ""), test: wantFailure(errWant{status: 503})},
		{name: "Chat/Deadline", b: Behaviour{Silent: true, Answer: answer}, test: testDeadline, holds: true},
		{name: "Chat/Canceled", b: Behaviour{Silent: true, Answer: answer}, test: testCanceled, holds: true},

		{name: "Stream/Answer", b: ending(5, EndComplete, 0), test: testStream},
		{name: "Stream/RateLimited", b: stream(fault(FaultRateLimited, "7")), test: wantFailure(errWant{status: 429, retryAfter: 7 * time.Second})},
		{name: "Stream/ContextLength", b: stream(fault(FaultContextLength, "")), test: wantFailure(errWant{status: 400, code: "context_length_exceeded"})},
		{name: "Stream/Overloaded", b: stream(fault(FaultOverloaded, "")), test: wantFailure(errWant{status: 503})},
		{name: "Stream/Deadline", b: stream(Behaviour{Silent: true, Answer: answer}), test: testDeadline, holds: true},
		{name: "Stream/Cut", b: ending(3, EndCut, 0), test: wantStreamEnd(errWant{status: 502, code: providers.CodeStreamTruncated})},
		{name: "Stream/Malformed", b: ending(2, EndMalformed, 0), test: wantStreamEnd(errWant{status: 502, code: providers.CodeMalformedEvent})},
		{name: "Stream/ErrorEvent/Overloaded", b: ending(2, EndError, FaultOverloaded), test: wantStreamEnd(errWant{status: 503})},
		{name: "Stream/ErrorEvent/ServerError", b: ending(2, EndError, FaultServerError), test: wantStreamEnd(errWant{status: 500})},
		{name: "Stream/Stall/Deadline", b: ending(2, EndStall, 0), test: testStallDeadline, holds: true},
		{name: "Stream/Stall/Canceled", b: ending(2, EndStall, 0), test: testStallCanceled, holds: true},
		{name: "Stream/Stall/Close", b: ending(2, EndStall, 0), test: testStallClose, holds: true},

		{name: "Embed/Answer", b: Behaviour{Embed: true, Answer: answer, Vectors: [][]float32{{0.25, -0.5, 1}, {0.125, 0.75, -1}}}, test: testEmbed},
		{name: "Embed/RateLimited", b: Behaviour{Embed: true, Fault: FaultRateLimited, RetryAfter: "7", Answer: answer}, test: wantFailure(errWant{status: 429, retryAfter: 7 * time.Second})},
	}
}

// chatRequest is the request of every chat call: the harness's model and
// one short user message; a stream asks for usage, as OpenAI needs.
func (c *call) chatRequest() providers.ChatRequest {
	r := openai.ChatCompletionRequest{
		Model:    c.h.Model,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Say hello."}},
	}
	if c.b.Stream {
		r.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	return providers.ChatRequest{Request: r}
}

// do makes the call of a behaviour that fails before any answer, and
// returns its error. A stream must fail in ChatStream itself: one it hands
// out is read to its end, closed, and counted a failure.
func (c *call) do(t *testing.T, ctx context.Context) error {
	t.Helper()
	switch {
	case c.b.Stream:
		st, err := c.p.(providers.Streamer).ChatStream(ctx, c.chatRequest())
		if err != nil {
			c.checkErr(t, "ChatStream", err)
			return err
		}
		defer st.Close()
		d := c.drain(t, st)
		t.Errorf("ChatStream returned a stream (then Recv error = %v); want the upstream's failure from ChatStream itself", d.err)
		return d.err
	case c.b.Embed:
		_, err := c.p.(providers.Embedder).Embed(ctx, c.embedRequest())
		c.checkErr(t, "Embed", err)
		return err
	}
	_, err := c.p.Chat(ctx, c.chatRequest())
	c.checkErr(t, "Chat", err)
	return err
}

func (c *call) embedRequest() providers.EmbeddingRequest {
	in := make([]string, len(c.b.Vectors))
	for i := range in {
		in[i] = fmt.Sprintf("input %d", i)
	}
	if len(in) == 0 {
		in = []string{"input"}
	}
	return providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Input: in, Model: openai.EmbeddingModel(c.h.Model)}}
}

// wantID and wantModel are the response id and model a successful call
// must return: the answer's, unless the wire cannot carry them.
func (c *call) wantID(got string) string {
	if c.h.Omits.ID && got != "" {
		return got
	}
	return c.b.Answer.ID
}

func (c *call) wantModel() string {
	if c.h.Omits.Model {
		return c.h.Model
	}
	return c.b.Answer.Model
}

func testChat(t *testing.T, c *call) {
	resp, err := c.p.Chat(context.Background(), c.chatRequest())
	if err != nil {
		c.checkErr(t, "Chat", err)
		t.Fatalf("Chat error = %v; want the answer", err)
	}
	a := c.b.Answer
	type summary struct {
		ID, Model, Role, Content string
		Finish                   openai.FinishReason
		Usage                    openai.Usage
	}
	got := summary{ID: resp.ID, Model: resp.Model, Usage: resp.Usage}
	if len(resp.Choices) != 1 {
		t.Errorf("Chat answered %d choices; want 1", len(resp.Choices))
	}
	if len(resp.Choices) > 0 {
		ch := resp.Choices[0]
		got.Role, got.Content, got.Finish = ch.Message.Role, ch.Message.Content, ch.FinishReason
	}
	want := summary{
		ID:      c.wantID(resp.ID),
		Model:   c.wantModel(),
		Role:    openai.ChatMessageRoleAssistant,
		Content: a.Text,
		Finish:  openai.FinishReasonStop,
		Usage:   usage(a),
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Chat answer mismatch (-got +want):\n%s", diff)
	}
}

func usage(a Answer) openai.Usage {
	return openai.Usage{
		PromptTokens:     a.PromptTokens,
		CompletionTokens: a.CompletionTokens,
		TotalTokens:      a.PromptTokens + a.CompletionTokens,
	}
}

func testEmbed(t *testing.T, c *call) {
	req := c.embedRequest()
	resp, err := c.p.(providers.Embedder).Embed(context.Background(), req)
	if err != nil {
		c.checkErr(t, "Embed", err)
		t.Fatalf("Embed error = %v; want the vectors", err)
	}
	type vector struct {
		Index     int
		Embedding []float32
	}
	var got, want []vector
	for _, d := range resp.Data {
		got = append(got, vector{d.Index, d.Embedding})
	}
	for i, v := range c.b.Vectors {
		want = append(want, vector{i, v})
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Embed vectors mismatch (-got +want):\n%s", diff)
	}
	if got, want := resp.Usage.PromptTokens, c.b.Answer.PromptTokens; got != want {
		t.Errorf("Embed usage prompt tokens = %d; want %d", got, want)
	}
}

// errWant is the error a behaviour must come to.
type errWant struct {
	status  int
	code    string // exact Code, if not ""
	anyCode bool   // any non-empty Code
	// retryAfter is the RetryAfter wanted; with retryAfterMin, the most
	// of a range.
	retryAfter, retryAfterMin time.Duration
	is                        error // errors.Is target, if not nil
}

func (w errWant) String() string {
	var parts []string
	if w.status != 0 {
		parts = append(parts, fmt.Sprintf("status %d", w.status))
	}
	switch {
	case w.code != "":
		parts = append(parts, fmt.Sprintf("code %q", w.code))
	case w.anyCode:
		parts = append(parts, "a provider code")
	}
	switch {
	case w.retryAfterMin > 0:
		parts = append(parts, fmt.Sprintf("retry after %v to %v", w.retryAfterMin, w.retryAfter))
	case w.retryAfter > 0:
		parts = append(parts, fmt.Sprintf("retry after %v", w.retryAfter))
	}
	if w.is != nil {
		parts = append(parts, fmt.Sprintf("matching %v", w.is))
	}
	return strings.Join(parts, ", ")
}

// checkFailure reports how err differs from want; what names the call.
func checkFailure(t *testing.T, what string, err error, want errWant) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s error = nil; want an error with %v", what, want)
		return
	case errors.Is(err, io.EOF):
		t.Errorf("%s error = %v, matching io.EOF; want an error with %v (a failure must never look like the end of an answer)", what, err, want)
		return
	}
	if want.is != nil && !errors.Is(err, want.is) {
		t.Errorf("%s error = %v (%T), not matching %v; want an error with %v", what, err, err, want.is, want)
	}
	if want.status == 0 && want.code == "" && !want.anyCode && want.retryAfter == 0 {
		return
	}
	pe, ok := providers.FromError(err)
	if !ok {
		t.Errorf("%s error = %v (%T), with no status; want a *providers.Error with %v", what, err, err, want)
		return
	}
	if want.status != 0 && pe.Status != want.status {
		t.Errorf("%s error status = %d (%v); want %d", what, pe.Status, err, want.status)
	}
	if want.code != "" && pe.Code != want.code {
		t.Errorf("%s error code = %q (%v); want %q", what, pe.Code, err, want.code)
	}
	if want.anyCode && pe.Code == "" {
		t.Errorf("%s error code is empty (%v); want the provider's code", what, err)
	}
	switch {
	case want.retryAfterMin > 0:
		if pe.RetryAfter < want.retryAfterMin || pe.RetryAfter > want.retryAfter {
			t.Errorf("%s error RetryAfter = %v; want %v to %v", what, pe.RetryAfter, want.retryAfterMin, want.retryAfter)
		}
	case want.retryAfter > 0:
		if pe.RetryAfter != want.retryAfter {
			t.Errorf("%s error RetryAfter = %v; want %v", what, pe.RetryAfter, want.retryAfter)
		}
	}
}

// wantFailure is a test that makes the call and wants it to fail so; a
// stream must fail in ChatStream, before it is handed out.
func wantFailure(want errWant) func(*testing.T, *call) {
	return func(t *testing.T, c *call) {
		err := c.do(t, context.Background())
		checkFailure(t, c.name(), err, want)
	}
}

// name names the call for failure messages.
func (c *call) name() string {
	switch {
	case c.b.Stream:
		return "ChatStream"
	case c.b.Embed:
		return "Embed"
	}
	return "Chat"
}

// testDeadline: the upstream never answers and the call's deadline
// passes.
func testDeadline(t *testing.T, c *call) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := c.do(t, ctx)
	took := time.Since(start)
	checkFailure(t, c.name()+" past its deadline", err, errWant{status: providers.StatusTimeout, is: context.DeadlineExceeded})
	if took > promptly {
		t.Errorf("%s past its %v deadline returned after %v; want it to stop when its ctx is done", c.name(), deadline, took)
	}
}

// testCanceled: the upstream never answers and the caller cancels.
func testCanceled(t *testing.T, c *call) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(cancelIn, cancel)
	defer timer.Stop()
	start := time.Now()
	err := c.do(t, ctx)
	took := time.Since(start)
	checkFailure(t, c.name()+" cancelled", err, errWant{is: context.Canceled})
	if took > promptly {
		t.Errorf("%s cancelled after %v returned after %v; want it to stop when its ctx is done", c.name(), cancelIn, took)
	}
}

// drained is what a stream delivered up to its first error.
type drained struct {
	text    string
	chunks  int
	finish  []openai.FinishReason
	ids     map[string]int
	models  map[string]int
	usage   *openai.Usage
	err     error
	tooMany bool
}

// drain reads st until Recv fails, or until it has delivered text when
// text is not "".
func (c *call) drain(t *testing.T, st providers.Stream) drained {
	t.Helper()
	return c.drainUntil(t, st, "")
}

func (c *call) drainUntil(t *testing.T, st providers.Stream, text string) drained {
	t.Helper()
	d := drained{ids: map[string]int{}, models: map[string]int{}}
	for range maxChunks {
		if text != "" && d.text == text {
			return d
		}
		chunk, err := st.Recv()
		if err != nil {
			c.checkErr(t, "Recv", err)
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
	d.tooMany = true
	t.Errorf("stream delivered %d chunks without ending; want it to end", maxChunks)
	return d
}

// openStream starts the stream of a behaviour that has one.
func (c *call) openStream(t *testing.T, ctx context.Context) providers.Stream {
	t.Helper()
	st, err := c.p.(providers.Streamer).ChatStream(ctx, c.chatRequest())
	if err != nil {
		c.checkErr(t, "ChatStream", err)
		t.Fatalf("ChatStream error = %v; want a stream", err)
	}
	if st == nil {
		t.Fatal("ChatStream = nil, nil; want a stream")
	}
	return st
}

func testStream(t *testing.T, c *call) {
	st := c.openStream(t, context.Background())
	defer st.Close()
	d := c.drain(t, st)
	if d.err != io.EOF {
		t.Errorf("complete stream: Recv error = %v; want io.EOF itself after the answer", d.err)
	} else if _, err := st.Recv(); err != io.EOF {
		c.checkErr(t, "Recv", err)
		t.Errorf("complete stream: Recv after io.EOF error = %v; want io.EOF again", err)
	}
	c.checkStream(t, "complete stream", d)
	if d.usage == nil {
		if !c.h.Omits.StreamUsage {
			t.Errorf("complete stream reported no usage; want %+v (or Harness.Omits.StreamUsage)", usage(c.b.Answer))
		}
	} else if diff := cmp.Diff(*d.usage, usage(c.b.Answer)); diff != "" {
		t.Errorf("complete stream usage mismatch (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(d.finish, []openai.FinishReason{openai.FinishReasonStop}); diff != "" {
		t.Errorf("complete stream finish reasons mismatch (-got +want):\n%s", diff)
	}
}

// checkStream checks what every stream must have delivered before it
// ended: the whole text the upstream sent, and one response id and model
// on every chunk.
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
	wantIDs := map[string]int{c.wantID(id): d.chunks}
	if diff := cmp.Diff(d.ids, wantIDs); diff != "" {
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
		st := c.openStream(t, context.Background())
		defer st.Close()
		d := c.drain(t, st)
		checkFailure(t, fmt.Sprintf("stream ending %v: Recv", c.b.Ending), d.err, want)
		c.checkStream(t, fmt.Sprintf("stream ending %v", c.b.Ending), d)
	}
}

// testStallDeadline: the stream stops sending and the deadline passes.
func testStallDeadline(t *testing.T, c *call) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	st := c.openStream(t, ctx)
	defer st.Close()
	d := c.drain(t, st)
	took := time.Since(start)
	checkFailure(t, "stalled stream past its deadline: Recv", d.err, errWant{status: providers.StatusTimeout, is: context.DeadlineExceeded})
	c.checkStream(t, "stalled stream", d)
	if took > promptly {
		t.Errorf("stalled stream past its %v deadline ended after %v; want it to end when its ctx is done", deadline, took)
	}
}

// testStallCanceled: the stream stops sending and the caller cancels.
func testStallCanceled(t *testing.T, c *call) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := c.openStream(t, ctx)
	defer st.Close()
	d := c.drainUntil(t, st, c.b.Answer.Text)
	c.checkStream(t, "stalled stream", d)
	if d.err != nil {
		t.Fatalf("stalled stream: Recv error = %v before the ctx was cancelled; want the content", d.err)
	}
	timer := time.AfterFunc(cancelIn, cancel)
	defer timer.Stop()
	start := time.Now()
	_, err := st.Recv()
	took := time.Since(start)
	c.checkErr(t, "Recv", err)
	checkFailure(t, "stalled stream cancelled: Recv", err, errWant{is: context.Canceled})
	if took > promptly {
		t.Errorf("stalled stream cancelled after %v: Recv returned after %v; want it to end when its ctx is done", cancelIn, took)
	}
}

// testStallClose: the stream stops sending and the caller closes it from
// another goroutine while Recv waits.
func testStallClose(t *testing.T, c *call) {
	st := c.openStream(t, context.Background())
	d := c.drainUntil(t, st, c.b.Answer.Text)
	c.checkStream(t, "stalled stream", d)
	if d.err != nil {
		_ = st.Close()
		t.Fatalf("stalled stream: Recv error = %v before Close; want the content", d.err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		time.Sleep(cancelIn)
		if err := st.Close(); err != nil {
			c.checkErr(t, "Close", err)
		}
	})
	start := time.Now()
	_, err := st.Recv()
	took := time.Since(start)
	c.checkErr(t, "Recv", err)
	checkFailure(t, "stalled stream closed while Recv waits: Recv", err, errWant{is: providers.ErrStreamClosed})
	if took > promptly {
		t.Errorf("stalled stream closed after %v: Recv returned after %v; want Close to unblock it", cancelIn, took)
	}
	wg.Wait()
	_, err = st.Recv()
	c.checkErr(t, "Recv", err)
	checkFailure(t, "Recv after Close", err, errWant{is: providers.ErrStreamClosed})
	if err := st.Close(); err != nil {
		c.checkErr(t, "Close", err)
	}
}

// checkRequests checks what the server saw of the call: one request,
// and, when it held the request open, that the client went away.
func (c *call) checkRequests(t *testing.T, tc testCase) {
	t.Helper()
	if len(c.srvs) == 0 {
		return
	}
	if got := c.requests(); got != 1 {
		t.Errorf("%s: the upstream received %d requests; want 1 (an adapter does not retry: the routing layer does)", tc.name, got)
	}
	if !tc.holds {
		return
	}
	deadline := time.Now().Add(promptly)
	for c.clientsGone() == 0 {
		if time.Now().After(deadline) {
			t.Errorf("%s: the upstream request was still open %v after the call ended; want the call to let go of it", tc.name, promptly)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *call) clientsGone() int {
	n := 0
	for _, s := range c.srvs {
		n += s.ClientsGone()
	}
	return n
}

func (c *call) requests() int {
	n := 0
	for _, s := range c.srvs {
		n += s.Requests()
	}
	return n
}

// checkErr checks that err, and every error in its chain, says nothing of
// the harness's key, however it is printed.
func (c *call) checkErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || c.h.Key == "" {
		return
	}
	for _, e := range chain(err) {
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if text := fmt.Sprintf(format, e); strings.Contains(text, c.h.Key) {
				t.Errorf("%s error %T printed with %s shows the API key: %s", what, e, format, text)
			}
		}
		if pe, ok := e.(*providers.Error); ok {
			for _, field := range []string{pe.Code, pe.Type, pe.Message} {
				if strings.Contains(field, c.h.Key) {
					t.Errorf("%s error %#v has the API key in a field", what, pe)
				}
			}
		}
	}
}

// chain returns err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil || len(out) >= 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		}
	}
	walk(err)
	return out
}
