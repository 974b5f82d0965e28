package anthropic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// testKey is the API key of every test provider: shaped like a real one,
// so that a leak would be caught by the key pattern as well.
const testKey = "sk-ant-api03-SENTINEL-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e"

// seen is one request a test server received.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

// server is an httptest server speaking Anthropic's Messages API: it
// records every request and answers with handle.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// newServer starts a server that answers every request with handle.
func newServer(t testing.TB, handle http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		handle(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns what the server has received so far.
func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// only returns the one request the server received, failing the test
// when it received another number.
func (s *server) only(t *testing.T) seen {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("server received %d requests; want 1", len(reqs))
	}
	return reqs[0]
}

// newProvider returns a provider for s, with its own transport whose idle
// connections close when the test ends.
func newProvider(t testing.TB, s *server, opts ...option.RequestOption) *anth.Provider {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	all := []option.RequestOption{
		option.WithAPIKey(testKey),
		option.WithBaseURL(s.URL),
		option.WithHTTPClient(&http.Client{Transport: tr}),
	}
	return anth.New(append(all, opts...)...)
}

// memProvider returns a provider whose requests go to do, in memory.
func memProvider(do func(*http.Request) (*http.Response, error), opts ...option.RequestOption) *anth.Provider {
	all := []option.RequestOption{
		option.WithAPIKey(testKey),
		option.WithBaseURL("https://api.example.test"),
		option.WithHTTPClient(doerFunc(do)),
	}
	return anth.New(append(all, opts...)...)
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// respond builds a response to r.
func respond(r *http.Request, status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status,
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:     header,
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
}

// messageJSON is a Messages API response with the given content blocks
// (a JSON array), stop reason and usage.
func messageJSON(content, stopReason, usage string) string {
	return `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",` +
		`"content":` + content + `,"stop_reason":"` + stopReason + `","stop_sequence":null,"usage":` + usage + `}`
}

// helloJSON is a plain text answer.
var helloJSON = messageJSON(`[{"type":"text","text":"Hello there!"}]`, "end_turn", `{"input_tokens":9,"output_tokens":3}`)

// writeJSON answers with status and body as JSON.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// errorJSON is an Anthropic error body.
func errorJSON(typ, msg string) string {
	m, _ := json.Marshal(msg)
	return `{"type":"error","error":{"type":"` + typ + `","message":` + string(m) + `},"request_id":"req_011"}`
}

// sse is one server-sent event.
type sse struct{ event, data string }

// sseBody renders events as Anthropic sends them.
func sseBody(events ...sse) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", e.event, e.data)
	}
	return b.String()
}

// writeSSE answers with a stream of events, flushed one by one.
func writeSSE(w http.ResponseWriter, events ...sse) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	for _, e := range events {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.event, e.data)
		if f != nil {
			f.Flush()
		}
	}
}

// Events of a stream, in Anthropic's words.
func evMessageStart(inputTokens int) sse {
	return sse{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}`, inputTokens)}
}

func evTextStart(index int) sse {
	return sse{"content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`, index)}
}

func evText(index int, text string) sse {
	t, _ := json.Marshal(text)
	return sse{"content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}`, index, t)}
}

func evBlockStop(index int) sse {
	return sse{"content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, index)}
}

func evMessageDelta(stopReason string, outputTokens int) sse {
	return sse{"message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%q,"stop_sequence":null},"usage":{"output_tokens":%d}}`, stopReason, outputTokens)}
}

var (
	evMessageStop = sse{"message_stop", `{"type":"message_stop"}`}
	evPing        = sse{"ping", `{"type": "ping"}`}
)

// helloStream is a complete streamed answer "Hello there!".
func helloStream() []sse {
	return []sse{
		evMessageStart(9), evTextStart(0), evPing, evText(0, "Hello"), evText(0, " there!"), evBlockStop(0),
		evMessageDelta("end_turn", 3), evMessageStop,
	}
}

// chatRequest is a one-message chat request.
func chatRequest() providers.ChatRequest {
	return providers.ChatRequest{Request: goopenai.ChatCompletionRequest{
		Model:    "claude-sonnet-4-5",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hi"}},
	}}
}

// asProviderError returns err's *providers.Error or fails the test.
func asProviderError(t *testing.T, err error) *providers.Error {
	t.Helper()
	pe, ok := providers.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	return pe
}
