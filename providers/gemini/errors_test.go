package gemini_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
)

// TestErrorResponses checks the translation of Gemini's error answers
// into the error contract, with the normalisations routing defaults rely
// on.
func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string // raw body; a JSON body when it starts with '{'
		want   providers.Error
	}{{
		name:   "rate limited, with the delay from RetryInfo",
		status: 429,
		body: `{"error":{"code":429,"message":"You exceeded your current quota. Please retry in 46.2s.","status":"RESOURCE_EXHAUSTED",` +
			`"details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generate_content_free_tier_requests"}]},` +
			`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"46s"}]}}`,
		want: providers.Error{Status: 429, Code: "RESOURCE_EXHAUSTED", Type: "RESOURCE_EXHAUSTED", RetryAfter: 46 * time.Second,
			Message: "You exceeded your current quota. Please retry in 46.2s."},
	}, {
		name:   "a daily quota's delay of hours is kept as it is",
		status: 429,
		body:   `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37020.5s"}]}}`,
		want:   providers.Error{Status: 429, Code: "RESOURCE_EXHAUSTED", Type: "RESOURCE_EXHAUSTED", RetryAfter: 37020*time.Second + 500*time.Millisecond, Message: "quota"},
	}, {
		name:   "a Retry-After header when there is no RetryInfo",
		status: 429,
		header: map[string]string{"Retry-After": "7"},
		body:   `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`,
		want:   providers.Error{Status: 429, Code: "RESOURCE_EXHAUSTED", Type: "RESOURCE_EXHAUSTED", RetryAfter: 7 * time.Second, Message: "slow down"},
	}, {
		name:   "overloaded",
		status: 503,
		body:   `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
		want:   providers.Error{Status: 503, Code: "UNAVAILABLE", Type: "UNAVAILABLE", Message: "The model is overloaded. Please try again later."},
	}, {
		name:   "internal error",
		status: 500,
		body:   `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
		want:   providers.Error{Status: 500, Code: "INTERNAL", Type: "INTERNAL", Message: "An internal error has occurred."},
	}, {
		name:   "Gemini's deadline is a timeout, so it falls back",
		status: 504,
		body:   `{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`,
		want:   providers.Error{Status: 408, Code: "DEADLINE_EXCEEDED", Type: "DEADLINE_EXCEEDED", Message: "Deadline expired before operation could complete."},
	}, {
		name:   "input too long",
		status: 400,
		body:   `{"error":{"code":400,"message":"The input token count (2551556) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}`,
		want: providers.Error{Status: 400, Code: "context_length_exceeded", Type: "INVALID_ARGUMENT",
			Message: "The input token count (2551556) exceeds the maximum number of tokens allowed (1048576)."},
	}, {
		name:   "another invalid argument",
		status: 400,
		body:   `{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}`,
		want:   providers.Error{Status: 400, Code: "INVALID_ARGUMENT", Type: "INVALID_ARGUMENT", Message: "Invalid JSON payload received."},
	}, {
		name:   "permission denied",
		status: 403,
		body:   `{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}`,
		want:   providers.Error{Status: 403, Code: "PERMISSION_DENIED", Type: "PERMISSION_DENIED", Message: "Permission denied."},
	}, {
		name:   "unknown model",
		status: 404,
		body:   `{"error":{"code":404,"message":"models/nope is not found.","status":"NOT_FOUND"}}`,
		want:   providers.Error{Status: 404, Code: "NOT_FOUND", Type: "NOT_FOUND", Message: "models/nope is not found."},
	}, {
		name:   "the HTTP status wins over the object's code",
		status: 503,
		body:   `{"error":{"code":500,"message":"m","status":"UNAVAILABLE"}}`,
		want:   providers.Error{Status: 503, Code: "UNAVAILABLE", Type: "UNAVAILABLE", Message: "m"},
	}, {
		name:   "a proxy's HTML page",
		status: 502,
		header: map[string]string{"Content-Type": "text/html"},
		body:   "<html>\n<body>Bad   gateway</body></html>",
		want:   providers.Error{Status: 502, Message: "<html> <body>Bad gateway</body></html>"},
	}, {
		name:   "an empty error body",
		status: 500,
		body:   "",
		want:   providers.Error{Status: 500, Message: "Internal Server Error"},
	}, {
		name:   "a status that is neither success nor error",
		status: 300,
		body:   "",
		want:   providers.Error{Status: 502, Code: gem.CodeUnexpectedStatus, Message: "unexpected status 300 Multiple Choices"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				w.Header().Set("Content-Type", "application/json")
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			_, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
			got := asProviderError(t, err)
			if diff := cmp.Diff(*got, tt.want, cmpopts.IgnoreFields(providers.Error{}, "Err")); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
			if got.Err == nil {
				t.Error("Err is nil, want genai's error as the cause")
			}
			if strings.HasPrefix(tt.body, "{") {
				var apiErr genai.APIError
				if !errors.As(err, &apiErr) {
					t.Errorf("errors.As finds no genai.APIError in %v", err)
				}
			}
		})
	}
}

