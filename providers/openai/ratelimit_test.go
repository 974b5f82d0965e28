package openai_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
)

// limitHeaders are OpenAI's rate-limit headers for a spent request budget
// that is whole again in 2 s.
var limitHeaders = map[string]string{
	"x-ratelimit-limit-requests":     "60",
	"x-ratelimit-remaining-requests": "0",
	"x-ratelimit-reset-requests":     "2s",
	"x-ratelimit-limit-tokens":       "1000",
	"x-ratelimit-remaining-tokens":   "990",
	"x-ratelimit-reset-tokens":       "600ms",
}

var wantLimits = providers.RateLimits{
	Requests: providers.Quota{Reported: true, Limit: 60, Remaining: 0, Reset: 2 * time.Second},
	Tokens:   providers.Quota{Reported: true, Limit: 1000, Remaining: 990, Reset: 600 * time.Millisecond},
}

// Each kind of answer reports the rate limits of its response: a unary
// success on the response's header (go-openai keeps it there), an error
// in its *providers.Error, a stream through providers.RateLimitReporter.
func TestRateLimitsReported(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		srv, _ := newServer(t, reply{header: limitHeaders, body: chatOK})
		resp, err := newProvider(t, srv).Chat(ctx, providers.ChatRequest{Request: chatRequest()})
		if err != nil {
			t.Fatal(err)
		}
		got := providers.ParseRateLimits(resp.Header(), time.Now())
		if diff := cmp.Diff(got, wantLimits); diff != "" {
			t.Errorf("rate limits (-got +want):\n%s", diff)
		}
	})
	for _, tc := range []struct {
		name string
		r    reply
	}{
		{"error with a JSON body", reply{status: 429, header: limitHeaders, body: apiError("Rate limit reached", "requests", "rate_limit_exceeded")}},
		{"error with a non-JSON body", reply{status: 503, header: mergeHeaders(limitHeaders, map[string]string{"Content-Type": "text/html"}), body: "<html>busy</html>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newServer(t, tc.r)
			_, err := newProvider(t, srv).Chat(ctx, providers.ChatRequest{Request: chatRequest()})
			pe, ok := providers.AsError(err)
			if !ok {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if diff := cmp.Diff(pe.RateLimits, wantLimits); diff != "" {
				t.Errorf("rate limits (-got +want):\n%s", diff)
			}
		})
	}
	t.Run("error without headers", func(t *testing.T) {
		srv, _ := newServer(t, reply{status: 500, body: apiError("boom", "server_error", nil)})
		_, err := newProvider(t, srv).Chat(ctx, providers.ChatRequest{Request: chatRequest()})
		pe, ok := providers.AsError(err)
		if !ok || !pe.RateLimits.IsZero() {
			t.Errorf("error = %#v; want a *providers.Error reporting no rate limits", err)
		}
	})
	t.Run("stream", func(t *testing.T) {
		srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			for k, v := range limitHeaders {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, content("hi")+finish("stop")+done)
		})
		st, err := newProvider(t, srv).ChatStream(ctx, providers.ChatRequest{Request: chatRequest()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rr, ok := st.(providers.RateLimitReporter)
		if !ok {
			t.Fatalf("stream %T does not implement providers.RateLimitReporter", st)
		}
		if diff := cmp.Diff(rr.RateLimits(), wantLimits); diff != "" {
			t.Errorf("rate limits (-got +want):\n%s", diff)
		}
		for {
			if _, err := st.Recv(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
		if diff := cmp.Diff(rr.RateLimits(), wantLimits); diff != "" {
			t.Errorf("after Close, rate limits (-got +want):\n%s", diff)
		}
	})
	t.Run("stream refused", func(t *testing.T) {
		srv, _ := newServer(t, reply{status: 429, header: limitHeaders, body: apiError("slow down", "requests", "rate_limit_exceeded")})
		_, err := newProvider(t, srv).ChatStream(ctx, providers.ChatRequest{Request: chatRequest()})
		pe, ok := providers.AsError(err)
		if !ok {
			t.Fatalf("error %v is not a *providers.Error", err)
		}
		if diff := cmp.Diff(pe.RateLimits, wantLimits); diff != "" {
			t.Errorf("rate limits (-got +want):\n%s", diff)
		}
	})
}

func mergeHeaders(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
