package providertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Waits the suite gives a provider. deadline and cancelIn are how long
// the upstream stays silent before the call's ctx ends. promptly bounds
// how long a call may take to notice that, and hang how long any call may
// take at all before the suite gives up on it: both catch a call that
// hangs, not one that is slow, so they are generous.
var (
	deadline = 300 * time.Millisecond
	cancelIn = 50 * time.Millisecond
	promptly = 5 * time.Second
	hang     = 10 * time.Second
)

// Run runs the contract suite against the provider h makes: one subtest
// per behaviour, each with a provider of its own (see [Harness]).
// Streaming subtests are skipped when the provider is not a
// [providers.Streamer], embedding subtests when it is not a
// [providers.Embedder]; once a subtest has seen which it is, the later
// ones skip without asking h.New for a provider.
//
// Every subtest also checks that no goroutine the call started outlives
// it, that h.Key appears in no error, and, when h.New started a server
// with [Serve] for the subtest, that each call sent exactly one request
// (an adapter never retries: the routing layer does) and, when it gave up
// on a request, that it let go of the connection.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("providertest.Run: Harness.New is nil")
	}
	if h.Model == "" {
		t.Fatal("providertest.Run: Harness.Model is empty")
	}
	var caps struct {
		known              bool
		streamer, embedder bool
	}
	for _, tc := range cases(h) {
		t.Run(tc.name, func(t *testing.T) {
			if caps.known {
				skipUnless(t, tc.b, caps.streamer, caps.embedder, "the provider")
			}
			if tc.now != nil {
				tc.now(&tc.b)
			}
			p := h.New(t, tc.b)
			if p == nil {
				t.Fatalf("Harness.New(%+v) = nil; want a provider", tc.b)
			}
			_, caps.streamer = p.(providers.Streamer)
			_, caps.embedder = p.(providers.Embedder)
			caps.known = true
			skipUnless(t, tc.b, caps.streamer, caps.embedder, fmt.Sprintf("%T", p))
			c := &call{h: h, p: p, b: tc.b, srvs: serversOf(t)}
			id := tracked(func() { tc.test(t, c) })
			noLeak(t, tc.name, id)
			c.checkRequests(t, tc)
		})
	}
}

