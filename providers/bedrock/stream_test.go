package bedrock_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// streamWith is a handler that writes a stream with script.
func streamWith(script func(ev *bedrocktest.Events)) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		script(bedrocktest.NewEvents(w, "req-s1"))
	}
}

func streamRequest(usage bool) providers.ChatRequest {
	req := userRequest("Weather in Paris and Oslo?")
	req.Tools = []openai.Tool{weatherTool}
	if usage {
		req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	return providers.ChatRequest{Request: req}
}

func openStream(t *testing.T, p *bed.Provider, req providers.ChatRequest) providers.Stream {
	t.Helper()
	st, err := p.ChatStream(t.Context(), req)
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func index(i int) *int { return &i }

// TestStreamToolCalls checks the chunks of a stream with text, two tool
// calls whose input arrives in pieces, and usage from the metadata event
// that follows messageStop.
func TestStreamToolCalls(t *testing.T) {
	srv := newServer(t, streamWith(func(ev *bedrocktest.Events) {
		_ = ev.MessageStart()
		_ = ev.Text(0, "Checking ")
		_ = ev.Text(0, "both.")
		_ = ev.BlockStop(0)
		_ = ev.ToolStart(1, "tu_1", "get_weather")
		_ = ev.ToolInput(1, `{"city":`)
		_ = ev.ToolInput(1, `"Paris"}`)
		_ = ev.BlockStop(1)
		_ = ev.ToolStart(2, "tu_2", "get_weather")
		_ = ev.ToolInput(2, `{"city":"Oslo"}`)
		_ = ev.BlockStop(2)
		_ = ev.MessageStop("tool_use")
		_ = ev.Metadata(bedrocktest.Usage{InputTokens: 20, OutputTokens: 30, CacheRead: 100})
	}))
	st := openStream(t, srv.provider(t), streamRequest(true))
	chunks, err := drain(t, st)
	if err != io.EOF {
		t.Fatalf("stream ended with %v; want io.EOF", err)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Errorf("Recv after the end = %v; want io.EOF again", err)
	}
	delta := func(d openai.ChatCompletionStreamChoiceDelta) openai.ChatCompletionStreamResponse {
		return openai.ChatCompletionStreamResponse{ID: "req-s1", Object: "chat.completion.chunk", Model: testModel,
			Choices: []openai.ChatCompletionStreamChoice{{Delta: d}}}
	}
	call := func(i int, id, name, args string) openai.ChatCompletionStreamChoiceDelta {
		tc := openai.ToolCall{Index: index(i), ID: id, Function: openai.FunctionCall{Name: name, Arguments: args}}
		if id != "" {
			tc.Type = openai.ToolTypeFunction
		}
		return openai.ChatCompletionStreamChoiceDelta{ToolCalls: []openai.ToolCall{tc}}
	}
	stop := delta(openai.ChatCompletionStreamChoiceDelta{})
	stop.Choices[0].FinishReason = openai.FinishReasonToolCalls
	usage := openai.ChatCompletionStreamResponse{ID: "req-s1", Object: "chat.completion.chunk", Model: testModel,
		Choices: []openai.ChatCompletionStreamChoice{},
		Usage: &openai.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150,
			PromptTokensDetails: &openai.PromptTokensDetails{CachedTokens: 100}}}
	want := []openai.ChatCompletionStreamResponse{
		delta(openai.ChatCompletionStreamChoiceDelta{Role: "assistant"}),
		delta(openai.ChatCompletionStreamChoiceDelta{Content: "Checking "}),
		delta(openai.ChatCompletionStreamChoiceDelta{Content: "both."}),
		delta(call(0, "tu_1", "get_weather", "")),
		delta(call(0, "", "", `{"city":`)),
		delta(call(0, "", "", `"Paris"}`)),
		delta(call(1, "tu_2", "get_weather", "")),
		delta(call(1, "", "", `{"city":"Oslo"}`)),
		stop,
		usage,
	}
	if diff := cmp.Diff(chunks, want, cmpopts.IgnoreFields(openai.ChatCompletionStreamResponse{}, "Created")); diff != "" {
		t.Errorf("chunks (-got +want):\n%s", diff)
	}
	for _, c := range chunks {
		if c.Created != chunks[0].Created || c.Created == 0 {
			t.Errorf("chunk Created %d; want one non-zero time on every chunk (first %d)", c.Created, chunks[0].Created)
		}
	}
}

// TestStreamUsageOnlyWhenAsked: the usage chunk, which has no choices,
// is sent only to a caller that asked for it, as OpenAI does.
func TestStreamUsageOnlyWhenAsked(t *testing.T) {
	for _, asked := range []bool{false, true} {
		srv := newServer(t, streamWith(func(ev *bedrocktest.Events) {
			_ = ev.MessageStart()
			_ = ev.Text(0, "Hi")
			_ = ev.MessageStop("end_turn")
			_ = ev.Metadata(bedrocktest.Usage{InputTokens: 3, OutputTokens: 1})
		}))
		chunks, err := drain(t, openStream(t, srv.provider(t), streamRequest(asked)))
		if err != io.EOF {
			t.Fatalf("include_usage %v: stream ended with %v; want io.EOF", asked, err)
		}
		var got []*openai.Usage
		for _, c := range chunks {
			if c.Usage != nil {
				got = append(got, c.Usage)
			}
			if len(c.Choices) == 0 && c.Usage == nil {
				t.Errorf("include_usage %v: a chunk with no choices and no usage", asked)
			}
		}
		var want []*openai.Usage
		if asked {
			want = []*openai.Usage{{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4}}
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("include_usage %v: usage chunks (-got +want):\n%s", asked, diff)
		}
	}
}

// halfFrame writes the first half of an event frame, then returns: the
// body ends in the middle of an event.
func halfFrame(w http.ResponseWriter) {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("event"))
	m.Headers.Set(":event-type", eventstream.StringValue("contentBlockDelta"))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = []byte(`{"contentBlockIndex":0,"delta":{"text":"lost"}}`)
	var buf bytes.Buffer
	_ = eventstream.NewEncoder().Encode(&buf, m)
	_, _ = w.Write(buf.Bytes()[:buf.Len()/2])
}

