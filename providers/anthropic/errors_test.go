package anthropic_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// errFields compares a *providers.Error without its cause.
var errFields = cmpopts.IgnoreFields(providers.Error{}, "Err")

// TestErrorResponses checks the translation of each error answer the
// Messages API gives, for Chat and for ChatStream alike.
func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   providers.Error
	}{
		{
			name: "rate limited with retry-after", status: 429,
			header: map[string]string{"Retry-After": "7", "Request-Id": "req_hdr"},
			body:   errorJSON("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
			want: providers.Error{Status: 429, RetryAfter: 7 * time.Second, Code: "rate_limit_error", Type: "rate_limit_error",
				Message: "Number of request tokens has exceeded your per-minute rate limit (request-id req_hdr)"},
		},
		{
			name: "retry-after-ms wins over retry-after", status: 429,
			header: map[string]string{"Retry-After": "2", "Retry-After-Ms": "1500"},
			body:   errorJSON("rate_limit_error", "slow down"),
			want:   providers.Error{Status: 429, RetryAfter: 1500 * time.Millisecond, Code: "rate_limit_error", Type: "rate_limit_error", Message: "slow down (request-id req_011)"},
		},
		{
			name: "a malformed retry-after-ms is ignored", status: 429,
			header: map[string]string{"Retry-After": "2", "Retry-After-Ms": "soon"},
			body:   errorJSON("rate_limit_error", "slow down"),
			want:   providers.Error{Status: 429, RetryAfter: 2 * time.Second, Code: "rate_limit_error", Type: "rate_limit_error", Message: "slow down (request-id req_011)"},
		},
		{
			name: "a spend limit names its error code", status: 429,
			body: `{"type":"error","error":{"type":"rate_limit_error","message":"Spend limit reached","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_s"}`,
			want: providers.Error{Status: 429, Code: "rate_limit_error", Type: "rate_limit_error", Message: "Spend limit reached (request-id req_s; error_code enforced_spend_limit_reached)"},
		},
		{
			name: "overloaded (529) is 503", status: 529,
			header: map[string]string{"Retry-After": "3"},
			body:   errorJSON("overloaded_error", "Overloaded"),
			want:   providers.Error{Status: 503, RetryAfter: 3 * time.Second, Code: "overloaded_error", Type: "overloaded_error", Message: "Overloaded (HTTP 529; request-id req_011)"},
		},
		{
			name: "Anthropic's timeout (504) is 408", status: 504,
			body: errorJSON("timeout_error", "Request timed out"),
			want: providers.Error{Status: 408, Code: "timeout_error", Type: "timeout_error", Message: "Request timed out (HTTP 504; request-id req_011)"},
		},
		{
			name: "a prompt too long", status: 400,
			body: errorJSON("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
			want: providers.Error{Status: 400, Code: "context_length_exceeded", Type: "invalid_request_error", Message: "prompt is too long: 208310 tokens > 200000 maximum (request-id req_011)"},
		},
		{
			name: "an input over the context limit, as older models say", status: 400,
			body: errorJSON("invalid_request_error", "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000, decrease input length or `max_tokens` and try again"),
			want: providers.Error{Status: 400, Code: "context_length_exceeded", Type: "invalid_request_error",
				Message: "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000, decrease input length or `max_tokens` and try again (request-id req_011)"},
		},
		{
			name: "a content policy refusal", status: 400,
			body: errorJSON("invalid_request_error", "Output blocked by content filtering policy"),
			want: providers.Error{Status: 400, Code: "invalid_request_error", Type: "invalid_request_error", Message: "Output blocked by content filtering policy (request-id req_011)"},
		},
		{
			name: "a model that takes no prefill", status: 400,
			body: errorJSON("invalid_request_error", "This model does not support assistant message prefill. The conversation must end with a user message."),
			want: providers.Error{Status: 400, Code: "invalid_request_error", Type: "invalid_request_error", Message: "This model does not support assistant message prefill. The conversation must end with a user message. (request-id req_011)"},
		},
		{
			name: "a bad key", status: 401,
			body: errorJSON("authentication_error", "invalid x-api-key"),
			want: providers.Error{Status: 401, Code: "authentication_error", Type: "authentication_error", Message: "invalid x-api-key (request-id req_011)"},
		},
		{
			name: "a request too large", status: 413,
			body: errorJSON("request_too_large", "Request exceeds the maximum allowed number of bytes."),
			want: providers.Error{Status: 413, Code: "request_too_large", Type: "request_too_large", Message: "Request exceeds the maximum allowed number of bytes. (request-id req_011)"},
		},
		{
			name: "an internal error", status: 500,
			body: errorJSON("api_error", "Internal server error"),
			want: providers.Error{Status: 500, Code: "api_error", Type: "api_error", Message: "Internal server error (request-id req_011)"},
		},
		{
			name: "a proxy's page", status: 502,
			header: map[string]string{"Content-Type": "text/html"},
			body:   "<html>\n<body>Bad   gateway</body>\n</html>",
			want:   providers.Error{Status: 502, Message: "<html> <body>Bad gateway</body> </html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					if w.Header().Get("Content-Type") == "" {
						w.Header().Set("Content-Type", "application/json")
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				})
				// The SDK would retry most of these; the adapter never does.
				p := newProvider(t, srv, option.WithMaxRetries(3))
				var err error
				if stream {
					var st providers.Stream
					st, err = p.ChatStream(t.Context(), chatRequest())
					if st != nil {
						st.Close()
						t.Fatal("ChatStream returned a stream for an error answer")
					}
				} else {
					_, err = p.Chat(t.Context(), chatRequest())
				}
				pe := asProviderError(t, err)
				if diff := cmp.Diff(*pe, tt.want, errFields); diff != "" {
					t.Errorf("stream %v: error (-got +want):\n%s", stream, diff)
				}
				if n := len(srv.requests()); n != 1 {
					t.Errorf("stream %v: the server received %d requests; want 1", stream, n)
				}
				if tt.status >= 400 && strings.HasPrefix(tt.body, "{") {
					var apiErr *sdk.Error
					if !errors.As(err, &apiErr) || apiErr.Request != nil || apiErr.Response != nil {
						t.Errorf("stream %v: errors.As(*anthropic.Error) = %v; want the SDK's error without request and response", stream, apiErr)
					}
				}
			}
		})
	}
}

