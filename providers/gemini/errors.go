package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genai"

	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// Codes this package puts in [providers.Error.Code] for failures that carry
// no Gemini status name of their own.
const (
	// CodeContextLengthExceeded: Gemini refused an input longer than the
	// model's context window (400 INVALID_ARGUMENT, "The input token count
	// (…) exceeds the maximum number of tokens allowed (…)"). The same
	// code OpenAI uses, so one fallback_error_codes entry serves both.
	CodeContextLengthExceeded = "context_length_exceeded"
	// CodeStreamTruncated: a stream ended before every candidate carried a
	// finish reason.
	CodeStreamTruncated = providers.CodeStreamTruncated
	// CodeMalformedEvent: a stream event could not be decoded.
	CodeMalformedEvent = providers.CodeMalformedEvent
	// CodeMalformedResponse: a success response that could not be decoded,
	// or that holds neither a candidate nor a reason for having none.
	CodeMalformedResponse = "malformed_response"
	// CodeUnexpectedStatus: the upstream answered with a status that is
	// neither success nor an error (1xx, or a 3xx the HTTP client did not
	// follow). Its Status is 502.
	CodeUnexpectedStatus = "unexpected_status"
)

// Gemini status names this package reads.
const (
	statusResourceExhausted = "RESOURCE_EXHAUSTED"
	statusUnavailable       = "UNAVAILABLE"
	statusInternal          = "INTERNAL"
	statusDeadlineExceeded  = "DEADLINE_EXCEEDED"
	statusInvalidArgument   = "INVALID_ARGUMENT"
)

// translate turns any error of a genai call into the error contract of
// package providers. It is the only place that inspects genai's errors;
// every upstream failure that reaches a caller passes through it.
//
//   - genai.APIError (an error response, or an error object in a stream):
//     the HTTP status (for an error inside a 200 stream, the object's
//     code, else its status name's HTTP meaning); the status name
//     (RESOURCE_EXHAUSTED, …) as Code and Type; RetryAfter from the
//     google.rpc.RetryInfo detail, else from a Retry-After header; then
//     the normalisations in [normalise].
//   - the call's ctx is done: a passed deadline is a 408 wrapping
//     ctx.Err(); a cancellation is ctx.Err() itself.
//   - a timeout of the HTTP client or of HTTPOptions.Timeout: 408.
//   - a 1xx or unfollowed 3xx answer: 502, CodeUnexpectedStatus.
//   - a success response that is not the JSON it should be: 502,
//     CodeMalformedResponse.
//   - anything else after the request left (refused, reset, an
//     undecodable body): 502.
//
// Errors from before the request left are not upstream failures; the
// callers report those themselves (see [inputError]). Every message and
// every error in the chain has the call's credentials removed.
func (p *Provider) translate(s *callState, err error) error {
	if err == nil {
		return nil
	}
	// A complete error response wins over a ctx that ended meanwhile:
	// the upstream's answer is the more useful fact.
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		return p.apiError(s, apiErr)
	}
	if ctxErr := s.Context.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if s.status >= http.StatusOK && s.status < http.StatusMultipleChoices && (errors.As(err, &syntaxErr) || errors.As(err, &typeErr)) {
		return &providers.Error{
			Status:  providers.StatusTransport,
			Code:    CodeMalformedResponse,
			Message: "the response could not be decoded: " + p.redact(s, clip(rootCause(err).Error(), maxBodyMessage)),
			Err:     p.redactErr(s, err),
		}
	}
	status := providers.StatusTransport
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		status = providers.StatusTimeout
	}
	return &providers.Error{Status: status, Err: p.redactErr(s, err)}
}

