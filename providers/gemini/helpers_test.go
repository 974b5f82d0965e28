package gemini_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
)

// testKey is a sentinel credential shaped like a Google API key: it must
// never appear in an error.
const testKey = "AIzaSyTEST-SENTINEL-0123456789abcdefghij"

// seen is what a test server saw of one request.
type seen struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   map[string]any
}

// server is an httptest server speaking Gemini's wire format, recording
// every request. Its handler answers each request; the default answers
// with answerText.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// newServer starts a server whose requests h answers; h may be nil for a
// plain answer ("Hello there!"). It is closed when the test ends.
func newServer(t testing.TB, h func(w http.ResponseWriter, r *http.Request, body map[string]any)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				http.Error(w, "bad json: "+err.Error(), http.StatusTeapot)
				return
			}
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		if h == nil {
			writeJSON(w, http.StatusOK, answerText("Hello there!"))
			return
		}
		h(w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// hangingServer starts a server that reads each request and never
// answers, until the client goes away or the test ends.
func hangingServer(t testing.TB) *server {
	t.Helper()
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	// Registered after the server's own cleanup, so it runs first and
	// the server's Close does not wait on a hanging handler.
	t.Cleanup(func() { close(release) })
	return srv
}

// requests returns what the server has received so far.
func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// only returns the one request the server received.
func (s *server) only(t testing.TB) seen {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// obj is a JSON object, for writing wire bodies.
type obj = map[string]any

// answerText is a generateContent response holding text.
func answerText(text string) obj {
	return obj{
		"candidates": []any{obj{
			"content":      obj{"role": "model", "parts": []any{obj{"text": text}}},
			"finishReason": "STOP",
			"index":        0,
		}},
		"usageMetadata": obj{"promptTokenCount": 9, "candidatesTokenCount": 3, "totalTokenCount": 12},
		"modelVersion":  "gemini-2.5-flash-001",
		"responseId":    "resp-abc",
	}
}

// apiErrorBody is a Gemini error body.
func apiErrorBody(code int, status, message string, details ...any) obj {
	e := obj{"code": code, "message": message, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	return obj{"error": e}
}

// retryInfo is a google.rpc.RetryInfo detail.
func retryInfo(delay string) obj {
	return obj{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
}

// testTransport is an HTTP transport whose idle connections are closed
// when the test ends, so no goroutine outlives it.
func testTransport(t testing.TB) *http.Transport {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newProvider returns a Gemini API provider for srv with testKey.
func newProvider(t testing.TB, srv *server) *gem.Provider {
	t.Helper()
	return newProviderWith(t, &genai.ClientConfig{
		APIKey:      testKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  &http.Client{Transport: testTransport(t)},
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL},
	})
}

// newProviderWith returns a provider for cfg or fails the test.
func newProviderWith(t testing.TB, cfg *genai.ClientConfig) *gem.Provider {
	t.Helper()
	p, err := gem.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// userSays is a chat request with one user message.
func userSays(model, text string) providers.ChatRequest {
	return providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    model,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: text}},
	}}
}

// asProviderError returns err's *providers.Error or fails the test.
func asProviderError(t testing.TB, err error) *providers.Error {
	t.Helper()
	pe, ok := providers.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	return pe
}

// errorTexts is every rendering of err and of each error it wraps.
func errorTexts(err error) string {
	var b strings.Builder
	for depth := 0; err != nil && depth < 32; depth++ {
		fmt.Fprintf(&b, "%v\n%+v\n%#v\n%s\n", err, err, err, err.Error())
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				b.WriteString(errorTexts(inner))
			}
			err = nil
		default:
			err = nil
		}
	}
	return b.String()
}

// dig returns the value at path in a decoded JSON body ("a.b.0.c").
func dig(v any, path string) any {
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[key]
		case []any:
			var i int
			if _, err := fmt.Sscan(key, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// providersRequest wraps an OpenAI request as a ChatRequest.
func providersRequest(r openai.ChatCompletionRequest) providers.ChatRequest {
	return providers.ChatRequest{Request: r}
}