// skipUnless skips a subtest whose call the provider cannot make.
func skipUnless(t *testing.T, b Behaviour, streamer, embedder bool, provider string) {
	t.Helper()
	switch {
	case b.Stream && !streamer:
		t.Skipf("%s is not a providers.Streamer", provider)
	case b.Embed && !embedder:
		t.Skipf("%s is not a providers.Embedder", provider)
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
	// requests is how many requests the test sends upstream: 1 unless
	// set, none with noCall.
	requests int
	noCall   bool
	// now, when set, fills in what the behaviour must take from the
	// time its subtest starts.
	now func(b *Behaviour)
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
	silent := Behaviour{Silent: true, Answer: answer}
	stream := func(b Behaviour) Behaviour {
		b.Stream = true
		return b
	}
	ending := func(chunks int, e Ending, f Fault) Behaviour {
		return Behaviour{Stream: true, Answer: answer, Chunks: chunks, Ending: e, Fault: f}
	}
	embed := func(b Behaviour) Behaviour {
		b.Embed = true
		return b
	}
	// An HTTP date has whole seconds: ask for 30 s ahead and accept what
	// a whole-second date and a little lag make of it.
	dateAhead := func(b *Behaviour) {
		b.RetryAfter = time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	}
	rateLimited := errWant{status: 429, retryAfter: 7 * time.Second}

	return []testCase{
		{name: "Describe", b: Behaviour{Answer: answer}, test: testDescribe, noCall: true},
		{name: "Chat/Answer", b: Behaviour{Answer: answer}, test: testChat},
		{name: "Chat/Concurrent", b: Behaviour{Answer: answer}, test: testConcurrent, requests: concurrency},
		{name: "Chat/RateLimited/Seconds", b: fault(FaultRateLimited, "7"), test: wantFailure(rateLimited)},
		{name: "Chat/RateLimited/Date", b: fault(FaultRateLimited, ""), now: dateAhead, test: wantFailure(errWant{status: 429, retryAfterMin: 25 * time.Second, retryAfter: 31 * time.Second})},
		{name: "Chat/ServerError", b: fault(FaultServerError, ""), test: wantFailure(errWant{status: 500})},
		{name: "Chat/BadRequest", b: fault(FaultBadRequest, ""), test: wantFailure(errWant{status: 400, anyCode: true})},
		{name: "Chat/ContextLength", b: fault(FaultContextLength, ""), test: wantFailure(errWant{status: 400, code: "context_length_exceeded"})},
		{name: "Chat/Overloaded", b: fault(FaultOverloaded, ""), test: wantFailure(errWant{status: 503})},
		{name: "Chat/Silent/Deadline", b: silent, test: testDeadline, holds: true},
		{name: "Chat/Silent/Canceled", b: silent, test: testCanceled, holds: true},

		{name: "Stream/Answer", b: ending(5, EndComplete, 0), test: testStream},
		{name: "Stream/RateLimited", b: stream(fault(FaultRateLimited, "7")), test: wantFailure(rateLimited)},
		{name: "Stream/ContextLength", b: stream(fault(FaultContextLength, "")), test: wantFailure(errWant{status: 400, code: "context_length_exceeded"})},
		{name: "Stream/Overloaded", b: stream(fault(FaultOverloaded, "")), test: wantFailure(errWant{status: 503})},
		{name: "Stream/Silent/Deadline", b: stream(silent), test: testDeadline, holds: true},
		{name: "Stream/Silent/Canceled", b: stream(silent), test: testCanceled, holds: true},
		{name: "Stream/Cut", b: ending(3, EndCut, 0), test: wantStreamEnd(errWant{status: 502, code: providers.CodeStreamTruncated})},
		{name: "Stream/Malformed", b: ending(2, EndMalformed, 0), test: wantStreamEnd(errWant{status: 502, code: providers.CodeMalformedEvent})},
		{name: "Stream/ErrorEvent/Overloaded", b: ending(2, EndError, FaultOverloaded), test: wantStreamEnd(errWant{status: 503})},
		{name: "Stream/ErrorEvent/ServerError", b: ending(2, EndError, FaultServerError), test: wantStreamEnd(errWant{status: 500})},
		{name: "Stream/Stall/Deadline", b: ending(2, EndStall, 0), test: testStallDeadline, holds: true},
		{name: "Stream/Stall/Canceled", b: ending(2, EndStall, 0), test: testStallCanceled, holds: true},
		{name: "Stream/Stall/Close", b: ending(2, EndStall, 0), test: testStallClose, holds: true},

		{name: "Embed/Answer", b: embed(Behaviour{Answer: answer, Vectors: [][]float32{{0.25, -0.5, 1}, {0.125, 0.75, -1}}}), test: testEmbed},
		{name: "Embed/RateLimited", b: embed(fault(FaultRateLimited, "7")), test: wantFailure(rateLimited)},
		{name: "Embed/Silent/Deadline", b: embed(silent), test: testDeadline, holds: true},
	}
}

// call is what a subtest works with: the provider, the behaviour its
// upstream acts out, and the servers, if any, that act it out.
type call struct {
	h    Harness
	p    providers.Provider
	b    Behaviour
	srvs []*Server
}

// within runs f and waits at most limit for it to return, reporting
// whether it did. f must not use t: a call that hangs is left behind.
func within(limit time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// The provider's methods, each bounded by hang so that a broken adapter
// fails the suite instead of stalling it, and each error checked for the
// key.

func (c *call) chat(t *testing.T, ctx context.Context) (resp openai.ChatCompletionResponse, err error) {
	t.Helper()
	if !within(hang, func() { resp, err = c.p.Chat(ctx, c.chatRequest()) }) {
		t.Fatalf("Chat still running after %v; want it to return (when its ctx is done at the latest)", hang)
	}
	c.checkKey(t, "Chat", err)
	return resp, err
}

func (c *call) chatStream(t *testing.T, ctx context.Context) (st providers.Stream, err error) {
	t.Helper()
	s := c.p.(providers.Streamer)
	if !within(hang, func() { st, err = s.ChatStream(ctx, c.chatRequest()) }) {
		t.Fatalf("ChatStream still running after %v; want it to return (when its ctx is done at the latest)", hang)
	}
	c.checkKey(t, "ChatStream", err)
	if err == nil && st == nil {
		t.Fatal("ChatStream = nil, nil; want a stream or an error")
	}
	return st, err
}

func (c *call) recv(t *testing.T, st providers.Stream) (chunk openai.ChatCompletionStreamResponse, err error) {
	t.Helper()
	if !within(hang, func() { chunk, err = st.Recv() }) {
		t.Fatalf("Recv still blocked after %v; want it to return (when its ctx is done or the stream closed at the latest)", hang)
	}
	c.checkKey(t, "Recv", err)
	return chunk, err
}

func (c *call) close(t *testing.T, st providers.Stream) {
	t.Helper()
	var err error
	if !within(hang, func() { err = st.Close() }) {
		t.Fatalf("Close still running after %v; want it to return", hang)
	}
	c.checkKey(t, "Close", err)
}

func (c *call) embed(t *testing.T, ctx context.Context) (resp openai.EmbeddingResponse, err error) {
	t.Helper()
	e := c.p.(providers.Embedder)
	if !within(hang, func() { resp, err = e.Embed(ctx, c.embedRequest()) }) {
		t.Fatalf("Embed still running after %v; want it to return (when its ctx is done at the latest)", hang)
	}
	c.checkKey(t, "Embed", err)
	return resp, err
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

// embedRequest asks for one embedding per vector of the behaviour.
func (c *call) embedRequest() providers.EmbeddingRequest {
	in := make([]string, max(len(c.b.Vectors), 1))
	for i := range in {
		in[i] = fmt.Sprintf("input %d", i)
	}
	return providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Input: in, Model: openai.EmbeddingModel(c.h.Model)}}
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

// fail makes the call of a behaviour that fails before any answer, and
// returns its error. A stream must fail in ChatStream itself: one it hands
// out is read to its end, closed, and counted a failure.
func (c *call) fail(t *testing.T, ctx context.Context) error {
	t.Helper()
	switch {
	case c.b.Stream:
		st, err := c.chatStream(t, ctx)
		if err != nil {
			return err
		}
		defer c.close(t, st)
		d := c.drain(t, st, "")
		t.Errorf("ChatStream returned a stream (then Recv error = %v); want the upstream's failure from ChatStream itself", d.err)
		return d.err
	case c.b.Embed:
		_, err := c.embed(t, ctx)
		return err
	}
	_, err := c.chat(t, ctx)
	return err
}

// wantID and wantModel are the response id and model a successful call
// must return: the answer's, unless the wire cannot carry them (then any
// id but the empty one, and the requested model).
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

func usage(a Answer) openai.Usage {
	return openai.Usage{
		PromptTokens:     a.PromptTokens,
		CompletionTokens: a.CompletionTokens,
		TotalTokens:      a.PromptTokens + a.CompletionTokens,
	}
}

func testChat(t *testing.T, c *call) {
	resp, err := c.chat(t, context.Background())
	if err != nil {
		t.Fatalf("Chat error = %v; want the answer", err)
	}
	type summary struct {
		ID, Model, Role, Content string
		Finish                   openai.FinishReason
		Usage                    openai.Usage
		Choices                  int
	}
	got := summary{ID: resp.ID, Model: resp.Model, Usage: resp.Usage, Choices: len(resp.Choices)}
	if len(resp.Choices) > 0 {
		ch := resp.Choices[0]
		got.Role, got.Content, got.Finish = ch.Message.Role, ch.Message.Content, ch.FinishReason
	}
	want := summary{
		ID:      c.wantID(resp.ID),
		Model:   c.wantModel(),
		Role:    openai.ChatMessageRoleAssistant,
		Content: c.b.Answer.Text,
		Finish:  openai.FinishReasonStop,
		Usage:   usage(c.b.Answer),
		Choices: 1,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Chat answer mismatch (-got +want):\n%s", diff)
	}
}

// concurrency is how many calls testConcurrent makes at once.
const concurrency = 4

// testConcurrent makes several calls at once with one provider, which must
// be safe for concurrent use: under the race detector, a call that shares
// state with another is reported.
func testConcurrent(t *testing.T, c *call) {
	type result struct {
		text string
		err  error
	}
	results := make(chan result, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			resp, err := c.p.Chat(context.Background(), c.chatRequest())
			r := result{err: err}
			if err == nil && len(resp.Choices) > 0 {
				r.text = resp.Choices[0].Message.Content
			}
			results <- r
		})
	}
	if !within(hang, wg.Wait) {
		t.Fatalf("%d concurrent Chat calls still running after %v; want them to return", concurrency, hang)
	}
	close(results)
	for r := range results {
		c.checkKey(t, "Chat", r.err)
		if r.err != nil || r.text != c.b.Answer.Text {
			t.Errorf("one of %d concurrent Chat calls = %q, error %v; want %q", concurrency, r.text, r.err, c.b.Answer.Text)
		}
	}
}

