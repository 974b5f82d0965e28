package bedrock_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// failWith is a handler that answers every call with a Bedrock error.
func failWith(status int, exception, message string) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		bedrocktest.WriteError(w, status, exception, message)
	}
}

// errSummary is what the routing layer reads of an error.
type errSummary struct {
	Status int
	Code   string
	Type   string
}

func summary(t *testing.T, err error) errSummary {
	t.Helper()
	pe := asProviderError(t, err)
	return errSummary{pe.Status, pe.Code, pe.Type}
}

// TestExceptions maps every Bedrock exception, from Chat and from
// ChatStream before the stream starts.
func TestExceptions(t *testing.T) {
	tests := []struct {
		exception string
		status    int // on the wire
		message   string
		want      errSummary
	}{
		{"ThrottlingException", 429, "Too many requests, please wait before trying again.", errSummary{429, "ThrottlingException", "ThrottlingException"}},
		{"ModelNotReadyException", 429, "Model is not ready.", errSummary{429, "ModelNotReadyException", "ModelNotReadyException"}},
		{"ModelTimeoutException", 408, "Model timed out.", errSummary{408, "ModelTimeoutException", "ModelTimeoutException"}},
		{"ModelErrorException", 424, "The model returned an error.", errSummary{502, "ModelErrorException", "ModelErrorException"}},
		{"ServiceUnavailableException", 503, "Bedrock is unable to process your request.", errSummary{503, "ServiceUnavailableException", "ServiceUnavailableException"}},
		{"InternalServerException", 500, "Internal server error.", errSummary{500, "InternalServerException", "InternalServerException"}},
		{"AccessDeniedException", 403, "You don't have access to the model with the specified model ID.", errSummary{403, "AccessDeniedException", "AccessDeniedException"}},
		{"ResourceNotFoundException", 404, "Model not found.", errSummary{404, "ResourceNotFoundException", "ResourceNotFoundException"}},
		{"ValidationException", 400, "The provided model identifier is invalid.", errSummary{400, "ValidationException", "ValidationException"}},
		{"ServiceQuotaExceededException", 400, "Quota exceeded.", errSummary{400, "ServiceQuotaExceededException", "ServiceQuotaExceededException"}},
		{"ConflictException", 400, "Conflict.", errSummary{400, "ConflictException", "ConflictException"}},
		{"UnrecognizedClientException", 403, "The security token included in the request is invalid.", errSummary{403, "UnrecognizedClientException", "UnrecognizedClientException"}},
		{"TeapotException", 418, "Short and stout.", errSummary{418, "TeapotException", "TeapotException"}},
	}
	for _, tt := range tests {
		t.Run(tt.exception, func(t *testing.T) {
			srv := newServer(t, failWith(tt.status, tt.exception, tt.message))
			p := srv.provider(t)
			_, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			_, serr := p.ChatStream(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			for what, err := range map[string]error{"Chat": err, "ChatStream": serr} {
				if diff := cmp.Diff(summary(t, err), tt.want); diff != "" {
					t.Errorf("%s error %v (-got +want):\n%s", what, err, diff)
				}
				if want := tt.message + " (request id req-error)"; asProviderError(t, err).Message != want {
					t.Errorf("%s message %q; want %q", what, asProviderError(t, err).Message, want)
				}
			}
		})
	}
}

// TestContextLength recognises the ways Bedrock and its models word an
// input that does not fit, and nothing else.
func TestContextLength(t *testing.T) {
	tests := []struct {
		exception string
		status    int
		message   string
		want      errSummary
	}{
		{"ValidationException", 400, "Input is too long for requested model.", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ValidationException", 400, "The model returned the following errors: Input is too long for requested model.", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ValidationException", 400, "prompt is too long: 210378 tokens > 200000 maximum", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ValidationException", 400, "This model's maximum context length is 8192 tokens. Please reduce the length of the prompt.", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ValidationException", 400, "Input Tokens Exceeded: Number of input tokens exceeds maximum length of 300000.", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ValidationException", 400, "too many input tokens", errSummary{400, bed.CodeContextLengthExceeded, "ValidationException"}},
		{"ModelErrorException", 424, "The model returned the following errors: Input is too long for requested model.", errSummary{400, bed.CodeContextLengthExceeded, "ModelErrorException"}},
		{"ValidationException", 400, "Malformed input request: #: extraneous key [top_q] is not permitted", errSummary{400, "ValidationException", "ValidationException"}},
		{"ThrottlingException", 429, "Too many input tokens per minute", errSummary{429, "ThrottlingException", "ThrottlingException"}},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			srv := newServer(t, failWith(tt.status, tt.exception, tt.message))
			_, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			if diff := cmp.Diff(summary(t, err), tt.want); diff != "" {
				t.Errorf("error %v (-got +want):\n%s", err, diff)
			}
		})
	}
}

