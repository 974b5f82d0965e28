package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// coreSeen is one request an OpenAI-compatible test server received.
type coreSeen struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// coreServer is an httptest server speaking OpenAI's chat completions
// wire format. answer, when not nil, may write an error response for a
// request and report true; otherwise the server answers with a chat
// completion from the requested model.
type coreServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []coreSeen
}

func newCoreServer(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, body map[string]any) bool) *coreServer {
	t.Helper()
	s := &coreServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.seen = append(s.seen, coreSeen{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		if answer != nil && answer(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":%q,`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`, body["model"])
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns what the server has received so far.
func (s *coreServer) requests() []coreSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]coreSeen(nil), s.seen...)
}

// coreTransport is an HTTP transport tuned for many calls to one
// loopback host; its idle connections are closed when the test ends, so
// no goroutine outlives it.
func coreTransport(t testing.TB) *http.Transport {
	t.Helper()
	tr := &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// coreConfig is a go-openai configuration for the server with key.
func coreConfig(s *coreServer, key string, tr http.RoundTripper) goopenai.ClientConfig {
	cfg := goopenai.DefaultConfig(key)
	cfg.BaseURL = s.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: tr}
	return cfg
}

// TestOpenAIOverridesOnTheWire checks override_params and headers_override
// through the OpenAI adapter: the server sees the JSON fields and headers.
func TestOpenAIOverridesOnTheWire(t *testing.T) {
	tests := []struct {
		name       string
		tools      bool
		wantPrompt bool
	}{
		{"plain chat", false, true},
		{"with tools", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newCoreServer(t, nil)
			p := oai.New(coreConfig(srv, "sk-test-key-for-overrides", coreTransport(t)))
			c := coreClient(t, routing.WithProvider(coreAcct, p),
				routing.WithGroup(coreGroup(corePriority(overrideTarget(coreRef("real-model"))))))
			req, hdr := callerRequest(tt.tools), callerHeaders()
			ctx, tr := coreTraced(routing.WithHeaders(context.Background(), hdr))
			resp, err := c.Chat(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != "real-model" || tr.Resolved != "acct/real-model" {
				t.Errorf("response model %q, resolved %q; want real-model, acct/real-model", resp.Model, tr.Resolved)
			}
			seen := srv.requests()
			if len(seen) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(seen))
			}
			got := seen[0]
			if got.Path != "/v1/chat/completions" {
				t.Errorf("path %q, want /v1/chat/completions", got.Path)
			}
			wantBody := map[string]any{
				"model":       "real-model",
				"temperature": 0.2,
				"top_p":       0.5,
				"max_tokens":  float64(512),
				"stop":        []any{"END"},
				"seed":        float64(7),
				"custom_flag": true,
			}
			if tt.wantPrompt {
				wantBody["prompt_version_fqn"] = "acme:prompt:support:v3"
			}
			gotBody := map[string]any{}
			for k := range wantBody {
				if v, ok := got.Body[k]; ok {
					gotBody[k] = v
				}
			}
			if v, ok := got.Body["prompt_version_fqn"]; ok {
				gotBody["prompt_version_fqn"] = v
			}
			approx := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 })
			if diff := cmp.Diff(gotBody, wantBody, approx); diff != "" {
				t.Errorf("body fields (-got +want):\n%s", diff)
			}
			if _, ok := got.Body["tools"]; ok != tt.tools {
				t.Errorf("tools in body: %v, want %v", ok, tt.tools)
			}
			gotHdr := map[string]string{}
			for _, k := range []string{"X-Api-Version", "X-Extra", "X-Caller", "X-Debug", "Authorization"} {
				gotHdr[k] = got.Header.Get(k)
			}
			wantHdr := map[string]string{
				"X-Api-Version": "2", "X-Extra": "yes", "X-Caller": "svc", "X-Debug": "",
				"Authorization": "Bearer sk-test-key-for-overrides",
			}
			if diff := cmp.Diff(gotHdr, wantHdr); diff != "" {
				t.Errorf("headers (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(req, callerRequest(tt.tools)); diff != "" {
				t.Errorf("caller's request changed (-got +want):\n%s", diff)
			}
		})
	}
}

