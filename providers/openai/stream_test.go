package openai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

// Stream events in OpenAI's wire format.
const chunkHead = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,` +
	`"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1",`

func content(s string) string {
	return "data: " + chunkHead + `"choices":[{"index":0,"delta":{"content":` + fmt.Sprintf("%q", s) +
		`},"logprobs":null,"finish_reason":null}]}` + "\n\n"
}

func finish(reason string) string {
	return "data: " + chunkHead + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"` +
		reason + `"}]}` + "\n\n"
}

func choice(index int, text, reason string) string {
	fr := "null"
	if reason != "" {
		fr = `"` + reason + `"`
	}
	return "data: " + chunkHead + fmt.Sprintf(`"choices":[{"index":%d,"delta":{"content":%q},"finish_reason":%s}]}`, index, text, fr) + "\n\n"
}

const (
	roleChunk = "data: " + chunkHead + `"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},` +
		`"logprobs":null,"finish_reason":null}]}` + "\n\n"
	usageChunk = "data: " + chunkHead + `"choices":[],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}` + "\n\n"
	done = "data: [DONE]\n\n"
)

// sseServer answers every request with body as an event stream, then ends
// the response cleanly or, with abort, by dropping the connection.
func sseServer(t *testing.T, body string, abort bool) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 8)
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		got <- readRequest(t, r)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body)
		_ = http.NewResponseController(w).Flush()
		if abort {
			panic(http.ErrAbortHandler)
		}
	})
	return srv, got
}

// drained is everything a stream delivered.
type drained struct {
	chunks int
	text   string
	usage  *goopenai.Usage
	err    error
}

// drain reads st to its end.
func drain(t *testing.T, st providers.Stream) drained {
	t.Helper()
	var d drained
	for range 10000 {
		c, err := st.Recv()
		if err != nil {
			d.err = err
			if again, _ := st.Recv(); again.ID != "" {
				t.Errorf("Recv after %v returned a chunk", err)
			}
			if _, again := st.Recv(); again != err {
				t.Errorf("Recv after %v returned %v; want the same error", err, again)
			}
			return d
		}
		d.chunks++
		for _, ch := range c.Choices {
			d.text += ch.Delta.Content
		}
		if c.Usage != nil {
			d.usage = c.Usage
		}
	}
	t.Fatal("stream never ended")
	return d
}