// TestRetryAfter reads Retry-After in seconds and as an HTTP date.
func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		header   string
		min, max time.Duration
	}{
		{"7", 7 * time.Second, 7 * time.Second},
		{time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), 25 * time.Second, 31 * time.Second},
		{"soon", 0, 0},
	} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			w.Header().Set("Retry-After", tt.header)
			bedrocktest.WriteError(w, 429, "ThrottlingException", "slow down")
		})
		_, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
		if got := asProviderError(t, err).RetryAfter; got < tt.min || got > tt.max {
			t.Errorf("Retry-After %q: RetryAfter %v; want %v to %v", tt.header, got, tt.min, tt.max)
		}
	}
}

// TestNonBedrockErrors: error responses that are not Bedrock exceptions
// (a proxy's page, an odd status) and failures with no response.
func TestNonBedrockErrors(t *testing.T) {
	tests := []struct {
		name string
		h    handler
		want errSummary
	}{
		{"an HTML error page", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}, errSummary{Status: 502}},
		{"an empty 503", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, errSummary{Status: 503}},
		{"a redirect with nowhere to go", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			w.WriteHeader(http.StatusFound)
		}, errSummary{Status: 502, Code: bed.CodeUnexpectedStatus}},
		{"a redirect with a Bedrock error body", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteError(w, http.StatusMultipleChoices, "ValidationException", "odd")
		}, errSummary{Status: 502, Code: bed.CodeUnexpectedStatus}},
		{"the connection closed before an answer", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, errSummary{Status: 502}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.h)
			p := srv.provider(t)
			_, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			_, serr := p.ChatStream(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			for what, err := range map[string]error{"Chat": err, "ChatStream": serr} {
				if diff := cmp.Diff(summary(t, err), tt.want); diff != "" {
					t.Errorf("%s error %v (-got +want):\n%s", what, err, diff)
				}
			}
		})
	}
}

// TestConnectionRefused: nothing listening is a transport failure.
func TestConnectionRefused(t *testing.T) {
	srv := newServer(t, answer("never"))
	url := srv.URL
	srv.Close()
	p := newProvider(t, url, &http.Client{})
	_, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
	if got := summary(t, err); got.Status != providers.StatusTransport {
		t.Errorf("status %d (%v); want %d", got.Status, err, providers.StatusTransport)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not match ECONNREFUSED", err)
	}
}

// TestCredentialsUnavailable: credentials that cannot be had fail the
// call with 401, before anything is sent.
func TestCredentialsUnavailable(t *testing.T) {
	srv := newServer(t, answer("never"))
	cfg := aws.Config{
		Region: testRegion,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no EC2 IMDS role found")
		}),
		HTTPClient: srv.Client(),
	}
	p := bed.New(cfg)
	_, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
	if diff := cmp.Diff(summary(t, err), errSummary{Status: 401, Code: bed.CodeCredentialsUnavailable}); diff != "" {
		t.Errorf("error %v (-got +want):\n%s", err, diff)
	}
	if !strings.Contains(err.Error(), "no EC2 IMDS role found") {
		t.Errorf("error %q does not say why", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server got %d requests; want none", n)
	}
}

// TestContextDone: a done ctx before the answer is a 408 for a deadline
// and context.Canceled itself for a cancellation.
func TestContextDone(t *testing.T) {
	hold := func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) { <-r.Context().Done() }
	srv := newServer(t, hold)
	p := srv.provider(t)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Chat(ctx, providers.ChatRequest{Request: userRequest("Hi")})
	if got := summary(t, err); got.Status != providers.StatusTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past the deadline: %v (status %d); want 408 matching context.DeadlineExceeded", err, got.Status)
	}

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = p.ChatStream(ctx, providers.ChatRequest{Request: userRequest("Hi")})
	if err != context.Canceled {
		t.Errorf("cancelled: %v; want context.Canceled itself", err)
	}
}

// TestUnusableProviders: a nil or zero Provider, or a nil ctx, is an
// error, never a panic.
func TestUnusableProviders(t *testing.T) {
	var nilP *bed.Provider
	req := providers.ChatRequest{Request: userRequest("Hi")}
	for name, p := range map[string]*bed.Provider{"nil": nilP, "zero": {}} {
		if _, err := p.Chat(t.Context(), req); err == nil {
			t.Errorf("%s Provider: Chat error nil", name)
		}
		if _, err := p.ChatStream(t.Context(), req); err == nil {
			t.Errorf("%s Provider: ChatStream error nil", name)
		}
		if got := p.Describe(); got != (providers.Info{}) {
			t.Errorf("%s Provider: Describe = %+v; want the zero Info", name, got)
		}
	}
	srv := newServer(t, answer("never"))
	p := srv.provider(t)
	//lint:ignore SA1012 a nil ctx is the point
	if _, err := p.Chat(nil, req); err == nil { //nolint:staticcheck
		t.Error("Chat(nil ctx): error nil")
	}
	//lint:ignore SA1012 a nil ctx is the point
	if _, err := p.ChatStream(nil, req); err == nil { //nolint:staticcheck
		t.Error("ChatStream(nil ctx): error nil")
	}
}