// TestTransportFailures checks failures with no error response.
func TestTransportFailures(t *testing.T) {
	closed := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	closedURL := closed.URL
	closed.Close()

	var resets atomic.Int32
	reset := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		resets.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		}
	})
	cut := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, helloJSON[:40])
	})
	tests := []struct {
		name string
		url  string
		want int
	}{
		{"connection refused", closedURL, 502},
		{"connection reset before headers", reset.URL, 502},
		{"body cut short", cut.URL, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			p := anth.New(option.WithAPIKey(testKey), option.WithBaseURL(tt.url),
				option.WithHTTPClient(&http.Client{Transport: tr}), option.WithMaxRetries(2))
			_, err := p.Chat(t.Context(), chatRequest())
			pe := asProviderError(t, err)
			if diff := cmp.Diff(pe.Status, tt.want); diff != "" {
				t.Errorf("status of %v (-got +want):\n%s", err, diff)
			}
			if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v matches io.EOF", err)
			}
		})
	}
	if n := resets.Load(); n != 1 {
		t.Errorf("the resetting server was called %d times; want 1 (no retries)", n)
	}
}

// httpTimeout is the error an http.Client with its own Timeout returns.
type httpTimeout struct{}

func (httpTimeout) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (httpTimeout) Timeout() bool   { return true }
func (httpTimeout) Temporary() bool { return true }

