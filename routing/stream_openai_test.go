package routing_test

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

	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// sseChunk is one OpenAI chat.completion.chunk event.
func sseChunk(model, content, finish string) string {
	fr := "null"
	if finish != "" {
		fr = fmt.Sprintf("%q", finish)
	}
	return fmt.Sprintf(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":{"content":%q},"finish_reason":%s}]}`+"\n\n", model, content, fr)
}

// sseServer answers each model with the frames its script gives; a frame
// "<stall>" blocks until the client goes away, "<cut>" ends the response
// abruptly. disconnected is closed when a stalled handler sees its client
// leave.
type sseServer struct {
	frames       map[string][]string
	disconnected chan struct{}
	once         sync.Once
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req goopenai.ChatCompletionRequest
	body, _ := io.ReadAll(r.Body)
	if err := jsonUnmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	frames, ok := s.frames[req.Model]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"message":"The model %s does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`, req.Model)
		return
	}
	if strings.HasPrefix(frames[0], "HTTP ") {
		w.Header().Set("Content-Type", "application/json")
		var code int
		fmt.Sscanf(frames[0], "HTTP %d", &code)
		w.WriteHeader(code)
		io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for _, f := range frames {
		switch f {
		case "<stall>":
			fl.Flush()
			<-r.Context().Done()
			s.once.Do(func() { close(s.disconnected) })
			return
		case "<cut>":
			fl.Flush()
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, f)
		fl.Flush()
	}
}

func newSSEClient(t *testing.T, frames map[string][]string, tweak func(*target.Target), opts ...routing.Option) (*routing.Client, *sseServer) {
	t.Helper()
	s := &sseServer{frames: frames, disconnected: make(chan struct{})}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := goopenai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL + "/v1"
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cfg.HTTPClient = &http.Client{Transport: tr}
	targets := []target.Target{{Ref: "oai/a"}, {Ref: "oai/b", Priority: 1}}
	for i := range targets {
		if tweak != nil {
			tweak(&targets[i])
		}
	}
	opts = append([]routing.Option{routing.WithProvider("oai", oai.New(cfg)), routing.WithGroup(routing.Group{
		Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: targets,
		}}},
	})}, opts...)
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

const done = "data: [DONE]\n\n"

func TestSSEStreams(t *testing.T) {
	good := []string{sseChunk("b", "", ""), sseChunk("b", "from ", ""), sseChunk("b", "b", ""), sseChunk("b", "", "stop"), done}
	tests := []struct {
		name        string
		primary     []string
		restart     bool
		wantContent []string // content per drain, in order
		wantErrs    []error  // the error ending each drain
		wantTarget  string
	}{
		{
			name:        "complete with [DONE]",
			primary:     []string{sseChunk("a", "Hel", ""), sseChunk("a", "lo", ""), sseChunk("a", "", "stop"), done},
			wantContent: []string{"Hello"}, wantErrs: []error{io.EOF}, wantTarget: "oai/a",
		},
		{
			name:        "finish reason without [DONE] is complete",
			primary:     []string{sseChunk("a", "Hel", ""), sseChunk("a", "lo", "stop")},
			wantContent: []string{"Hello"}, wantErrs: []error{io.EOF}, wantTarget: "oai/a",
		},
		{
			name:        "error event first falls back",
			primary:     []string{`data: {"error":{"message":"Overloaded","type":"overloaded_error","code":"overloaded"}}` + "\n\n"},
			wantContent: []string{"from b"}, wantErrs: []error{io.EOF}, wantTarget: "oai/b",
		},
		{
			name:        "HTTP 503 before the stream falls back",
			primary:     []string{"HTTP 503"},
			wantContent: []string{"from b"}, wantErrs: []error{io.EOF}, wantTarget: "oai/b",
		},
		{
			name:        "cut after content is interrupted",
			primary:     []string{sseChunk("a", "Hel", ""), "<cut>"},
			wantContent: []string{"Hel"}, wantErrs: []error{routing.ErrStreamInterrupted}, wantTarget: "oai/a",
		},
		{
			name:        "clean close without finish reason is interrupted",
			primary:     []string{sseChunk("a", "Hel", "")},
			wantContent: []string{"Hel"}, wantErrs: []error{routing.ErrStreamInterrupted}, wantTarget: "oai/a",
		},
		{
			name:        "malformed event is interrupted",
			primary:     []string{sseChunk("a", "Hel", ""), "data: {\"id\": oops\n\n"},
			wantContent: []string{"Hel"}, wantErrs: []error{routing.ErrStreamInterrupted}, wantTarget: "oai/a",
		},
		{
			name:        "error event after content is interrupted",
			primary:     []string{sseChunk("a", "Hel", ""), `data: {"error":{"message":"boom","type":"server_error","code":null}}` + "\n\n"},
			wantContent: []string{"Hel"}, wantErrs: []error{routing.ErrStreamInterrupted}, wantTarget: "oai/a",
		},
		{
			name:        "opt-in restart replays on the backup",
			primary:     []string{sseChunk("a", "Hel", ""), "<cut>"},
			restart:     true,
			wantContent: []string{"Hel", "from b"}, wantErrs: []error{routing.ErrStreamRestarted, io.EOF}, wantTarget: "oai/b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newSSEClient(t, map[string][]string{"a": tt.primary, "b": good}, nil)
			st, err := c.ChatStream(t.Context(), chatReq(), routing.RestartOnInterrupt(tt.restart))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for i := range tt.wantContent {
				got, _, err := drain(st)
				if got != tt.wantContent[i] {
					t.Errorf("drain %d content = %q, want %q", i, got, tt.wantContent[i])
				}
				if !errors.Is(err, tt.wantErrs[i]) {
					t.Errorf("drain %d error = %v, want %v", i, err, tt.wantErrs[i])
				}
			}
			if got := st.Target(); got != tt.wantTarget {
				t.Errorf("target = %q, want %q", got, tt.wantTarget)
			}
		})
	}
}