func TestChatStream(t *testing.T) {
	truncated := &providers.Error{
		Status: 502, Code: oai.CodeStreamTruncated,
		Message: "stream ended before [DONE] or a finish reason",
	}
	tests := []struct {
		name       string
		body       string
		abort      bool // drop the connection after body
		wantChunks int
		wantText   string
		wantErr    *providers.Error // nil: a clean io.EOF
	}{
		{
			name:       "complete with [DONE]",
			body:       roleChunk + content("Hel") + content("lo") + finish("stop") + done,
			wantChunks: 4, wantText: "Hello",
		},
		{
			name:       "usage chunk after the finish",
			body:       roleChunk + content("Hi") + finish("stop") + usageChunk + done,
			wantChunks: 4, wantText: "Hi",
		},
		{
			name:       "finish reason then a clean end without [DONE]",
			body:       content("Hi") + finish("length"),
			wantChunks: 2, wantText: "Hi",
		},
		{
			name:       "finish reason and usage then the connection drops",
			body:       content("Hi") + finish("stop") + usageChunk,
			abort:      true,
			wantChunks: 3, wantText: "Hi",
		},
		{
			name:       "[DONE] without a line ending",
			body:       content("Hi") + "data: [DONE]",
			wantChunks: 1, wantText: "Hi",
		},
		{
			name:       "cut without a finish reason, clean end",
			body:       roleChunk + content("Hel"),
			wantChunks: 2, wantText: "Hel", wantErr: truncated,
		},
		{
			name:       "cut without a finish reason, connection dropped",
			body:       roleChunk + content("Hel"),
			abort:      true,
			wantChunks: 2, wantText: "Hel", wantErr: truncated,
		},
		{
			name:       "cut in the middle of an event",
			body:       content("Hel") + `data: {"id":"chatcmpl-1","choi`,
			wantChunks: 1, wantText: "Hel",
			wantErr: &providers.Error{Status: 502, Code: oai.CodeStreamTruncated, Message: "stream ended in the middle of an event"},
		},
		{
			name:       "cut in the middle of the last event after the finish",
			body:       content("Hi") + finish("stop") + `data: {"id":"chatcmpl-1","choi`,
			wantChunks: 2, wantText: "Hi",
			wantErr: &providers.Error{Status: 502, Code: oai.CodeStreamTruncated, Message: "stream ended in the middle of an event"},
		},
		{
			name:    "empty body",
			wantErr: truncated,
		},
		{
			name:       "usage without a finish reason",
			body:       content("Hi") + usageChunk,
			wantChunks: 2, wantText: "Hi", wantErr: truncated,
		},
		{
			name:       "malformed event",
			body:       content("Hel") + "data: {\"id\": nope}\n\n" + finish("stop") + done,
			wantChunks: 1, wantText: "Hel",
			wantErr: &providers.Error{Status: 502, Code: oai.CodeMalformedEvent, Message: "malformed stream event"},
		},
		{
			name:       "long event",
			body:       content(strings.Repeat("a", 100_000)) + finish("stop") + done,
			wantChunks: 2, wantText: strings.Repeat("a", 100_000),
		},
		{
			name:    "event over the size limit",
			body:    "data: " + strings.Repeat(" ", 9<<20) + "\n\n" + done,
			wantErr: &providers.Error{Status: 502, Code: oai.CodeMalformedEvent, Message: "malformed stream event"},
		},
		{
			name:    "data that is not an object",
			body:    "data: hello\n\n" + done,
			wantErr: &providers.Error{Status: 502, Code: oai.CodeMalformedEvent, Message: "malformed stream event"},
		},
		{
			name: "overloaded error as the first event",
			body: "data: " + apiError("Overloaded", "overloaded_error", nil) + "\n\n",
			wantErr: &providers.Error{
				Status: 503, Type: "overloaded_error", Message: "Overloaded",
			},
		},
		{
			name: "OpenAI's overload event after content",
			body: content("Hel") + "data: " + apiError("Our servers are currently overloaded. Please try again later.",
				"service_unavailable_error", "server_is_overloaded") + "\n\n",
			wantChunks: 1, wantText: "Hel",
			wantErr: &providers.Error{
				Status: 503, Code: "server_is_overloaded", Type: "service_unavailable_error",
				Message: "Our servers are currently overloaded. Please try again later.",
			},
		},
		{
			name: "service_unavailable_error with no code",
			body: "data: " + apiError("Service unavailable", "service_unavailable_error", nil) + "\n\n",
			wantErr: &providers.Error{
				Status: 503, Type: "service_unavailable_error", Message: "Service unavailable",
			},
		},
		{
			name: "server_error as the first event",
			body: "data: " + apiError("The server had an error while processing your request.", "server_error", nil) + "\n\n" + done,
			wantErr: &providers.Error{
				Status: 500, Type: "server_error", Message: "The server had an error while processing your request.",
			},
		},
		{
			name: "rate limit as the first event",
			body: "data: " + apiError("Rate limit reached", "tokens", "rate_limit_exceeded") + "\n\n",
			wantErr: &providers.Error{
				Status: 429, Code: "rate_limit_exceeded", Type: "tokens", Message: "Rate limit reached",
			},
		},
		{
			name: "other error codes are 502 and keep their code",
			body: "data: " + apiError("too long", "invalid_request_error", "context_length_exceeded") + "\n\n",
			wantErr: &providers.Error{
				Status: 502, Code: "context_length_exceeded", Type: "invalid_request_error", Message: "too long",
			},
		},
		{
			name: "vLLM error object",
			body: `data: {"object":"error","message":"This model's maximum context length is 4096 tokens.",` +
				`"type":"BadRequestError","param":null,"code":400}` + "\n\n",
			wantErr: &providers.Error{
				Status: 502, Code: "400", Type: "BadRequestError",
				Message: "This model's maximum context length is 4096 tokens.",
			},
		},
		{
			name:    "error as a string",
			body:    `data: {"error":"upstream connect error"}` + "\n\n",
			wantErr: &providers.Error{Status: 502, Message: "upstream connect error"},
		},
		{
			name: "event: error with an error object",
			body: "event: error\ndata: {\"message\":\"boom\",\"type\":\"api_error\"}\n\n",
			wantErr: &providers.Error{
				Status: 500, Type: "api_error", Message: "boom",
			},
		},
		{
			name:    "event: error with plain text",
			body:    "event: error\ndata: upstream overloaded\n\n",
			wantErr: &providers.Error{Status: 502, Message: "upstream overloaded"},
		},
		{
			name:       "error after content",
			body:       content("Hel") + "data: " + apiError("Overloaded", "overloaded_error", "overloaded") + "\n\n",
			wantChunks: 1, wantText: "Hel",
			wantErr: &providers.Error{Status: 503, Code: "overloaded", Type: "overloaded_error", Message: "Overloaded"},
		},
		{
			name: "plain JSON error with a success status",
			body: apiError("Invalid key", "invalid_request_error", "invalid_api_key"),
			wantErr: &providers.Error{
				Status: 502, Code: "invalid_api_key", Type: "invalid_request_error", Message: "Invalid key",
			},
		},
		{
			name: "pretty-printed JSON error with a success status",
			body: "{\n  \"error\": {\n    \"message\": \"busy\",\n    \"type\": \"server_error\",\n    \"code\": null\n  }\n}\n",
			wantErr: &providers.Error{
				Status: 500, Type: "server_error", Message: "busy",
			},
		},
		{
			name: "keep-alives, CRLF, no space after the colon, other fields",
			body: ": keep-alive\r\n\r\n" + "id: 1\r\nretry: 100\r\nevent: message\r\n" +
				strings.ReplaceAll(strings.Replace(content("Hi"), "data: ", "data:", 1), "\n", "\r\n") +
				"data:\r\n\r\n" + ": OPENROUTER PROCESSING\n\n" + finish("stop") + "data: [DONE]\r\n",
			wantChunks: 2, wantText: "Hi",
		},
		{
			name:       "no blank lines between events",
			body:       strings.ReplaceAll(content("a")+content("b")+finish("stop")+done, "\n\n", "\n"),
			wantChunks: 3, wantText: "ab",
		},
		{
			name:       "byte order mark",
			body:       "\xEF\xBB\xBF" + content("Hi") + finish("stop"),
			wantChunks: 2, wantText: "Hi",
		},
		{
			name: "prompt filter chunk without choices first (Azure)",
			body: `data: {"choices":[],"created":0,"id":"","model":"","object":"",` +
				`"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}` + "\n\n" +
				content("Hi") + finish("stop") + done,
			wantChunks: 3, wantText: "Hi",
		},
		{
			name:       "two choices, both finished",
			body:       choice(0, "a", "") + choice(1, "b", "") + choice(0, "", "stop") + choice(1, "", "stop"),
			wantChunks: 4, wantText: "ab",
		},
		{
			name:       "two choices, one unfinished",
			body:       choice(0, "a", "") + choice(1, "b", "") + choice(0, "", "stop"),
			wantChunks: 3, wantText: "ab", wantErr: truncated,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := sseServer(t, tt.body, tt.abort)
			p := newProvider(t, srv)

			st, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: chatRequest()})
			if err != nil {
				t.Fatalf("ChatStream: %v", err)
			}
			defer st.Close()
			got := drain(t, st)

			if diff := cmp.Diff([]any{got.chunks, got.text}, []any{tt.wantChunks, tt.wantText}); diff != "" {
				t.Errorf("chunks, text (-got +want):\n%s", diff)
			}
			if tt.wantErr == nil {
				if got.err != io.EOF {
					t.Errorf("end: %v; want io.EOF", got.err)
				}
				return
			}
			if errors.Is(got.err, io.EOF) {
				t.Fatalf("end: %v; want an error, not io.EOF", got.err)
			}
			if diff := cmp.Diff(*asProviderError(t, got.err), *tt.wantErr, errFields); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
		})
	}
}