// TestSecretNeverLeaks plants a sentinel API key with servers that echo
// it back in every way they can (an OpenAI JSON error, a plain-text error
// page, a rate-limit message) and checks that neither the error, nor the
// Trace printed with %+v, nor the Client's slog output contains it.
func TestSecretNeverLeaks(t *testing.T) {
	const key = "sk-SENTINEL-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e"
	srv := newCoreServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		auth := r.Header.Get("Authorization")
		switch body["model"] {
		case "json-401":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			msg, _ := json.Marshal("Incorrect API key provided: " + strings.TrimPrefix(auth, "Bearer ") + ". Header was: " + auth)
			fmt.Fprintf(w, `{"error":{"message":%s,"type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, msg)
		case "html-503":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "<html><body>upstream down; you sent %s</body></html>", auth)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":{"message":"rate limited for key %s","type":"requests","code":"rate_limit_exceeded"}}`, key)
		}
		return true
	})
	p := oai.New(coreConfig(srv, key, coreTransport(t)))
	noRetry := &target.Retry{Attempts: 0}
	var logs strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithLogger(logger), routing.WithGroup(coreGroup(corePriority(
		target.Target{Ref: coreRef("json-401"), Retry: noRetry},
		target.Target{Ref: coreRef("html-503"), Retry: noRetry},
		target.Target{Ref: coreRef("json-429"), Retry: noRetry},
	))))
	ctx, tr := coreTraced(context.Background())
	_, err := c.Chat(ctx, coreReq(coreModel))
	if got := coreStatus(err); got != 429 {
		t.Fatalf("StatusCode() = %d (err %v), want 429 from the last target", got, err)
	}
	if got := len(srv.requests()); got != 3 {
		t.Fatalf("server saw %d requests, want 3 (the key was echoed each time)", got)
	}
	var rerr *routing.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("err is %T, want *routing.Error", err)
	}
	texts := map[string]string{
		"err %v":     fmt.Sprintf("%v", err),
		"err %+v":    fmt.Sprintf("%+v", err),
		"trace %+v":  fmt.Sprintf("%+v", *tr),
		"trace %v":   fmt.Sprintf("%v", tr.Attempts),
		"attempts":   fmt.Sprintf("%+v", rerr.Attempts),
		"unwrapped":  unwrapAll(err),
		"trace errs": traceErrs(tr),
		"logs":       logs.String(),
	}
	if n := strings.Count(logs.String(), `"msg":"llmroute attempt"`); n != 3 {
		t.Errorf("logged %d attempts, want 3:\n%s", n, logs.String())
	}
	for what, text := range texts {
		if strings.Contains(text, key) || strings.Contains(text, "SENTINEL-7f3a") {
			t.Errorf("%s contains the API key:\n%s", what, text)
		}
	}
}

// unwrapAll returns the text of err and of every error it wraps.
func unwrapAll(err error) string {
	var b strings.Builder
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil || depth > 32 {
			return
		}
		b.WriteString(e.Error())
		b.WriteString("\n")
		fmt.Fprintf(&b, "%+v\n", e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner, depth+1)
			}
		}
	}
	walk(err, 0)
	return b.String()
}

func traceErrs(tr *routing.Trace) string {
	var b strings.Builder
	for _, a := range tr.Attempts {
		b.WriteString(unwrapAll(a.Err))
	}
	return b.String()
}

// TestHeaderOverrideWinsOnTheWire checks that headers_override.set
// replaces a caller's header of the same name however the caller spelt
// the name: an http.Header built as a literal need not use canonical
// keys, and the override must still win on every call.
func TestHeaderOverrideWinsOnTheWire(t *testing.T) {
	for _, hdr := range []http.Header{
		{"X-Api-Version": {"1"}},
		{"x-api-version": {"1"}},
	} {
		t.Run(fmt.Sprint(hdr), func(t *testing.T) {
			srv := newCoreServer(t, nil)
			p := oai.New(coreConfig(srv, "sk-test-key-for-headers", coreTransport(t)))
			c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithGroup(coreGroup(corePriority(target.Target{
				Ref: coreRef("gpt"), Headers: target.HeadersOverride{Set: map[string]string{"X-Api-Version": "2"}},
			}))))
			ctx := routing.WithHeaders(context.Background(), hdr)
			const n = 32
			for range n {
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]int{}
			for _, s := range srv.requests() {
				got[strings.Join(s.Header.Values("X-Api-Version"), ",")]++
			}
			if diff := cmp.Diff(got, map[string]int{"2": n}); diff != "" {
				t.Errorf("X-Api-Version values seen by the server, counted (-got +want):\n%s", diff)
			}
		})
	}
}