// TestRetryDelays checks the forms of RetryInfo's delay.
func TestRetryDelays(t *testing.T) {
	tests := []struct {
		delay any
		want  time.Duration
	}{
		{"46s", 46 * time.Second},
		{"0.250s", 250 * time.Millisecond},
		{"1.000000001s", time.Second + time.Nanosecond},
		{map[string]any{"seconds": 3, "nanos": 500000000}, 3500 * time.Millisecond},
		{"-1s", 0},
		{"46", 0},
		{"s", 0},
		{"4 6s", 0},
		{"1e3s", 0},
		{"99999999999999999999s", 0},
	}
	for _, tt := range tests {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			writeJSON(w, 429, apiErrorBody(429, "RESOURCE_EXHAUSTED", "quota",
				obj{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": tt.delay}))
		})
		_, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
		if got := asProviderError(t, err).RetryAfter; got != tt.want {
			t.Errorf("retryDelay %v: RetryAfter %v, want %v", tt.delay, got, tt.want)
		}
	}
}

// TestTransportFailures checks failures with no error response.
func TestTransportFailures(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey, HTTPClient: &http.Client{Transport: testTransport(t)},
			HTTPOptions: genai.HTTPOptions{BaseURL: "http://" + addr}})
		_, err = p.Chat(context.Background(), userSays("m", "Hi"))
		if pe := asProviderError(t, err); pe.Status != providers.StatusTransport {
			t.Errorf("status %d, want 502", pe.Status)
		}
	})
	t.Run("connection dropped before an answer", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		_, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
		if pe := asProviderError(t, err); pe.Status != providers.StatusTransport {
			t.Errorf("status %d, want 502", pe.Status)
		}
	})
	t.Run("the HTTP client's own timeout", func(t *testing.T) {
		srv := hangingServer(t)
		p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey,
			HTTPClient:  &http.Client{Transport: testTransport(t), Timeout: 50 * time.Millisecond},
			HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
		_, err := p.Chat(context.Background(), userSays("m", "Hi"))
		if pe := asProviderError(t, err); pe.Status != providers.StatusTimeout {
			t.Errorf("status %d (%v), want 408", pe.Status, err)
		}
	})
	t.Run("an error body is read only up to a bound", func(t *testing.T) {
		const total = 64 << 20
		var written atomic.Int64
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			w.WriteHeader(500)
			chunk := []byte(strings.Repeat("x", 64<<10))
			for written.Load() < total {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
		_, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
		pe := asProviderError(t, err)
		if pe.Status != 500 || len(pe.Message) > 1024 {
			t.Errorf("status %d, message of %d bytes; want 500 and a short message", pe.Status, len(pe.Message))
		}
		// Reading the whole body would have taken all of it; reading
		// 1 MiB leaves the rest unsent but for the sockets' buffers.
		if n := written.Load(); n >= total/2 {
			t.Errorf("the server wrote %d bytes of its %d-byte error body: it was read without bound", n, total)
		}
	})
}

// TestContext checks that the call's ctx bounds it: a passed deadline is
// a 408 that still matches context.DeadlineExceeded, a cancellation is
// context.Canceled itself, and a ctx done before the call sends nothing.
func TestContext(t *testing.T) {
	hang := hangingServer
	t.Run("deadline", func(t *testing.T) {
		srv := hang(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := newProvider(t, srv).Chat(ctx, userSays("m", "Hi"))
		if pe := asProviderError(t, err); pe.Status != providers.StatusTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v (status %d), want a 408 matching context.DeadlineExceeded", err, pe.Status)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		srv := hang(t)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for len(srv.requests()) == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := newProvider(t, srv).Chat(ctx, userSays("m", "Hi"))
		if err != context.Canceled {
			t.Errorf("got %v (%T), want context.Canceled itself", err, err)
		}
	})
	t.Run("done before the call", func(t *testing.T) {
		srv := newServer(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newProvider(t, srv).Chat(ctx, userSays("m", "Hi"))
		if err != context.Canceled {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if n := len(srv.requests()); n != 0 {
			t.Errorf("server saw %d requests, want 0", n)
		}
	})
}

// TestNoHiddenResends checks that one call is one request: genai's retry
// options are turned off even when the caller set them, and a paused
// answer (CONTINUATION) is not continued behind the router's back.
func TestNoHiddenResends(t *testing.T) {
	t.Run("retries", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			writeJSON(w, 503, apiErrorBody(503, "UNAVAILABLE", "overloaded"))
		})
		p := newProviderWith(t, &genai.ClientConfig{APIKey: testKey, HTTPClient: &http.Client{Transport: testTransport(t)},
			HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL, RetryOptions: &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](5), InitialDelay: genai.Ptr(0.0)}}})
		_, err := p.Chat(context.Background(), userSays("m", "Hi"))
		if pe := asProviderError(t, err); pe.Status != 503 {
			t.Errorf("status %d, want 503", pe.Status)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
	t.Run("continuation", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			writeJSON(w, 200, obj{"candidates": []any{obj{
				"content":           obj{"role": "model", "parts": []any{obj{"text": "part one"}}},
				"finishReason":      "CONTINUATION",
				"continuationToken": "dG9rZW4=",
			}}})
		})
		resp, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
		if got := resp.Choices[0].FinishReason; got != "length" {
			t.Errorf("finish reason %q, want length: the answer is incomplete", got)
		}
	})
}
