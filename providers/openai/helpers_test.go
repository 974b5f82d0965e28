package openai_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
)

// testKey is a sentinel credential: it must never appear in an error.
const testKey = "sk-test-SENTINEL0123456789abcdefXYZ"

// Wire-format bodies as OpenAI sends them.
const (
	chatOK = `{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,` +
		`"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_44709d6fcb",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!","refusal":null},` +
		`"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`
	completionOK = `{"id":"cmpl-1","object":"text_completion","created":1700000000,` +
		`"model":"gpt-3.5-turbo-instruct","choices":[{"text":" world","index":0,"logprobs":null,` +
		`"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	embeddingOK = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5]}],` +
		`"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}`
)

// apiError renders an OpenAI error body.
func apiError(message, typ string, code any) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": code,
	}})
	return string(b)
}

// received is what a test server saw of one request.
type received struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   map[string]any
}

// reply is a canned response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// newServer starts a server that records each request and answers with r.
// It is closed, with its client's idle connections, when the test ends.
func newServer(t *testing.T, r reply) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 64)
	srv := newHandlerServer(t, func(w http.ResponseWriter, req *http.Request) {
		got <- readRequest(t, req)
		for k, v := range r.header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		status := r.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, r.body)
	})
	return srv, got
}

func newHandlerServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func readRequest(t *testing.T, req *http.Request) received {
	t.Helper()
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		t.Errorf("server: reading body: %v", err)
	}
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("server: body is not a JSON object: %v\n%s", err, raw)
		}
	}
	return received{
		Method: req.Method,
		Path:   req.URL.Path,
		Query:  req.URL.RawQuery,
		Header: req.Header.Clone(),
		Body:   body,
	}
}

// newProvider returns a Provider for srv's OpenAI-style API at /v1.
func newProvider(t *testing.T, srv *httptest.Server) *oai.Provider {
	t.Helper()
	cfg := goopenai.DefaultConfig(testKey)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = srv.Client()
	return oai.New(cfg)
}

// doerFunc is an in-memory HTTP client, for tests that need no network
// (virtual time, fuzzing, allocation counts).
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// memProvider returns a Provider whose requests are answered by do.
func memProvider(do doerFunc) *oai.Provider {
	return oai.New(goopenai.DefaultConfig(testKey), oai.WithHTTPClient(do))
}

// respond builds a response to req.
func respond(req *http.Request, status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		Status:        http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// chatRequest is a small valid chat request.
func chatRequest() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model:       "gpt-4o",
		Temperature: 0.5,
		Messages:    []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hi"}},
	}
}

// hang prepares a handler to wait for the client to go away: the server
// notices a closed connection (and cancels r.Context()) only once the
// request body has been read.
func hang(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
}
