package openai_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
)

// TestRetryAfter runs in a synctest bubble, where the clock stands still
// unless every goroutine waits, so an HTTP-date Retry-After is exact.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		header func(now time.Time) http.Header
		want   time.Duration
	}{
		{
			name: "HTTP date",
			header: func(now time.Time) http.Header {
				return http.Header{"Retry-After": {now.Add(30 * time.Second).UTC().Format(http.TimeFormat)}}
			},
			want: 30 * time.Second,
		},
		{
			name: "HTTP date in the past",
			header: func(now time.Time) http.Header {
				return http.Header{"Retry-After": {now.Add(-time.Minute).UTC().Format(http.TimeFormat)}}
			},
			want: 0,
		},
		{
			name:   "seconds",
			header: func(time.Time) http.Header { return http.Header{"Retry-After": {"2"}} },
			want:   2 * time.Second,
		},
		{
			name: "milliseconds win over seconds",
			header: func(time.Time) http.Header {
				return http.Header{"Retry-After": {"1"}, "Retry-After-Ms": {"20"}}
			},
			want: 20 * time.Millisecond,
		},
		{
			name: "milliseconds win over a date",
			header: func(now time.Time) http.Header {
				return http.Header{
					"Retry-After":    {now.Add(time.Minute).UTC().Format(http.TimeFormat)},
					"Retry-After-Ms": {"1500"},
				}
			},
			want: 1500 * time.Millisecond,
		},
		{
			name: "negative milliseconds ignored",
			header: func(time.Time) http.Header {
				return http.Header{"Retry-After": {"4"}, "Retry-After-Ms": {"-5"}}
			},
			want: 4 * time.Second,
		},
		{
			name:   "malformed",
			header: func(time.Time) http.Header { return http.Header{"Retry-After": {"soon"}} },
			want:   0,
		},
		{
			name:   "absent",
			header: func(time.Time) http.Header { return nil },
			want:   0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := memProvider(func(r *http.Request) (*http.Response, error) {
					return respond(r, 429, tt.header(time.Now()), apiError("slow down", "requests", "rate_limit_exceeded")), nil
				})
				_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
				if diff := cmp.Diff(asProviderError(t, err).RetryAfter, tt.want); diff != "" {
					t.Errorf("RetryAfter (-got +want):\n%s", diff)
				}
			})
		})
	}
}

// TestChatDeadline shows a silent provider costs exactly the ctx's time.
func TestChatDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memProvider(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		start := time.Now()

		_, err := p.Chat(ctx, providers.ChatRequest{Request: chatRequest()})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(%v, DeadlineExceeded) = false", err)
		}
		if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
			t.Errorf("status (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(time.Since(start), 30*time.Second); diff != "" {
			t.Errorf("waited (-got +want):\n%s", diff)
		}
	})
}

// httpTimeout is the error an http.Client with its own Timeout returns.
type httpTimeout struct{}

func (httpTimeout) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (httpTimeout) Timeout() bool   { return true }
func (httpTimeout) Temporary() bool { return true }

func TestHTTPClientTimeoutIs408(t *testing.T) {
	p := memProvider(func(r *http.Request) (*http.Response, error) {
		return nil, httpTimeout{}
	})
	_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
	if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
		t.Errorf("status (-got +want):\n%s", diff)
	}
}