func TestHTTPClientTimeoutIs408(t *testing.T) {
	p := memProvider(func(r *http.Request) (*http.Response, error) { return nil, httpTimeout{} })
	_, err := p.Chat(t.Context(), chatRequest())
	if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
		t.Errorf("status (-got +want):\n%s", diff)
	}
}

// TestDeadline shows, in virtual time, that a silent upstream costs
// exactly the ctx's time, for Chat and ChatStream, and that the error is
// a 408 matching context.DeadlineExceeded.
func TestDeadline(t *testing.T) {
	for _, stream := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			p := memProvider(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			var err error
			if stream {
				_, err = p.ChatStream(ctx, chatRequest())
			} else {
				_, err = p.Chat(ctx, chatRequest())
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("stream %v: errors.Is(%v, DeadlineExceeded) = false", stream, err)
			}
			if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
				t.Errorf("stream %v: status (-got +want):\n%s", stream, diff)
			}
			if diff := cmp.Diff(time.Since(start), 30*time.Second); diff != "" {
				t.Errorf("stream %v: waited (-got +want):\n%s", stream, diff)
			}
		})
	}
}

// TestCanceled checks that a cancelled call returns the ctx's error
// itself: the caller stopped, the provider did not fail.
func TestCanceled(t *testing.T) {
	for _, stream := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			p := memProvider(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(time.Second, cancel)
			var err error
			if stream {
				_, err = p.ChatStream(ctx, chatRequest())
			} else {
				_, err = p.Chat(ctx, chatRequest())
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("stream %v: errors.Is(%v, Canceled) = false", stream, err)
			}
			if _, ok := providers.AsError(err); ok {
				t.Errorf("stream %v: error %v is a *providers.Error; want the ctx's error", stream, err)
			}
		})
	}
}

// TestRefusedBeforeSending checks options the SDK refuses to send with.
func TestRefusedBeforeSending(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
	p := newProvider(t, srv, option.WithAuthToken("sk-ant-oat01-another-credential-0123456789"))
	_, err := p.Chat(t.Context(), chatRequest())
	pe := asProviderError(t, err)
	if diff := cmp.Diff(providers.Error{Status: pe.Status, Code: pe.Code}, providers.Error{Status: 400, Code: anth.CodeClientValidation}); diff != "" {
		t.Errorf("error %v (-got +want):\n%s", err, diff)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("the server received %d requests; want none", n)
	}
}

// TestUnexpectedStatus checks an answer that is neither success nor error.
func TestUnexpectedStatus(t *testing.T) {
	p := memProvider(func(r *http.Request) (*http.Response, error) {
		return respond(r, http.StatusNotModified, nil, ""), nil
	})
	_, err := p.Chat(t.Context(), chatRequest())
	pe := asProviderError(t, err)
	if diff := cmp.Diff(*pe, providers.Error{Status: 502, Message: "unexpected status 304 Not Modified"}, errFields); diff != "" {
		t.Errorf("error (-got +want):\n%s", diff)
	}
}

// TestUnusableProvider checks a Provider not made by New.
func TestUnusableProvider(t *testing.T) {
	for _, p := range []*anth.Provider{nil, new(anth.Provider)} {
		if _, err := p.Chat(context.Background(), chatRequest()); err == nil {
			t.Errorf("%v.Chat error = nil; want an error", p)
		}
		if _, err := p.ChatStream(context.Background(), chatRequest()); err == nil {
			t.Errorf("%v.ChatStream error = nil; want an error", p)
		}
		if diff := cmp.Diff(p.Describe(), providers.Info{}); diff != "" {
			t.Errorf("Describe (-got +want):\n%s", diff)
		}
	}
}

// TestNilContext checks that a nil ctx is treated as Background rather
// than crashing.
func TestNilContext(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
	p := newProvider(t, srv)
	//lint:ignore SA1012 the nil ctx is the point
	if _, err := p.Chat(nil, chatRequest()); err != nil { //nolint:staticcheck
		t.Errorf("Chat(nil ctx) = %v", err)
	}
}
