package anthropic

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/tidwall/gjson"

	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// Codes this package puts in [providers.Error.Code] besides Anthropic's
// own error types.
const (
	// CodeContextLengthExceeded: Anthropic refused an input too long for
	// the model ("prompt is too long"). Its Status stays 400; the code
	// is the one every adapter uses, so that fallback_error_codes can
	// send such a request on to a model with a longer context.
	CodeContextLengthExceeded = "context_length_exceeded"
	// CodeStreamTruncated: the stream ended without message_stop.
	CodeStreamTruncated = providers.CodeStreamTruncated
	// CodeMalformedEvent: a stream event could not be decoded.
	CodeMalformedEvent = providers.CodeMalformedEvent
)

// streamCut is the cause of a stream that ended without message_stop.
type streamCut struct{ cause error }

func (e *streamCut) Error() string {
	if e.cause != nil {
		return "stream ended before message_stop: " + e.cause.Error()
	}
	return "stream ended before message_stop"
}

func (e *streamCut) Unwrap() error { return e.cause }

// malformedEvent is the cause of a stream event that could not be
// decoded.
type malformedEvent struct{ cause error }

func (e *malformedEvent) Error() string { return "malformed stream event: " + e.cause.Error() }

func (e *malformedEvent) Unwrap() error { return e.cause }

// translate turns any failure of a call into the error contract of
// package providers. It is the only place that reads the SDK's errors.
//
//   - an Anthropic error response or error event (*anthropic.Error): see
//     apiError;
//   - the caller's ctx is done: [providers.ContextError] of its error (a
//     complete error response that arrived first wins: the upstream's
//     answer is the more useful fact);
//   - a stream that ended without message_stop: 502,
//     [CodeStreamTruncated]; an event that could not be decoded: 502,
//     [CodeMalformedEvent];
//   - a timeout of the SDK's own request timeout, or of the HTTP client:
//     408;
//   - refused by the SDK before anything was sent (a bad option, a
//     missing credential): 400, [CodeClientValidation];
//   - anything else (refused, reset, EOF before or while reading the
//     response, an undecodable success body): 502.
//
// Every message and every error in the returned chain has the call's
// credentials removed.
func (s *callState) translate(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		return s.apiError(apiErr)
	}
	if ctxErr := s.parent.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	var cut *streamCut
	if errors.As(err, &cut) {
		return &providers.Error{Status: providers.StatusTransport, Code: CodeStreamTruncated, Message: "stream ended before message_stop", Err: s.redactErr(err)}
	}
	var bad *malformedEvent
	if errors.As(err, &bad) {
		return &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedEvent, Message: "malformed stream event", Err: s.redactErr(err)}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &providers.Error{Status: providers.StatusTimeout, Message: "request timed out", Err: s.redactErr(err)}
	}
	if !s.sent {
		return &providers.Error{
			Status:  http.StatusBadRequest,
			Code:    CodeClientValidation,
			Type:    "invalid_request_error",
			Message: s.redact("request refused before sending: " + err.Error()),
			Err:     s.redactErr(err),
		}
	}
	msg := "no response"
	switch {
	case errors.Is(err, errNoAnswer):
		msg = "unexpected status " + strconv.Itoa(s.status) + " " + http.StatusText(s.status)
	case s.status != 0:
		msg = "the " + strconv.Itoa(s.status) + " response could not be read or decoded"
	}
	return &providers.Error{Status: providers.StatusTransport, Message: msg, Err: s.redactErr(err)}
}

