package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// Codes this package puts in [providers.Error.Code] for failures that
// carry no provider code of their own.
const (
	// CodeStreamTruncated: the stream ended with neither "data: [DONE]"
	// nor a finish reason on every choice.
	CodeStreamTruncated = providers.CodeStreamTruncated
	// CodeMalformedEvent: a stream event was not a JSON object that
	// decodes as a chat completion chunk, or was too large.
	CodeMalformedEvent = providers.CodeMalformedEvent
	// CodeClientValidation: the request was refused before it was sent,
	// by go-openai's own checks (a model it knows cannot serve the
	// operation, parameters a reasoning model rejects) or because extra
	// body fields could not be encoded. Its Status is 400.
	CodeClientValidation = "client_validation"
	// CodeUnexpectedStatus: the upstream answered with a status that is
	// neither success nor an error (1xx, or a 3xx the HTTP client did not
	// follow). Its Status is 502.
	CodeUnexpectedStatus = "unexpected_status"
)

// translate turns any error of a go-openai call into the error contract
// of package providers. It is the only place that inspects go-openai's
// error types; everything that reaches a caller passes through it.
//
//   - *goopenai.APIError (a JSON error body): its status, code, type and
//     message, with the Retry-After the doer captured.
//   - *goopenai.RequestError (a non-JSON error body, e.g. a proxy's HTML
//     page): its status and the start of the body as the message.
//   - the call's ctx is done: a passed deadline is a 408 wrapping
//     ctx.Err(); a cancellation is ctx.Err() itself, unwrapped, because
//     it is the caller's decision, not a provider failure.
//   - refused before sending: 400, CodeClientValidation.
//   - a 1xx or unfollowed 3xx answer: 502, CodeUnexpectedStatus.
//   - a timeout of the HTTP client itself (net.Error.Timeout): 408.
//   - anything else (refused, reset, EOF before or while reading the
//     response, an undecodable success body): 502.
//
// Every message and every error in the returned chain has the call's
// credentials removed.
func translate(s *callState, err error) error {
	if err == nil {
		return nil
	}
	s.credentials()
	// A complete error response wins over a ctx that ended meanwhile:
	// the upstream's answer is the more useful fact.
	var apiErr *goopenai.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode != 0 {
		return s.upstreamError(apiErr.HTTPStatusCode, providers.APICode(apiErr.Code), apiErr.Type, apiErr.Message, err)
	}
	var reqErr *goopenai.RequestError
	if errors.As(err, &reqErr) && reqErr.HTTPStatusCode != 0 {
		return s.upstreamError(reqErr.HTTPStatusCode, "", "", bodyMessage(reqErr.Body, reqErr.HTTPStatusCode), err)
	}
	if ctxErr := s.Context.Err(); ctxErr != nil {
		return providers.ContextError(ctxErr)
	}
	if !s.sent {
		cause := s.redactErr(err)
		if unencodable(err) {
			// The caller's body cannot be written as JSON: the
			// caller's mistake, which the routing layer refuses
			// without blaming this provider.
			cause = fmt.Errorf("%w: %w", providers.ErrInvalidRequest, cause)
		}
		return &providers.Error{
			Status:  http.StatusBadRequest,
			Code:    CodeClientValidation,
			Type:    "invalid_request_error",
			Message: s.redact("request refused before sending: " + err.Error()),
			Err:     cause,
		}
	}
	if s.status != 0 && noAnswer(s.status) {
		return &providers.Error{
			Status:  providers.StatusTransport,
			Code:    CodeUnexpectedStatus,
			Message: "unexpected status " + strconv.Itoa(s.status) + " " + http.StatusText(s.status),
			Err:     s.redactErr(err),
		}
	}
	if s.status >= http.StatusBadRequest {
		// The error status arrived but its body could not be read.
		return &providers.Error{
			Status:     s.status,
			RetryAfter: s.retryAfter,
			Message:    http.StatusText(s.status),
			Err:        s.redactErr(err),
			RateLimits: s.limits,
		}
	}
	status := providers.StatusTransport
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		status = providers.StatusTimeout
	}
	if s.status != 0 {
		err = fmt.Errorf("reading %d response: %w", s.status, err)
	}
	return &providers.Error{Status: status, Err: s.redactErr(err)}
}

// upstreamError is the error for an error response (status >= 400: the
// doer turns anything else that is not a success into errNoAnswer).
func (s *callState) upstreamError(status int, code, typ, msg string, cause error) *providers.Error {
	return &providers.Error{
		Status:     status,
		RetryAfter: s.retryAfter,
		Code:       s.redact(code),
		Type:       s.redact(typ),
		Message:    s.redact(msg),
		Err:        s.redactErr(cause),
		RateLimits: s.limits,
	}
}

// maxBodyMessage bounds the message taken from a non-JSON error body: a
// proxy's error page can be kilobytes of HTML.
const maxBodyMessage = 200

// bodyMessage makes a one-line message from a non-JSON error body.
func bodyMessage(body []byte, status int) string {
	if len(body) > 4*maxBodyMessage {
		body = body[:4*maxBodyMessage]
	}
	msg := strings.Join(strings.Fields(string(body)), " ")
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
	return msg
}

// redact removes the call's credentials from text, and anything shaped
// like an OpenAI secret key ("sk-" and 20 or more key characters), in
// case a server echoes a key the doer never saw (one from a body field,
// say).
func (s *callState) redact(text string) string {
	return scrubKeys(s.secrets.Redact(text))
}

// minKeyTail is how many key characters after "sk-" make a secret key;
// shorter runs are ordinary words ("sk-learn").
const minKeyTail = 20

// scrubKeys replaces "sk-…" secret keys in text with "sk-[REDACTED]".
func scrubKeys(text string) string {
	return redact.Keys(text, "sk-", minKeyTail, true)
}

// redactErr returns err with credentials removed from its text and from
// the text of every error it wraps. go-openai's errors are copied with
// their fields cleaned, so errors.As still finds them; any other error
// that mentions a credential is replaced by a stand-in (see [redact.Err]), which
// still matches errors.Is but no longer unwraps to the leaking text.
func (s *callState) redactErr(err error) error {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case *goopenai.APIError:
		c := *e
		c.Message = s.redact(c.Message)
		c.Type = s.redact(c.Type)
		// APIError.Error prints the status line, which a broken or
		// hostile server may fill with whatever it was sent.
		c.HTTPStatus = s.redact(c.HTTPStatus)
		if code, ok := c.Code.(string); ok {
			c.Code = s.redact(code)
		}
		if c.Param != nil {
			param := s.redact(*c.Param)
			c.Param = &param
		}
		if c.InnerError != nil {
			inner := *c.InnerError
			inner.Code = s.redact(inner.Code)
			c.InnerError = &inner
		}
		return &c
	case *goopenai.RequestError:
		c := *e
		c.HTTPStatus = s.redact(c.HTTPStatus)
		c.Body = []byte(s.redact(string(c.Body)))
		c.Err = s.redactErr(c.Err)
		return &c
	}
	return redact.Err(err, s.redact)
}

// unencodable reports whether err is a failure to encode a request body
// as JSON, such as a NaN parameter or a tool schema holding a channel.
func unencodable(err error) bool {
	var ut *json.UnsupportedTypeError
	var uv *json.UnsupportedValueError
	var me *json.MarshalerError
	return errors.As(err, &ut) || errors.As(err, &uv) || errors.As(err, &me)
}