// rootCause is the innermost error err wraps.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// apiError translates an error object from Gemini.
func (p *Provider) apiError(s *callState, e genai.APIError) error {
	out := &providers.Error{RetryAfter: s.retryAfter}
	name := e.Status
	if !isStatusName(name) {
		// genai fills Status with the HTTP status line ("503 Service
		// Unavailable") when the body held no error object.
		name = ""
	}
	switch {
	case s.status >= http.StatusBadRequest:
		out.Status = s.status
	case s.status != 0 && (s.status < http.StatusOK || s.status >= http.StatusMultipleChoices):
		return &providers.Error{
			Status:  providers.StatusTransport,
			Code:    CodeUnexpectedStatus,
			Message: "unexpected status " + strconv.Itoa(s.status) + " " + http.StatusText(s.status),
			Err:     p.redactErr(s, e),
		}
	case e.Code >= http.StatusBadRequest && e.Code <= 599:
		// An error object inside a 200 stream.
		out.Status = e.Code
	default:
		out.Status = statusOfName(name)
	}
	out.Code, out.Type = name, name
	if name != "" {
		out.Message = p.redact(s, clip(e.Message, maxMessage))
	} else {
		out.Message = p.redact(s, bodyMessage(e.Message, out.Status))
	}
	if d, ok := retryDelay(e.Details); ok {
		out.RetryAfter = d
	}
	normalise(out)
	out.Err = p.redactAPIError(s, e)
	return out
}

// normalise maps Gemini's answers onto the statuses and codes the routing
// defaults act on, so that one manifest serves every provider:
//
//   - "input token count … exceeds the maximum" (400) gets Code
//     context_length_exceeded, OpenAI's code for the same refusal. Gemini
//     gives no structured sign of it: the message is all there is.
//   - 504 or DEADLINE_EXCEEDED becomes 408: Gemini's own deadline for the
//     request passed, which is the same fact as the router's timeout. A
//     504 is in neither default retry nor fallback list, so kept as it is
//     an honest timeout would neither retry nor fall back; 408 always
//     falls back. The Code stays DEADLINE_EXCEEDED.
//
// 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE (Gemini's overload answer)
// already mean what the defaults expect and are kept.
func normalise(e *providers.Error) {
	switch {
	case e.Status == http.StatusGatewayTimeout || e.Code == statusDeadlineExceeded:
		e.Status = providers.StatusTimeout
	case e.Status == http.StatusBadRequest && isContextLength(e.Message):
		e.Code = CodeContextLengthExceeded
	}
}

// isContextLength reports whether msg is Gemini's refusal of an input
// longer than the context window.
func isContextLength(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "input token count") && strings.Contains(m, "exceeds the maximum")
}

// isStatusName reports whether s looks like a google.rpc status name
// (RESOURCE_EXHAUSTED), not an HTTP status line.
func isStatusName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// statusOfName is the HTTP status of a google.rpc status name, for an
// error object that carries no usable code; 502 when unknown.
func statusOfName(name string) int {
	switch name {
	case statusInvalidArgument, "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return http.StatusBadRequest
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "ABORTED", "ALREADY_EXISTS":
		return http.StatusConflict
	case statusResourceExhausted:
		return http.StatusTooManyRequests
	case "CANCELLED":
		return 499
	case statusInternal, "UNKNOWN", "DATA_LOSS":
		return http.StatusInternalServerError
	case "UNIMPLEMENTED":
		return http.StatusNotImplemented
	case statusUnavailable:
		return http.StatusServiceUnavailable
	case statusDeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	return providers.StatusTransport
}

// retryInfoType is the type URL of the detail that carries a retry delay.
const retryInfoType = "type.googleapis.com/google.rpc.RetryInfo"

// retryDelay reads the delay of a google.rpc.RetryInfo detail: a proto
// Duration, in JSON a decimal number of seconds with an "s" suffix
// ("46s", "0.5s"), or, from some encoders, {"seconds": 46, "nanos": 0}.
// A daily quota's delay of hours is read as it is: it simply exceeds any
// deadline, and the router falls back at once.
func retryDelay(details []map[string]any) (time.Duration, bool) {
	for _, d := range details {
		if t, _ := d["@type"].(string); t != retryInfoType {
			continue
		}
		switch v := d["retryDelay"].(type) {
		case string:
			return parseProtoDuration(v)
		case map[string]any:
			secs, _ := v["seconds"].(float64)
			nanos, _ := v["nanos"].(float64)
			if secs < 0 || nanos < 0 || secs > float64(maxDelay/time.Second) {
				return 0, false
			}
			return time.Duration(secs)*time.Second + time.Duration(nanos), true
		}
	}
	return 0, false
}

// maxDelay bounds a parsed delay so that it cannot overflow.
const maxDelay = 100 * 365 * 24 * time.Hour

// parseProtoDuration reads a proto Duration's JSON form: digits, an
// optional fraction, then "s".
func parseProtoDuration(v string) (time.Duration, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(v), "s")
	if !ok || num == "" || len(num) > 32 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
		}
	}
	secs, err := strconv.ParseFloat(num, 64)
	if err != nil || secs > float64(maxDelay/time.Second) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// maxMessage bounds the message taken from an error object.
