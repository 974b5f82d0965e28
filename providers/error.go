package providers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Status codes the error contract assigns to failures that have no HTTP
// status of their own.
const (
	// StatusTimeout is an attempt that ran out of time (request_timeout_ms,
	// ttft_timeout_ms) before the provider answered.
	StatusTimeout = http.StatusRequestTimeout
	// StatusTransport is a failure with no HTTP status: connection refused
	// or reset, EOF before headers, a malformed response.
	StatusTransport = http.StatusBadGateway
)

// Codes for failures that carry no provider code of their own, shared by
// every adapter so callers can match them whatever the provider.
const (
	// CodeStreamTruncated: a stream ended with neither its end marker
	// nor a finish reason.
	CodeStreamTruncated = "stream_truncated"
	// CodeMalformedEvent: a stream event could not be decoded.
	CodeMalformedEvent = "malformed_event"
	// CodeTTFTTimeout: no content chunk arrived within the
	// time-to-first-token budget.
	CodeTTFTTimeout = "ttft_timeout"
	// CodeStreamIdleTimeout: a stream waited longer than its idle timeout
	// for a chunk.
	CodeStreamIdleTimeout = "stream_idle_timeout"
)

// ContextError is the error a provider returns when its call's ctx is
// done: for a passed deadline a timeout (*Error with StatusTimeout) that
// still matches context.DeadlineExceeded; a cancellation as it is, since
// the caller stopped and the provider did not fail.
func ContextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: StatusTimeout, Err: err}
	}
	return err
}

// Error is a failed provider call, in the form the routing layer
// classifies: adapters translate their SDK's errors into it in one place.
type Error struct {
	// Status is the upstream HTTP status, StatusTimeout for a timeout or
	// StatusTransport for a failure with no status.
	Status int
	// RetryAfter is how long the provider asked the caller to wait
	// (Retry-After, in seconds or as an HTTP date), or 0.
	RetryAfter time.Duration
	// Code is the provider's own error code, such as
	// "context_length_exceeded" or "rate_limit_exceeded", when it sent one.
	Code string
	// Type is the provider's error type, such as "invalid_request_error".
	Type string
	// Message is the provider's message, with secrets removed.
	Message string
	// Err is the underlying cause, if any.
	Err error
	// RateLimits is what the provider's response said of its rate
	// limits, when it said anything (see [ParseRateLimits]); a refusal
	// with no budget left tells the router to stop sending until the
	// reset.
	RateLimits RateLimits
}

// Error describes the failure without revealing credentials.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("status ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the upstream status.
func (e *Error) StatusCode() int { return e.Status }

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// ParseRetryAfterMS reads a retry-after-ms header value, as OpenAI and
// Anthropic send it: a non-negative decimal number of milliseconds ("250",
// "1234.5"). It reports false for anything else (empty, signed, an
// exponent, NaN); a wait too long for a [time.Duration] is capped.
func ParseRetryAfterMS(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 32 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && c != '.' {
			return 0, false
		}
	}
	// Only digits and dots are left, so ParseFloat sees no sign, exponent
	// or NaN, and rejects "." and "1.2.3" itself.
	ms, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	const maxMS = float64(math.MaxInt64 / int64(time.Millisecond))
	return time.Duration(min(ms, maxMS) * float64(time.Millisecond)), true
}

// ParseRetryAfter reads a Retry-After header value, either delay-seconds or
// an HTTP date, relative to now. It reports false for an empty, malformed
// or negative value; a date in the past is a zero wait.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		if secs > maxSecs {
			secs = maxSecs
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}