// reset ends the response with a TCP reset.
func reset(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// TestStreamEndings checks how every way a stream can end reaches the
// caller: only messageStop makes io.EOF.
func TestStreamEndings(t *testing.T) {
	type want struct {
		status int
		code   string
		msg    string // a part of the message
	}
	eof := want{}
	tests := []struct {
		name string
		end  func(w http.ResponseWriter, ev *bedrocktest.Events)
		want want
	}{
		{"messageStop and metadata", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.MessageStop("end_turn")
			_ = ev.Metadata(bedrocktest.Usage{InputTokens: 1, OutputTokens: 1})
		}, eof},
		{"messageStop without metadata", func(w http.ResponseWriter, ev *bedrocktest.Events) { _ = ev.MessageStop("end_turn") }, eof},
		{"an exception after messageStop", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.MessageStop("end_turn")
			_ = ev.Exception("internalServerException", "late")
		}, eof},
		{"an event newer than this package", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Event("futureEvent", map[string]any{"x": 1})
			_ = ev.BlockStop(0)
			_ = ev.MessageStop("end_turn")
		}, eof},
		{"cut between events", func(w http.ResponseWriter, ev *bedrocktest.Events) {}, want{502, bed.CodeStreamTruncated, "before messageStop (request id req-s1)"}},
		{"cut after contentBlockStop", func(w http.ResponseWriter, ev *bedrocktest.Events) { _ = ev.BlockStop(0) }, want{502, bed.CodeStreamTruncated, "before messageStop"}},
		{"cut in the middle of an event", func(w http.ResponseWriter, ev *bedrocktest.Events) { halfFrame(w) }, want{502, bed.CodeStreamTruncated, "before messageStop"}},
		{"connection reset", func(w http.ResponseWriter, ev *bedrocktest.Events) { reset(w) }, want{502, bed.CodeStreamTruncated, "before messageStop"}},
		{"throttlingException", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("throttlingException", "Too many tokens, please wait before trying again.")
		}, want{429, "ThrottlingException", "Too many tokens, please wait before trying again. (request id req-s1)"}},
		{"modelStreamErrorException", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Event("modelStreamErrorException", nil) // replaced below
		}, want{}},
		{"internalServerException", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("internalServerException", "internal")
		}, want{500, "InternalServerException", "internal"}},
		{"serviceUnavailableException", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("serviceUnavailableException", "Bedrock is unable to process your request.")
		}, want{503, "ServiceUnavailableException", "unable to process"}},
		{"validationException", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("validationException", "bad input")
		}, want{400, "ValidationException", "bad input"}},
		{"validationException: input too long", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("validationException", "Input is too long for requested model.")
		}, want{400, bed.CodeContextLengthExceeded, "Input is too long"}},
		{"an exception this package does not know", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.Exception("brandNewException", "new")
		}, want{502, "brandNewException", "new"}},
		{"an undecodable event", func(w http.ResponseWriter, ev *bedrocktest.Events) { _ = ev.Malformed() }, want{502, bed.CodeMalformedEvent, "malformed"}},
		{"a frame with a bad checksum", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			var buf bytes.Buffer
			var m eventstream.Message
			m.Headers.Set(":message-type", eventstream.StringValue("event"))
			m.Headers.Set(":event-type", eventstream.StringValue("contentBlockStop"))
			m.Payload = []byte(`{"contentBlockIndex":0}`)
			_ = eventstream.NewEncoder().Encode(&buf, m)
			b := buf.Bytes()
			b[len(b)-1] ^= 0xff
			_, _ = w.Write(b)
		}, want{502, bed.CodeMalformedEvent, "malformed"}},
		{"tool input for a block that never started", func(w http.ResponseWriter, ev *bedrocktest.Events) {
			_ = ev.ToolInput(3, `{"a":1}`)
			_ = ev.MessageStop("tool_use")
		}, want{502, bed.CodeMalformedEvent, "malformed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
				ev := bedrocktest.NewEvents(w, "req-s1")
				_ = ev.MessageStart()
				_ = ev.Text(0, "Hello")
				if tt.name == "modelStreamErrorException" {
					_ = modelStreamError(ev)
					return
				}
				tt.end(w, ev)
			})
			st := openStream(t, srv.provider(t), streamRequest(false))
			chunks, err := drain(t, st)
			var content string
			for _, c := range chunks {
				for _, ch := range c.Choices {
					content += ch.Delta.Content
				}
			}
			if content != "Hello" {
				t.Errorf("content before the end %q; want %q", content, "Hello")
			}
			w := tt.want
			if tt.name == "modelStreamErrorException" {
				w = want{502, "ModelStreamErrorException", "Model failed. (from the model: status 429: Too many requests) (request id req-s1)"}
			}
			if _, again := st.Recv(); again != err {
				t.Errorf("Recv after the end = %v; want the same %v", again, err)
			}
			if w == eof {
				if err != io.EOF {
					t.Fatalf("stream ended with %v; want io.EOF", err)
				}
				return
			}
			if errors.Is(err, io.EOF) {
				t.Fatalf("stream ended with %v, matching io.EOF; want an error", err)
			}
			pe := asProviderError(t, err)
			got := want{pe.Status, pe.Code, w.msg}
			if !strings.Contains(pe.Message, w.msg) {
				got.msg = pe.Message
			}
			if diff := cmp.Diff(got, w, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("stream error %v (-got +want):\n%s", err, diff)
			}
		})
	}
}