func TestSSECloseDisconnectsUpstream(t *testing.T) {
	c, srv := newSSEClient(t, map[string][]string{"a": {sseChunk("a", "Hel", ""), "<stall>"}}, nil)
	st, err := c.ChatStream(t.Context(), chatReq())
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := st.Recv(); err != nil || ch.Choices[0].Delta.Content != "Hel" {
		t.Fatalf("first Recv = %+v, %v", ch, err)
	}
	st.Close()
	select {
	case <-srv.disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the client disconnect after Close")
	}
	if _, err := st.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, want an error", err)
	}
}

func TestSSECancelDisconnectsUpstream(t *testing.T) {
	c, srv := newSSEClient(t, map[string][]string{"a": {sseChunk("a", "Hel", ""), "<stall>"}}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	st, err := c.ChatStream(ctx, chatReq())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Recv()
	cancel()
	if _, err := st.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel = %v, want context.Canceled", err)
	}
	select {
	case <-srv.disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the client disconnect after cancel")
	}
}

// pipeListener is an in-memory net.Listener, so an HTTP server and client
// can run inside a synctest bubble, where time is virtual.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestSSETimersInVirtualTime(t *testing.T) {
	tests := []struct {
		name    string
		primary []string
		tweak   func(*target.Target)
		check   func(t *testing.T, content string, err error, target string, took time.Duration)
	}{
		{
			name:    "stall after content is interrupted at the idle timeout",
			primary: []string{sseChunk("a", "Hel", ""), "<stall>"},
			tweak:   func(t *target.Target) { t.StreamIdleTimeout = 5 * time.Second },
			check: func(t *testing.T, content string, err error, target string, took time.Duration) {
				var se *routing.StreamError
				if !errors.As(err, &se) || !errors.Is(err, routing.ErrStreamInterrupted) || se.StatusCode() != 408 {
					t.Errorf("error = %v, want a 408 ErrStreamInterrupted", err)
				}
				if content != "Hel" || took != 5*time.Second {
					t.Errorf("content %q after %v, want %q after 5s", content, took, "Hel")
				}
			},
		},
		{
			name:    "no first token within ttft_timeout_ms falls back",
			primary: []string{"<stall>"},
			tweak:   func(t *target.Target) { t.TTFTTimeout = 2 * time.Second },
			check: func(t *testing.T, content string, err error, target string, took time.Duration) {
				if err != io.EOF || content != "from b" || target != "oai/b" {
					t.Errorf("got %q, %v from %s; want the backup's answer", content, err, target)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := newPipeListener()
				s := &sseServer{frames: map[string][]string{"a": tt.primary, "b": {sseChunk("b", "from b", "stop")}}, disconnected: make(chan struct{})}
				srv := &http.Server{Handler: s}
				go srv.Serve(ln)
				defer srv.Close()
				tr := &http.Transport{DialContext: ln.dial}
				defer tr.CloseIdleConnections()
				cfg := goopenai.DefaultConfig("sk-test")
				cfg.BaseURL = "http://pipe/v1"
				cfg.HTTPClient = &http.Client{Transport: tr}
				targets := []target.Target{{Ref: "oai/a"}, {Ref: "oai/b", Priority: 1}}
				for i := range targets {
					tt.tweak(&targets[i])
				}
				c, err := routing.New(routing.WithProvider("oai", oai.New(cfg)), routing.WithGroup(routing.Group{
					Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
						Type: routing.PriorityBased, Targets: targets,
					}}},
				}))
				if err != nil {
					t.Fatal(err)
				}
				st, err := c.ChatStream(t.Context(), chatReq())
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				content, _, err := drain(st)
				took := time.Since(start)
				target := st.Target()
				st.Close()
				tt.check(t, content, err, target, took)
			})
		})
	}
}