const maxMessage = 2048

// maxBodyMessage bounds the message taken from a body that was not an
// error object: a proxy's error page can be kilobytes of HTML.
const maxBodyMessage = 200

// bodyMessage makes a one-line message from a body that was not an error
// object.
func bodyMessage(body string, status int) string {
	if len(body) > 4*maxBodyMessage {
		body = body[:4*maxBodyMessage]
	}
	msg := clip(strings.Join(strings.Fields(body), " "), maxBodyMessage)
	if msg == "" {
		msg = http.StatusText(status)
	}
	return msg
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// redactedText replaces a credential in messages.
const redactedText = redact.Text

// redact removes the Provider's API key, the credentials the call's
// request carried, and anything shaped like a Google API key from text.
func (p *Provider) redact(s *callState, text string) string {
	if p.apiKey != "" && len(p.apiKey) >= redact.MinSecretLen {
		text = strings.ReplaceAll(text, p.apiKey, redactedText)
	}
	if s != nil {
		text = s.secrets.Redact(text)
	}
	return scrubKeys(text)
}

// googleKeyPrefix starts every Google API key: "AIza" and 35 more key
// characters.
const (
	googleKeyPrefix = "AIza"
	googleKeyTail   = 35
)

// scrubKeys replaces Google API keys in text with "AIza[REDACTED]", in
// case a server echoes a key this call never sent.
func scrubKeys(text string) string {
	return redact.Keys(text, googleKeyPrefix, googleKeyTail, true)
}

// redactAPIError returns a copy of e with credentials removed from its
// message, status and details, so errors.As still finds a genai.APIError
// in the chain and its text is clean.
func (p *Provider) redactAPIError(s *callState, e genai.APIError) error {
	e.Message = p.redact(s, clip(e.Message, maxMessage))
	e.Status = p.redact(s, e.Status)
	if len(e.Details) > 0 {
		details := make([]map[string]any, len(e.Details))
		for i, d := range e.Details {
			details[i], _ = p.redactValue(s, d).(map[string]any)
		}
		e.Details = details
	}
	return e
}

// redactValue returns v with credentials removed from every string in it.
func (p *Provider) redactValue(s *callState, v any) any {
	switch x := v.(type) {
	case string:
		return p.redact(s, x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[p.redact(s, k)] = p.redactValue(s, inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = p.redactValue(s, inner)
		}
		return out
	}
	return v
}

// redactErr returns err with credentials removed from its text and from
// the text of every error it wraps. An error that mentions a credential,
// in its text or in its %#v form, is replaced by a stand-in (see
// [redact.Replace]), which still matches errors.Is but no longer unwraps
// to the leaking text.
func (p *Provider) redactErr(s *callState, err error) error {
	if err == nil || !p.leaks(s, err) {
		return err
	}
	return redact.Replace(err, p.redact(s, err.Error()))
}

// leaks reports whether the text of err, or of any error it wraps,
// contains a credential, printed with %v or with %#v.
func (p *Provider) leaks(s *callState, err error) bool {
	return redact.Any(err, func(e error) bool {
		if msg := e.Error(); p.redact(s, msg) != msg {
			return true
		}
		goMsg := fmt.Sprintf("%#v", e)
		return p.redact(s, goMsg) != goMsg
	})
}