// modelStreamError writes the exception Bedrock sends when the model
// fails mid-stream, with the model's own status and message.
func modelStreamError(ev *bedrocktest.Events) error {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("exception"))
	m.Headers.Set(":exception-type", eventstream.StringValue("modelStreamErrorException"))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = []byte(`{"message":"Model failed.","originalStatusCode":429,"originalMessage":"Too many requests"}`)
	return ev.Message(m)
}

// stall is a handler that starts a stream, sends one text event, then
// waits for the client to go away, reporting that it went.
func stall(gone chan<- struct{}) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		ev := bedrocktest.NewEvents(w, "req-s1")
		_ = ev.MessageStart()
		_ = ev.Text(0, "Hel")
		<-r.Context().Done()
		close(gone)
	}
}

// TestStreamClose: Close from another goroutine unblocks a waiting Recv,
// stops the upstream request, and later Recvs say the stream is closed.
func TestStreamClose(t *testing.T) {
	gone := make(chan struct{})
	srv := newServer(t, stall(gone))
	st := openStream(t, srv.provider(t), streamRequest(false))
	for range 2 { // messageStart, then the text
		if _, err := st.Recv(); err != nil {
			t.Fatalf("Recv: %v", err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(20 * time.Millisecond) // let Recv block; the test holds either way
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	_, err := st.Recv()
	wg.Wait()
	if !errors.Is(err, providers.ErrStreamClosed) {
		t.Errorf("blocked Recv after Close = %v; want providers.ErrStreamClosed", err)
	}
	if _, err := st.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
		t.Errorf("Recv after Close = %v; want providers.ErrStreamClosed", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the server's request is still open 5s after Close")
	}
}

// TestStreamCancel: cancelling the ctx given to ChatStream ends a waiting
// Recv with context.Canceled and stops the upstream request.
func TestStreamCancel(t *testing.T) {
	gone := make(chan struct{})
	srv := newServer(t, stall(gone))
	ctx, cancel := context.WithCancel(t.Context())
	st, err := srv.provider(t).ChatStream(ctx, streamRequest(false))
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	defer st.Close()
	for range 2 {
		if _, err := st.Recv(); err != nil {
			t.Fatalf("Recv: %v", err)
		}
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := st.Recv(); err != context.Canceled {
		t.Errorf("Recv after cancel = %v; want context.Canceled itself", err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the server's request is still open 5s after the cancel")
	}
}

// TestStreamDeadline: a passed deadline ends a waiting Recv with a 408
// that matches context.DeadlineExceeded.
func TestStreamDeadline(t *testing.T) {
	gone := make(chan struct{})
	srv := newServer(t, stall(gone))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	st, err := srv.provider(t).ChatStream(ctx, streamRequest(false))
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	defer st.Close()
	_, err = drain(t, st)
	if pe := asProviderError(t, err); pe.Status != providers.StatusTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stream past its deadline ended with %v (status %d); want 408 matching context.DeadlineExceeded", err, pe.Status)
	}
}

// TestStreamsSurviveTheSDKClosingTheRequestBody runs many short streams
// on a loopback server, where the response often arrives before the HTTP
// transport has finished writing the request. The SDK closes the request
// body as soon as response headers arrive; without care the transport
// then fails its last write step and closes the connection under the
// stream. Every stream must end whole.
func TestStreamsSurviveTheSDKClosingTheRequestBody(t *testing.T) {
	srv := newServer(t, streamWith(func(ev *bedrocktest.Events) {
		_ = ev.MessageStart()
		_ = ev.Text(0, "Hello")
		_ = ev.MessageStop("end_turn")
	}))
	srv.Config.SetKeepAlivesEnabled(false)
	p := srv.provider(t)
	failed := 0
	for range 200 {
		st, err := p.ChatStream(t.Context(), streamRequest(false))
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		if _, err := drain(t, st); err != io.EOF {
			failed++
			t.Logf("stream ended with %v", err)
		}
		_ = st.Close()
	}
	if failed > 0 {
		t.Errorf("%d of 200 streams broke; want none", failed)
	}
}

// sdkReaders counts the SDK's event stream goroutines still running.
func sdkReaders() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "readEventStream") || strings.Contains(g, "converseStreamOutputReader).pipe") || strings.Contains(g, "waitStreamClose") {
			n++
		}
	}
	return n
}

// TestStreamCancelWithoutClose: a done ctx alone ends the stream and every
// goroutine the SDK started for it, even if the caller never calls Close;
// an answer complete before the ctx ended is still io.EOF.
func TestStreamCancelWithoutClose(t *testing.T) {
	t.Run("mid-answer", func(t *testing.T) {
		gone := make(chan struct{})
		srv := newServer(t, stall(gone))
		ctx, cancel := context.WithCancel(t.Context())
		st, err := srv.provider(t).ChatStream(ctx, streamRequest(false))
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if n := sdkReaders(); n == 0 {
			t.Fatal("no SDK reader goroutines while the stream is open; the check below could not fail")
		}
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for sdkReaders() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d SDK reader goroutines still running 5s after the ctx ended", sdkReaders())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := st.Recv(); err != context.Canceled {
			t.Errorf("Recv after the cancel = %v; want context.Canceled", err)
		}
		<-gone
	})
	t.Run("after messageStop", func(t *testing.T) {
		stopped := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-s1")
			_ = ev.MessageStart()
			_ = ev.Text(0, "Hello")
			_ = ev.MessageStop("end_turn")
			close(stopped)
			<-r.Context().Done() // the metadata event never comes
		})
		ctx, cancel := context.WithCancel(t.Context())
		st, err := srv.provider(t).ChatStream(ctx, streamRequest(true))
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer st.Close()
		var finish openai.FinishReason
		for finish == "" {
			chunk, err := st.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if len(chunk.Choices) > 0 {
				finish = chunk.Choices[0].FinishReason
			}
		}
		<-stopped
		cancel()
		if _, err := st.Recv(); err != io.EOF {
			t.Errorf("Recv after messageStop and a cancel = %v; want io.EOF: the answer is whole", err)
		}
	})
	t.Run("closed after messageStop", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-s1")
			_ = ev.MessageStart()
			_ = ev.MessageStop("end_turn")
			<-r.Context().Done()
		})
		st := openStream(t, srv.provider(t), streamRequest(true))
		for range 2 {
			if _, err := st.Recv(); err != nil {
				t.Fatalf("Recv: %v", err)
			}
		}
		_ = st.Close()
		if _, err := st.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
			t.Errorf("Recv after Close = %v; want providers.ErrStreamClosed, as after any Close", err)
		}
	})
}
