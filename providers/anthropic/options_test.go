package anthropic_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// TestRetriesStayOff checks that the SDK never retries, not even when the
// options ask it to: the routing layer owns retries.
func TestRetriesStayOff(t *testing.T) {
	for _, stream := range []bool{false, true} {
		var calls atomic.Int32
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("X-Should-Retry", "true")
			writeJSON(w, 529, errorJSON("overloaded_error", "Overloaded"))
		})
		p := newProvider(t, srv, option.WithMaxRetries(5))
		var err error
		if stream {
			_, err = p.ChatStream(t.Context(), chatRequest())
		} else {
			_, err = p.Chat(t.Context(), chatRequest())
		}
		if diff := cmp.Diff(asProviderError(t, err).Status, 503); diff != "" {
			t.Errorf("stream %v: status (-got +want):\n%s", stream, diff)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("stream %v: the server was called %d times; want 1", stream, n)
		}
	}
}

// TestEnvironmentIgnored checks that nothing is read from the
// environment unless the options ask for it.
func TestEnvironmentIgnored(t *testing.T) {
	envSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
	t.Setenv("ANTHROPIC_BASE_URL", envSrv.URL)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment-0123456789")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-From-Env: 1")

	if _, err := newProvider(t, srv).Chat(t.Context(), chatRequest()); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	h := srv.only(t).Header
	got := map[string]string{"Authorization": h.Get("Authorization"), "X-From-Env": h.Get("X-From-Env")}
	if diff := cmp.Diff(got, map[string]string{"Authorization": "Bearer " + testKey, "X-From-Env": ""}); diff != "" {
		t.Errorf("headers (-got +want):\n%s", diff)
	}
	if n := len(envSrv.requests()); n != 0 {
		t.Errorf("the environment's base URL received %d requests; want none", n)
	}
	if diff := cmp.Diff(anth.New(option.WithAPIKey(testKey)).Describe().Address, "api.anthropic.com"); diff != "" {
		t.Errorf("default address with ANTHROPIC_BASE_URL set (-got +want):\n%s", diff)
	}

	// Opting in: the SDK's defaults, read from the environment.
	p := anth.New(sdk.DefaultClientOptions()...)
	if _, err := p.Chat(t.Context(), chatRequest()); err != nil {
		t.Fatalf("Chat with the SDK's defaults: %v", err)
	}
	h = envSrv.only(t).Header
	got = map[string]string{"Authorization": h.Get("Authorization"), "X-From-Env": h.Get("X-From-Env")}
	if diff := cmp.Diff(got, map[string]string{"Authorization": "Bearer sk-ant-from-the-environment-0123456789", "X-From-Env": "1"}); diff != "" {
		t.Errorf("headers with the SDK's defaults (-got +want):\n%s", diff)
	}
}

// TestTelemetryOff checks that the SDK's own spans and trace-context
// headers stay off, with a recording tracer provider registered, unless
// the options turn them on.
func TestTelemetryOff(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	})

	tests := []struct {
		name      string
		opts      []option.RequestOption
		wantSpans int
	}{
		{name: "by default", wantSpans: 0},
		{name: "turned on", opts: []option.RequestOption{option.WithOpenTelemetryTraces(true)}, wantSpans: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			before := len(rec.Ended())
			if _, err := newProvider(t, srv, tt.opts...).Chat(t.Context(), chatRequest()); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			spans := len(rec.Ended()) - before
			traceparent := srv.only(t).Header.Get("Traceparent") != ""
			if diff := cmp.Diff([]any{spans, traceparent}, []any{tt.wantSpans, tt.wantSpans > 0}); diff != "" {
				t.Errorf("[SDK spans, traceparent sent] (-got +want):\n%s", diff)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		opts []option.RequestOption
		want providers.Info
	}{
		{"Anthropic's API", nil, providers.Info{Name: "anthropic", Address: "api.anthropic.com", Port: 443}},
		{"a proxy with a port and a path", []option.RequestOption{option.WithBaseURL("http://llm-proxy.internal:8080/anthropic")}, providers.Info{Name: "anthropic", Address: "llm-proxy.internal", Port: 8080}},
		{"a proxy on https", []option.RequestOption{option.WithBaseURL("https://gateway.example.com/v1/")}, providers.Info{Name: "anthropic", Address: "gateway.example.com", Port: 443}},
		{"a base URL that does not parse", []option.RequestOption{option.WithBaseURL("http://[::1")}, providers.Info{Name: "anthropic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			mw := option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
				calls.Add(1)
				return next(r)
			})
			p := anth.New(append([]option.RequestOption{option.WithAPIKey(testKey), mw}, tt.opts...)...)
			if diff := cmp.Diff(p.Describe(), tt.want); diff != "" {
				t.Errorf("Describe (-got +want):\n%s", diff)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("New ran the caller's middleware %d times; want none", n)
			}
			if got := providers.Describe(p); got != tt.want {
				t.Errorf("providers.Describe = %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestStringHidesTheKey checks that printing a Provider never shows its
// credential.
func TestStringHidesTheKey(t *testing.T) {
	p := anth.New(option.WithAPIKey(testKey))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		text := fmt.Sprintf(format, p)
		if strings.Contains(text, testKey) || strings.Contains(text, "SENTINEL") {
			t.Errorf("Sprintf(%q, p) = %s; shows the key", format, text)
		}
	}
	if diff := cmp.Diff(p.String(), "anthropic.Provider(api.anthropic.com)"); diff != "" {
		t.Errorf("String (-got +want):\n%s", diff)
	}
}

// TestAPIVersion checks the pinned version and a caller's choice.
func TestAPIVersion(t *testing.T) {
	tests := []struct {
		name string
		opts []option.RequestOption
		want string
	}{
		{"pinned", nil, "2023-06-01"},
		{"the caller's", []option.RequestOption{option.WithHeader("anthropic-version", "2026-10-21")}, "2026-10-21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			req := chatRequest()
			req.Request.Temperature = 0.3
			if _, err := newProvider(t, srv, tt.opts...).Chat(t.Context(), req); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			got := srv.only(t)
			if diff := cmp.Diff(got.Header.Get("Anthropic-Version"), tt.want); diff != "" {
				t.Errorf("anthropic-version (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Body["temperature"], 0.3); diff != "" {
				t.Errorf("temperature (-got +want):\n%s", diff)
			}
		})
	}
}