// testDescribe checks what the provider says of itself: a GenAI provider
// name, and the loopback server it calls when the harness started one.
func testDescribe(t *testing.T, c *call) {
	d, ok := c.p.(providers.Describer)
	if !ok {
		t.Fatalf("%T is not a providers.Describer; want it to say what it is and where it calls", c.p)
	}
	info := d.Describe()
	if info.Name == "" || info.Name != strings.ToLower(info.Name) || strings.ContainsAny(info.Name, " \t") {
		t.Errorf("Describe().Name = %q; want a lowercase provider name such as \"openai\"", info.Name)
	}
	if len(c.srvs) != 1 {
		return
	}
	want := providers.HostInfo(c.srvs[0].URL)
	if diff := cmp.Diff(providers.Info{Address: info.Address, Port: info.Port}, want); diff != "" {
		t.Errorf("Describe() address and port mismatch with the server called, %s (-got +want):\n%s", c.srvs[0].URL, diff)
	}
}

func testEmbed(t *testing.T, c *call) {
	resp, err := c.embed(t, context.Background())
	if err != nil {
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

// wantFailure is a test that makes the call and wants it to fail so.
func wantFailure(want errWant) func(*testing.T, *call) {
	return func(t *testing.T, c *call) {
		err := c.fail(t, context.Background())
		checkFailure(t, c.name(), err, want)
	}
}

// testDeadline: the upstream never answers and the call's deadline
// passes.
func testDeadline(t *testing.T, c *call) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := c.fail(t, ctx)
	took := time.Since(start)
	checkFailure(t, c.name()+" past its deadline", err, errWant{status: providers.StatusTimeout, is: context.DeadlineExceeded})
	if took > deadline+promptly {
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
	err := c.fail(t, ctx)
	took := time.Since(start)
	checkFailure(t, c.name()+" cancelled", err, errWant{is: context.Canceled})
	if took > cancelIn+promptly {
		t.Errorf("%s cancelled after %v returned after %v; want it to stop when its ctx is done", c.name(), cancelIn, took)
	}
}

// checkRequests checks what the server saw of the call: one request,
// and, when it held the request open, that the client went away.
func (c *call) checkRequests(t *testing.T, tc testCase) {
	t.Helper()
	if len(c.srvs) == 0 {
		return
	}
	want := 1
	switch {
	case tc.noCall:
		want = 0
	case tc.requests != 0:
		want = tc.requests
	}
	if got := c.requests(); got != want {
		t.Errorf("the upstream received %d requests; want %d (an adapter does not retry: the routing layer does)", got, want)
	}
	if !tc.holds {
		return
	}
	deadline := time.Now().Add(promptly)
	for c.clientsGone() == 0 {
		if time.Now().After(deadline) {
			t.Errorf("the upstream request was still open %v after the call ended; want the call to let go of it", promptly)
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
