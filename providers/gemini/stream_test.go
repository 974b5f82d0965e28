package gemini_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
	"github.com/llmroute/llmroute/providers/providertest"
)

var answer = providertest.Answer{ID: "resp-42", Model: "gemini-2.5-flash-001", Text: "The quick brown fox jumps.", PromptTokens: 7, CompletionTokens: 6}

// providerFor returns a provider for a test server's URL.
func providerFor(t testing.TB, url string) *gem.Provider {
	t.Helper()
	return newProviderWith(t, &genai.ClientConfig{APIKey: testKey, HTTPClient: &http.Client{Transport: testTransport(t)},
		HTTPOptions: genai.HTTPOptions{BaseURL: url}})
}

// openStream starts a stream against a server acting out b.
func openStream(t *testing.T, b providertest.Behaviour) (providers.Stream, error) {
	t.Helper()
	b.Stream = true
	srv := providertest.Serve(t, geminiWire{}, b)
	s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("gemini-2.5-flash", "Hi"))
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// drain reads s to its end: the chunks and the error that ended it.
func drain(t *testing.T, s providers.Stream) ([]openai.ChatCompletionStreamResponse, error) {
	t.Helper()
	var chunks []openai.ChatCompletionStreamResponse
	for range 1000 {
		c, err := s.Recv()
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
	t.Fatal("the stream did not end")
	return nil, nil
}

// text joins the chunks' content.
func text(chunks []openai.ChatCompletionStreamResponse) string {
	var b strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String()
}

// TestStreamComplete checks a whole answer: its text in order, the role
// first, the finish reason and usage last, then io.EOF (again on later
// calls), and ErrStreamClosed after Close.
func TestStreamComplete(t *testing.T) {
	s, err := openStream(t, providertest.Behaviour{Answer: answer, Chunks: 3})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if err != io.EOF {
		t.Fatalf("stream ended with %v, want io.EOF", err)
	}
	if got := text(chunks); got != answer.Text {
		t.Errorf("text %q, want %q", got, answer.Text)
	}
	if len(chunks) != 4 {
		t.Fatalf("%d chunks, want 3 of text and the end", len(chunks))
	}
	if got := chunks[0].Choices[0].Delta.Role; got != "assistant" {
		t.Errorf("first chunk's role %q, want assistant", got)
	}
	last := chunks[len(chunks)-1]
	want := openai.ChatCompletionStreamResponse{
		ID: "resp-42", Object: "chat.completion.chunk", Model: "gemini-2.5-flash-001",
		Choices: []openai.ChatCompletionStreamChoice{{FinishReason: "stop"}},
		Usage:   &openai.Usage{PromptTokens: 7, CompletionTokens: 6, TotalTokens: 13},
	}
	if diff := cmp.Diff(last, want, cmpopts.IgnoreFields(openai.ChatCompletionStreamResponse{}, "Created")); diff != "" {
		t.Errorf("last chunk (-got +want):\n%s", diff)
	}
	for i, c := range chunks[:len(chunks)-1] {
		if c.Usage != nil || c.Choices[0].FinishReason != "" {
			t.Errorf("chunk %d carries usage or a finish reason before the end", i)
		}
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Errorf("Recv after the end: %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
		t.Errorf("Recv after Close: %v, want ErrStreamClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestStreamEndings checks every way a stream fails after it started:
// none of them is io.EOF.
func TestStreamEndings(t *testing.T) {
	tests := []struct {
		name       string
		b          providertest.Behaviour
		wantStatus int
		wantCode   string
	}{
		{"cut with no finish reason", providertest.Behaviour{Answer: answer, Chunks: 2, Ending: providertest.EndCut}, 502, gem.CodeStreamTruncated},
		{"an event that does not decode", providertest.Behaviour{Answer: answer, Chunks: 1, Ending: providertest.EndMalformed}, 502, gem.CodeMalformedEvent},
		{"overloaded mid-stream", providertest.Behaviour{Answer: answer, Chunks: 1, Ending: providertest.EndError, Fault: providertest.FaultOverloaded}, 503, "UNAVAILABLE"},
		{"an internal error mid-stream", providertest.Behaviour{Answer: answer, Chunks: 1, Ending: providertest.EndError, Fault: providertest.FaultServerError}, 500, "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := openStream(t, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := drain(t, s)
			if len(chunks) != tt.b.Chunks {
				t.Errorf("%d chunks before the failure, want %d", len(chunks), tt.b.Chunks)
			}
			pe := asProviderError(t, err)
			if pe.Status != tt.wantStatus || pe.Code != tt.wantCode {
				t.Errorf("got status %d code %q (%v), want %d %q", pe.Status, pe.Code, err, tt.wantStatus, tt.wantCode)
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("Recv after the failure: %v, want the same error", again)
			}
		})
	}
}

// TestStreamCutMidEvent checks bodies that end inside an event or lose
// their connection: truncated, never io.EOF or a decoding failure.
func TestStreamCutMidEvent(t *testing.T) {
	tests := []struct {
		name     string
		wantText string
		write    func(w http.ResponseWriter)
	}{
		{"before any event", "", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }},
		{"inside an event", "Hello", func(w http.ResponseWriter) {
			event(w, textChunk("Hello", answer))
			_, _ = io.WriteString(w, `data: {"candidates":[{"content":{"parts":[{"text":" wor`)
		}},
		{"a complete event without its blank line and no finish reason", "Hello world", func(w http.ResponseWriter) {
			event(w, textChunk("Hello", answer))
			_, _ = io.WriteString(w, `data: {"candidates":[{"content":{"parts":[{"text":" world"}]}}]}`)
		}},
		{"the connection drops", "Hello", func(w http.ResponseWriter) {
			event(w, textChunk("Hello", answer))
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_, _ = buf.WriteString("1f\r\ndata: {\"candidates\":[{\"conte")
				_ = buf.Flush()
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				w.Header().Set("Content-Type", "text/event-stream")
				tt.write(w)
			})
			s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			chunks, err := drain(t, s)
			if text(chunks) != tt.wantText {
				t.Errorf("text %q before the cut, want %q", text(chunks), tt.wantText)
			}
			if pe := asProviderError(t, err); pe.Status != 502 || pe.Code != gem.CodeStreamTruncated {
				t.Errorf("got %v (code %q), want a 502 %s", err, pe.Code, gem.CodeStreamTruncated)
			}
		})
	}
}

// TestStreamCompleteWithoutBlankLine checks a last event that is whole
// and carries the finish reason, though the body ends without the blank
// line after it: the answer is complete.
func TestStreamCompleteWithoutBlankLine(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"candidates":[{"content":{"parts":[{"text":"Done"}]},"finishReason":"STOP"}]}`)
	})
	s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := drain(t, s)
	if err != io.EOF || text(chunks) != "Done" {
		t.Errorf("got %q and %v, want Done and io.EOF", text(chunks), err)
	}
}

// TestStreamFailsBeforeStarting checks an error answer to a stream
// request: ChatStream returns it, translated as for Chat.
func TestStreamFailsBeforeStarting(t *testing.T) {
	_, err := openStream(t, providertest.Behaviour{Fault: providertest.FaultRateLimited, RetryAfter: "46"})
	pe := asProviderError(t, err)
	if pe.Status != 429 || pe.Code != "RESOURCE_EXHAUSTED" || pe.RetryAfter != 46*time.Second {
		t.Errorf("got %v (status %d, code %q, retry after %v), want 429 RESOURCE_EXHAUSTED after 46s", err, pe.Status, pe.Code, pe.RetryAfter)
	}
}

// TestStreamStall checks a stream that stops sending: a blocked Recv is
// ended by Close, by cancelling the ctx, or by its deadline; and an
// upstream that never answers, which ChatStream gives up on at its
// deadline.
func TestStreamStall(t *testing.T) {
	stall := providertest.Behaviour{Stream: true, Answer: answer, Ending: providertest.EndStall}
	t.Run("Close unblocks Recv", func(t *testing.T) {
		srv := providertest.Serve(t, geminiWire{}, stall)
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		readText(t, s)
		got := make(chan error, 1)
		go func() {
			_, err := s.Recv()
			got <- err
		}()
		time.Sleep(20 * time.Millisecond) // let Recv block; the test passes without it too
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-got; !errors.Is(err, providers.ErrStreamClosed) {
			t.Errorf("blocked Recv returned %v, want ErrStreamClosed", err)
		}
	})
	t.Run("cancelling the ctx ends the stream", func(t *testing.T) {
		srv := providertest.Serve(t, geminiWire{}, stall)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := providerFor(t, srv.URL).ChatStream(ctx, userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		readText(t, s)
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := s.Recv(); err != context.Canceled {
			t.Errorf("Recv: %v, want context.Canceled", err)
		}
	})
	t.Run("the ctx's deadline ends the stream", func(t *testing.T) {
		srv := providertest.Serve(t, geminiWire{}, stall)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		s, err := providerFor(t, srv.URL).ChatStream(ctx, userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		readText(t, s)
		_, err = s.Recv()
		if pe := asProviderError(t, err); pe.Status != providers.StatusTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Recv: %v, want a 408 matching context.DeadlineExceeded", err)
		}
	})
	t.Run("a server that never answers", func(t *testing.T) {
		srv := providertest.Serve(t, geminiWire{}, providertest.Behaviour{Stream: true, Silent: true})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		s, err := providerFor(t, srv.URL).ChatStream(ctx, userSays("m", "Hi"))
		if s != nil {
			s.Close()
			t.Fatal("ChatStream returned a stream before any headers")
		}
		if pe := asProviderError(t, err); pe.Status != providers.StatusTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ChatStream: %v, want a 408 matching context.DeadlineExceeded", err)
		}
	})
	t.Run("Close without reading", func(t *testing.T) {
		srv := providertest.Serve(t, geminiWire{}, stall)
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := s.Recv(); !errors.Is(err, providers.ErrStreamClosed) {
			t.Errorf("Recv after Close: %v, want ErrStreamClosed", err)
		}
	})
}

// readText reads a stalling stream's one chunk of text.
func readText(t *testing.T, s providers.Stream) {
	t.Helper()
	c, err := s.Recv()
	if err != nil || len(c.Choices) == 0 || c.Choices[0].Delta.Content != answer.Text {
		t.Fatalf("Recv = %+v, %v; want the answer's text before the stall", c, err)
	}
}

// sse is a server sending the given chunks as events.
func sse(t *testing.T, chunks ...any) *server {
	return newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			event(w, c)
		}
	})
}

// TestStreamContent checks what Gemini's chunks become: tool calls with
// their indexes and the same ids as the unary answer, thoughts, several
// candidates, a blocked prompt.
func TestStreamContent(t *testing.T) {
	t.Run("tool calls", func(t *testing.T) {
		srv := sse(t, callsAnswer("resp-1", ""))
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		chunks, err := drain(t, s)
		if err != io.EOF || len(chunks) != 1 {
			t.Fatalf("%d chunks, %v; want 1 and io.EOF", len(chunks), err)
		}
		unary := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			writeJSON(w, 200, callsAnswer("resp-1", ""))
		})
		resp, err := newProvider(t, unary).Chat(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		want := resp.Choices[0].Message.ToolCalls
		for i := range want {
			want[i].Index = &i
		}
		c := chunks[0].Choices[0]
		if diff := cmp.Diff(c.Delta.ToolCalls, want); diff != "" {
			t.Errorf("streamed tool calls (-got +unary's):\n%s", diff)
		}
		if c.FinishReason != "tool_calls" {
			t.Errorf("finish reason %q, want tool_calls", c.FinishReason)
		}
		if !strings.Contains(want[0].ID, "_") || strings.Count(want[1].ID, "_") != 1 {
			t.Errorf("ids %q, %q: want only the first to carry a signature", want[0].ID, want[1].ID)
		}
	})
	t.Run("thoughts", func(t *testing.T) {
		srv := sse(t,
			obj{"candidates": []any{obj{"content": obj{"parts": []any{obj{"text": "Hmm.", "thought": true}}}}}},
			obj{"candidates": []any{obj{"content": obj{"parts": []any{obj{"text": "4"}}}, "finishReason": "STOP"}}},
		)
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		chunks, err := drain(t, s)
		if err != io.EOF || len(chunks) != 2 {
			t.Fatalf("%d chunks, %v; want 2 and io.EOF", len(chunks), err)
		}
		if got := []string{chunks[0].Choices[0].Delta.ReasoningContent, chunks[1].Choices[0].Delta.Content}; !cmp.Equal(got, []string{"Hmm.", "4"}) {
			t.Errorf("reasoning then content %q, want Hmm. then 4", got)
		}
	})
	t.Run("two candidates end when both have finished", func(t *testing.T) {
		srv := sse(t,
			obj{"candidates": []any{
				obj{"content": obj{"parts": []any{obj{"text": "A"}}}, "index": 0, "finishReason": "STOP"},
				obj{"content": obj{"parts": []any{obj{"text": "B"}}}, "index": 1},
			}},
		)
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = drain(t, s)
		if pe := asProviderError(t, err); pe.Code != gem.CodeStreamTruncated {
			t.Errorf("got %v, want %s: candidate 1 never finished", err, gem.CodeStreamTruncated)
		}
	})
	t.Run("a blocked prompt", func(t *testing.T) {
		srv := sse(t, obj{"promptFeedback": obj{"blockReason": "PROHIBITED_CONTENT"}})
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		chunks, err := drain(t, s)
		if err != io.EOF || len(chunks) != 1 || chunks[0].Choices[0].FinishReason != "content_filter" {
			t.Errorf("got %+v and %v, want one content_filter chunk and io.EOF", chunks, err)
		}
	})
	t.Run("a malformed function call", func(t *testing.T) {
		srv := sse(t, obj{"candidates": []any{obj{"finishReason": "MALFORMED_FUNCTION_CALL"}}})
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = drain(t, s)
		if pe := asProviderError(t, err); pe.Status != 502 || pe.Code != "MALFORMED_FUNCTION_CALL" {
			t.Errorf("got %v, want a 502 MALFORMED_FUNCTION_CALL", err)
		}
	})
	t.Run("a chunk that makes genai's decoder panic", func(t *testing.T) {
		srv := sse(t, obj{"candidates": []any{nil}})
		s, err := providerFor(t, srv.URL).ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = drain(t, s)
		if pe := asProviderError(t, err); pe.Status != 502 || pe.Code != gem.CodeMalformedEvent {
			t.Errorf("got %v, want a 502 %s", err, gem.CodeMalformedEvent)
		}
	})
}

// TestStreamRequest checks the request a stream sends: the SSE method and
// the same translated body as Chat.
func TestStreamRequest(t *testing.T) {
	srv := sse(t, chunkOf("ok", &answer))
	req := userSays("gemini-2.5-flash", "Hi")
	req.Request.Temperature = 0.5
	req.Header = http.Header{"X-Caller": {"svc"}}
	s, err := providerFor(t, srv.URL).ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := drain(t, s); err != io.EOF {
		t.Fatal(err)
	}
	got := srv.only(t)
	if got.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || got.Query != "alt=sse" {
		t.Errorf("request to %s?%s, want streamGenerateContent?alt=sse", got.Path, got.Query)
	}
	if dig(got.Body, "generationConfig.temperature") != 0.5 || got.Header.Get("X-Caller") != "svc" {
		t.Errorf("body %v, header %v: want the translated request and the call's header", got.Body, got.Header)
	}
}

// TestStreamReturnsAtHeaders checks that ChatStream returns once the
// response headers arrive, before any event: the time to the first event
// is the caller's to bound, with Recv.
func TestStreamReturnsAtHeaders(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		flush(w)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	p := providerFor(t, srv.URL)
	opened := make(chan providers.Stream, 1)
	go func() {
		s, err := p.ChatStream(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	var s providers.Stream
	select {
	case s = <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("ChatStream did not return at the headers")
	}
	if s == nil {
		return
	}
	got := make(chan error, 1)
	go func() {
		_, err := s.Recv()
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Recv returned %v before any event", err)
	case <-time.After(20 * time.Millisecond):
	}
	s.Close()
	if err := <-got; !errors.Is(err, providers.ErrStreamClosed) {
		t.Errorf("Recv after Close: %v, want ErrStreamClosed", err)
	}
}