func TestChatStreamRequestAndUsage(t *testing.T) {
	srv, reqs := sseServer(t, roleChunk+content("Hi")+finish("stop")+usageChunk+done, false)
	p := newProvider(t, srv)
	req := chatRequest()
	req.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}

	st, err := p.ChatStream(t.Context(), providers.ChatRequest{
		Request: req,
		Call: providers.Call{
			Header:       http.Header{"X-Session-Id": {"abc"}},
			RemoveHeader: []string{"Cache-Control"},
			Extra:        map[string]any{"prompt_version_fqn": "p:2"},
		},
	})
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	defer st.Close()
	got := drain(t, st)

	if diff := cmp.Diff(got.usage, &goopenai.Usage{PromptTokens: 9, CompletionTokens: 2, TotalTokens: 11}); diff != "" {
		t.Errorf("usage (-got +want):\n%s", diff)
	}
	if got.err != io.EOF {
		t.Errorf("end: %v; want io.EOF", got.err)
	}
	r := <-reqs
	gotReq := []any{
		r.Path, r.Body["stream"], r.Body["stream_options"], r.Body["prompt_version_fqn"],
		r.Header.Get("Accept"), r.Header.Get("X-Session-Id"), r.Header.Get("Cache-Control"),
		r.Header.Get("Authorization"),
	}
	wantReq := []any{
		"/v1/chat/completions", true, map[string]any{"include_usage": true}, "p:2",
		"text/event-stream", "abc", "",
		"Bearer " + testKey,
	}
	if diff := cmp.Diff(gotReq, wantReq); diff != "" {
		t.Errorf("request (-got +want):\n%s", diff)
	}
}

func TestChatStreamHTTPErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		want  providers.Error
	}{
		{
			name: "429 with Retry-After",
			reply: reply{
				status: 429, header: map[string]string{"Retry-After": "2"},
				body: apiError("Rate limit reached", "requests", "rate_limit_exceeded"),
			},
			want: providers.Error{Status: 429, RetryAfter: 2 * time.Second, Code: "rate_limit_exceeded", Type: "requests", Message: "Rate limit reached"},
		},
		{
			name:  "503 JSON",
			reply: reply{status: 503, body: apiError("overloaded", "server_error", nil)},
			want:  providers.Error{Status: 503, Type: "server_error", Message: "overloaded"},
		},
		{
			name:  "HTML 502",
			reply: reply{status: 502, header: map[string]string{"Content-Type": "text/html"}, body: "<h1>Bad Gateway</h1>"},
			want:  providers.Error{Status: 502, Message: "<h1>Bad Gateway</h1>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, tt.reply)
			p := newProvider(t, srv)

			st, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: chatRequest()})
			if st != nil {
				t.Errorf("ChatStream returned a stream with error %v", err)
			}
			if diff := cmp.Diff(*asProviderError(t, err), tt.want, errFields); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
		})
	}
}

// openStream starts a stream whose server sends one chunk and then waits
// for the client to go away; gone is closed when the server sees it go.
func openStream(t *testing.T, ctx context.Context) (st providers.Stream, gone <-chan struct{}) {
	t.Helper()
	disconnected := make(chan struct{})
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		hang(r)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, content("Hel"))
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
		close(disconnected)
	})
	p := newProvider(t, srv)
	st, err := p.ChatStream(ctx, providers.ChatRequest{Request: chatRequest()})
	if err != nil {
		t.Fatalf("ChatStream: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Recv(); err != nil {
		t.Fatalf("first Recv: %v", err)
	}
	return st, disconnected
}

func TestChatStreamClose(t *testing.T) {
	st, gone := openStream(t, t.Context())

	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	<-gone // the server saw the client leave
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := st.Recv(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Close: %v; want net.ErrClosed", err)
	}
}

func TestChatStreamCloseUnblocksRecv(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := &closableBody{first: strings.NewReader(content("Hel")), closed: make(chan struct{})}
		p := memProvider(func(r *http.Request) (*http.Response, error) {
			resp := respond(r, 200, http.Header{"Content-Type": {"text/event-stream"}}, "")
			resp.Body = body
			return resp, nil
		})
		st, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: chatRequest()})
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatalf("first Recv: %v", err)
		}
		recvErr := make(chan error, 1)
		go func() {
			_, err := st.Recv() // blocks: the body sends nothing more
			recvErr <- err
		}()
		synctest.Wait() // the reader is now blocked inside Recv
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-recvErr; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Recv blocked when Close was called returned %v; want net.ErrClosed", err)
		}
	})
}

// closableBody yields first and then blocks until it is closed, as a
// silent server's connection does.
type closableBody struct {
	first  *strings.Reader
	closed chan struct{}
	once   sync.Once
}

func (b *closableBody) Read(p []byte) (int, error) {
	if b.first.Len() > 0 {
		return b.first.Read(p)
	}
	<-b.closed
	return 0, net.ErrClosed
}

func (b *closableBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func TestChatStreamCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	st, gone := openStream(t, ctx)

	recvErr := make(chan error, 1)
	go func() {
		_, err := st.Recv()
		recvErr <- err
	}()
	cancel()
	err := <-recvErr
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Recv: %v; want context.Canceled", err)
	}
	<-gone
	if _, again := st.Recv(); !errors.Is(again, context.Canceled) {
		t.Errorf("second Recv: %v; want context.Canceled", again)
	}
}

// blockingBody is a response body that yields first and then blocks until
// ctx is done, as a silent server does.
type blockingBody struct {
	ctx   context.Context
	first *strings.Reader
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if b.first.Len() > 0 {
		return b.first.Read(p)
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *blockingBody) Close() error { return nil }

func TestChatStreamDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memProvider(func(r *http.Request) (*http.Response, error) {
			resp := respond(r, 200, http.Header{"Content-Type": {"text/event-stream"}}, "")
			resp.Body = &blockingBody{ctx: r.Context(), first: strings.NewReader(content("Hel"))}
			return resp, nil
		})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		st, err := p.ChatStream(ctx, providers.ChatRequest{Request: chatRequest()})
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer st.Close()
		start := time.Now()

		if _, err := st.Recv(); err != nil {
			t.Fatalf("first Recv: %v", err)
		}
		_, err = st.Recv()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Recv: %v; want DeadlineExceeded", err)
		}
		if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
			t.Errorf("status (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(time.Since(start), 10*time.Second); diff != "" {
			t.Errorf("waited (-got +want):\n%s", diff)
		}
	})
}
