package otel_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// Sentinel credentials: neither may appear in any span or metric.
const (
	sentinelKey    = "sk-otel-SENTINEL0123456789abcdefXYZ"
	sentinelHeader = "hdr-SENTINEL-9876543210-zyxwvu"
)

const chatOK = `{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,` +
	`"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},` +
	`"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,` +
	`"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":1}}}`

// openAIServer answers its first chat request with a 500 whose message
// echoes the credentials it was sent, as some servers do, and the others
// with chatOK. It records the traceparent of every request.
type openAIServer struct {
	*httptest.Server
	mu          sync.Mutex
	n           int
	traceparent []string
}

func newOpenAIServer(t *testing.T) *openAIServer {
	t.Helper()
	s := &openAIServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.n++
		n := s.n
		s.traceparent = append(s.traceparent, r.Header.Get("traceparent"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":{"message":"internal error for key %s (api-key %s)","type":"server_error","param":null,"code":null}}`,
				strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("Api-Key"))
			return
		}
		_, _ = io.WriteString(w, chatOK)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestOpenAIWithOtelHTTP runs a call that retried through the OpenAI
// adapter over an otelhttp transport: each HTTP span is the child of its
// attempt's span, the trace context goes upstream, and no credential
// reaches any span or metric.
func TestOpenAIWithOtelHTTP(t *testing.T) {
	r := newRig(t, routeotel.WithContent(true))
	srv := newOpenAIServer(t)
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	cfg := goopenai.DefaultConfig(sentinelKey)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: otelhttp.NewTransport(transport,
		otelhttp.WithTracerProvider(r.tp),
		otelhttp.WithPropagators(propagation.TraceContext{}))}
	c, err := routing.New(
		routing.WithProvider("openai-main", oai.New(cfg)),
		routing.WithObserver(r.o),
		routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{
				Ref:   "openai-main/gpt-4o",
				Retry: &target.Retry{Attempts: 1, Delay: time.Millisecond},
				// The key planted in a target's header too.
				Headers: target.HeadersOverride{Set: map[string]string{"Api-Key": sentinelHeader}},
			}}},
		}}}),
	)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	ctx := routing.WithHeaders(context.Background(), http.Header{"X-Caller-Secret": {sentinelHeader}})
	req := chatReq()
	req.Messages = append(req.Messages, goopenai.ChatCompletionMessage{Role: "user", Content: "no secrets here"})
	if _, err := c.Chat(ctx, req); err != nil {
		t.Fatalf("Chat: %v", err)
	}

	spans := r.spans()
	var attempts, https []trace.SpanContext
	var httpParents []trace.SpanID
	for _, s := range spans {
		switch {
		case s.Name() == "chat gpt-4o":
			attempts = append(attempts, s.SpanContext())
		case s.SpanKind() == trace.SpanKindClient && strings.Contains(s.Name(), "POST"):
			https = append(https, s.SpanContext())
			httpParents = append(httpParents, s.Parent().SpanID())
		}
	}
	if len(attempts) != 2 || len(https) != 2 {
		t.Fatalf("got %d attempt and %d HTTP spans among %v, want 2 and 2", len(attempts), len(https), names(spans))
	}
	for i := range attempts {
		if httpParents[i] != attempts[i].SpanID() {
			t.Errorf("HTTP span %d: parent %v, want attempt span %v", i+1, httpParents[i], attempts[i].SpanID())
		}
		want := fmt.Sprintf("00-%s-%s-01", https[i].TraceID(), https[i].SpanID())
		if got := srv.traceparent[i]; got != want {
			t.Errorf("request %d traceparent: got %q, want %q", i+1, got, want)
		}
	}
	att := attrs(spanNamed(t, spans, "chat app/chat").Attributes())
	if got, want := att["llmroute.retries"], any(int64(1)); got != want {
		t.Errorf("call span retries: got %v, want %v", got, want)
	}
	served := spans[len(spans)-2] // the last attempt ends just before the call
	sa := attrs(served.Attributes())
	for k, want := range map[string]any{
		"gen_ai.provider.name": "openai", "server.address": "127.0.0.1",
		"gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.response.id": "chatcmpl-123",
		"gen_ai.usage.cache_read.input_tokens": int64(4), "gen_ai.usage.reasoning.output_tokens": int64(1),
	} {
		if sa[k] != want {
			t.Errorf("serving attempt %s: got %v, want %v", k, sa[k], want)
		}
	}

	// Every attribute, status and event of every span, and every metric
	// attribute: no credential anywhere.
	var texts []string
	kvText := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
		}
	}
	for _, s := range spans {
		texts = append(texts, s.Name(), s.Status().Description, fmt.Sprintf("%+v", s.Attributes()), fmt.Sprintf("%#v", s.Attributes()))
		kvText(s.Attributes())
		for _, e := range s.Events() {
			texts = append(texts, e.Name)
			kvText(e.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := r.rd.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, fmt.Sprintf("%+v", m.Data), fmt.Sprintf("%#v", m.Data))
		}
	}
	if len(texts) < 50 {
		t.Fatalf("only %d texts to search: the test reads too little", len(texts))
	}
	sawError := false
	for _, text := range texts {
		if strings.Contains(text, "internal error for key") {
			sawError = true
		}
		for _, secret := range []string{sentinelKey, sentinelHeader, "SENTINEL"} {
			if strings.Contains(text, secret) {
				t.Errorf("a credential reached telemetry: %q", text)
			}
		}
	}
	if !sawError {
		t.Errorf("the failed attempt's status does not carry the server's message: the search may be empty")
	}
	if n := srv.n; n != 2 {
		t.Errorf("server got %d requests, want 2", n)
	}
}