// apiError translates an error response, or an error event in a stream.
//
// Status is the HTTP status, normalised so that routing defaults mean
// the same as for other providers: 529 (overloaded) is 503, 504
// (timeout_error) is 408. An error event arrives in a 200 response, so
// its status comes from its type: overloaded_error 503, rate_limit_error
// 429, api_error 500, timeout_error 408, invalid_request_error 400,
// authentication_error 401, billing_error 402, permission_error 403,
// not_found_error 404, conflict_error 409, request_too_large 413, any
// other 502. Code and Type are error.type; a refusal of a prompt that is
// too long has Code [CodeContextLengthExceeded]. Message is
// error.message, followed by the HTTP status when it was normalised, the
// request-id and error.details.error_code when there are. RetryAfter is
// retry-after-ms when valid, else retry-after (seconds or an HTTP date).
func (s *callState) apiError(e *sdk.Error) error {
	raw := e.RawJSON()
	typ := string(e.Type())
	if typ == "" {
		typ = gjson.Get(raw, "error.type").String()
	}
	httpStatus := e.StatusCode
	status := httpStatus
	switch {
	case httpStatus < http.StatusBadRequest:
		status = typeStatus(typ)
	case httpStatus == 529:
		status = http.StatusServiceUnavailable
	case httpStatus == http.StatusGatewayTimeout:
		status = providers.StatusTimeout
	}

	msg := e.Message
	if msg == "" {
		msg = bodyMessage(raw, httpStatus)
	}
	code := typ
	if isPromptTooLong(msg) {
		code = CodeContextLengthExceeded
	}
	var notes []string
	if status != httpStatus && httpStatus >= http.StatusBadRequest {
		notes = append(notes, "HTTP "+strconv.Itoa(httpStatus))
	}
	if id := e.RequestID; id != "" {
		notes = append(notes, "request-id "+id)
	} else if id := gjson.Get(raw, "request_id").String(); id != "" {
		notes = append(notes, "request-id "+id)
	}
	if ec := string(e.ErrorCode()); ec != "" {
		notes = append(notes, "error_code "+ec)
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, "; ") + ")"
	}

	var retryAfter time.Duration
	var limits providers.RateLimits
	if e.Response != nil && httpStatus >= http.StatusBadRequest {
		now := time.Now()
		retryAfter = retryAfterOf(e.Response.Header, now)
		limits = providers.ParseRateLimits(e.Response.Header, now)
	}
	return &providers.Error{
		Status:     status,
		RetryAfter: retryAfter,
		Code:       s.redact(code),
		Type:       s.redact(typ),
		Message:    s.redact(msg),
		Err:        s.sanitize(e),
		RateLimits: limits,
	}
}

// typeStatus is the HTTP status an error type stands for, for an error
// event that arrived with a 200.
func typeStatus(typ string) int {
	switch typ {
	case "overloaded_error":
		return http.StatusServiceUnavailable
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "api_error":
		return http.StatusInternalServerError
	case "timeout_error":
		return providers.StatusTimeout
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "billing_error":
		return http.StatusPaymentRequired
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "conflict_error":
		return http.StatusConflict
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	}
	return providers.StatusTransport
}

// isPromptTooLong reports whether an error message is Anthropic's refusal
// of an input too long for the model. The API gives that refusal no code
// of its own ("prompt is too long: 208000 tokens > 200000 maximum"; older
// models: "input length and `max_tokens` exceed context limit"), so this
// is the one place that reads a message.
func isPromptTooLong(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "prompt is too long") || strings.Contains(m, "exceed context limit")
}

// retryAfterOf reads how long an error response asks the caller to
// wait: retry-after-ms when present and valid (the precise form, which
// the SDK prefers too), else retry-after in seconds or as an HTTP date.
func retryAfterOf(h http.Header, now time.Time) time.Duration {
	if d, ok := providers.ParseRetryAfterMS(h.Get("Retry-After-Ms")); ok {
		return d
	}
	if d, ok := providers.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	return 0
}

// maxBodyMessage bounds the message taken from an error body that is not
// Anthropic's JSON (a proxy's HTML page, say).
const maxBodyMessage = 200

// bodyMessage makes a one-line message from an error body with no
// error.message.
func bodyMessage(body string, status int) string {
	if len(body) > 4*maxBodyMessage {
		body = body[:4*maxBodyMessage]
	}
	msg := strings.Join(strings.Fields(body), " ")
	if len(msg) > maxBodyMessage {
		cut := maxBodyMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if msg == "" {
		msg = http.StatusText(status)
	}
	if msg == "" {
		msg = "error event in stream"
	}
	return msg
}

// redact removes the call's credentials from text, and anything shaped
// like an Anthropic key ("sk-ant-" and 20 or more key characters), in
// case a server echoes a key the request never carried.
func (s *callState) redact(text string) string {
	return scrubKeys(s.secrets.Redact(text))
}

// keyPrefix starts every Anthropic API key and OAuth token.
const keyPrefix = "sk-ant-"

// minKeyTail is how many key characters after keyPrefix make a key.
const minKeyTail = 20

// scrubKeys replaces Anthropic keys in text with keyPrefix+"[REDACTED]".
func scrubKeys(text string) string {
	return redact.Keys(text, keyPrefix, minKeyTail, false)
}

// sanitize returns a copy of an SDK error that can be printed and kept:
// without the request (its headers carry the credential) and the
// response, and replaced by a stand-in (see [redact.Replace]) when its
// text (the URL, the body) still shows a credential.
func (s *callState) sanitize(e *sdk.Error) error {
	c := *e
	c.Request, c.Response = nil, nil
	if text := c.Error(); s.redact(text) != text {
		return redact.Replace(&c, s.redact(text))
	}
	return &c
}

// redactErr returns err, or a stand-in (see [redact.Err]) in its place
// when the text of err or of any error it wraps shows a credential.
func (s *callState) redactErr(err error) error {
	return redact.Err(err, s.redact)
}
