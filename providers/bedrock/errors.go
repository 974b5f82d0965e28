package bedrock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// Codes this package puts in [providers.Error.Code] for failures that
// carry no Bedrock error code of their own. Bedrock's own codes (its
// exception names, such as "ThrottlingException") are kept as they are.
const (
	// CodeStreamTruncated: the stream ended before messageStop.
	CodeStreamTruncated = providers.CodeStreamTruncated
	// CodeMalformedEvent: a stream event could not be decoded, or a tool
	// input delta named a content block that never started.
	CodeMalformedEvent = providers.CodeMalformedEvent
	// CodeContextLengthExceeded: Bedrock refused the input as longer than
	// the model's context window. Its Status is 400 and its Type the
	// exception Bedrock sent.
	CodeContextLengthExceeded = "context_length_exceeded"
	// CodeClientValidation: the request was refused before it was sent,
	// because it asks for something Converse cannot do or is malformed
	// (the Message names the field). Its Status is 400.
	CodeClientValidation = "client_validation"
	// CodeCredentialsUnavailable: the AWS credentials (or Bedrock API
	// key) could not be obtained, so nothing was sent. Its Status is 401,
	// so the routing layer falls back to another account by default.
	CodeCredentialsUnavailable = "credentials_unavailable"
	// CodeUnexpectedStatus: the upstream answered with a status that is
	// neither success nor error (1xx, 3xx). Its Status is 502.
	CodeUnexpectedStatus = "unexpected_status"
)

// statusOf is the status each Bedrock exception is reported with. Most
// keep their HTTP status; the model's own failures (424 on the wire) are
// 502, as a bad upstream answer, so that the routing layer's default
// retry and fallback codes cover them. Exceptions in a stream have no HTTP
// status, and take theirs from here too.
var statusOf = map[string]int{
	"ThrottlingException":           http.StatusTooManyRequests,
	"ModelNotReadyException":        http.StatusTooManyRequests,
	"ModelTimeoutException":         providers.StatusTimeout,
	"ModelErrorException":           http.StatusBadGateway,
	"ModelStreamErrorException":     http.StatusBadGateway,
	"ServiceUnavailableException":   http.StatusServiceUnavailable,
	"InternalServerException":       http.StatusInternalServerError,
	"AccessDeniedException":         http.StatusForbidden,
	"ResourceNotFoundException":     http.StatusNotFound,
	"ValidationException":           http.StatusBadRequest,
	"ServiceQuotaExceededException": http.StatusBadRequest,
	"ConflictException":             http.StatusBadRequest,
}

// contextLengthPhrases are how Bedrock and the models behind it word an
// input that does not fit the context window (lower case). Bedrock has no
// error code for it, so this is the one place that reads a message.
var contextLengthPhrases = []string{
	"input is too long",             // Anthropic models: "Input is too long for requested model."
	"too many input tokens",         // "too many input tokens"
	"prompt is too long",            // Anthropic: "prompt is too long: 210000 tokens > 200000 maximum"
	"maximum context length",        // Llama, Mistral: "This model's maximum context length is 8192 tokens"
	"input tokens exceed",           // Amazon Nova: "Input Tokens Exceeded: Number of input tokens exceeds ..."
	"exceeds the context window",    // "input exceeds the context window of the model"
	"model_context_window_exceeded", // the stop reason, echoed in a message
}

func isContextLength(msg string) bool {
	msg = strings.ToLower(msg)
	for _, p := range contextLengthPhrases {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// phase says where an SDK error came from: a call, or the event stream
// of a stream that had already started.
type phase bool

const (
	inCall   phase = false
	inStream phase = true
)

// translate turns any error of the SDK into the error contract of
// package providers: the error a Converse or ConverseStream call returned
// (inCall), or the one a started event stream ended with (inStream). It
// is the only place that inspects the SDK's error types; every SDK
// failure that reaches a caller passes through it.
//
//   - a *providers.Error (this package's own, such as a refused request)
//     is returned as it is;
//   - a Bedrock exception, from an HTTP error response or in the event
//     stream: the status in statusOf (else the HTTP status, else 502),
//     Code and Type the exception's name, except that an input too long
//     for the model is 400 with Code "context_length_exceeded"; the
//     message with the request id; Retry-After when the response had one;
//   - the ctx is done: providers.ContextError;
//   - in a stream: a broken connection is 502 (408 for the HTTP
//     client's own timeout) with Code CodeStreamTruncated, and anything
//     else (a frame or event that does not decode) 502 with Code
//     CodeMalformedEvent;
//   - nothing was sent: 401 CodeCredentialsUnavailable when credentials
//     could not be had, 400 CodeClientValidation when the SDK refused the
//     request, else 502;
//   - an error response that is not a Bedrock exception (a proxy's page):
//     its status; 1xx and 3xx are 502 CodeUnexpectedStatus;
//   - a timeout of the HTTP client: 408; any other failure: 502.
//
// Every message and every error in the returned chain has the call's
// credentials removed.
func translate(ctx context.Context, st *callState, requestID string, err error, where phase) error {
	if err == nil {
		return nil
	}
	var pe *providers.Error
	if errors.As(err, &pe) {
		return err
	}
	if where == inStream {
		return streamError(ctx, st, requestID, err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && requestID == "" {
		requestID = re.ServiceRequestID()
	}
	status := 0
	var hre *smithyhttp.ResponseError
	if errors.As(err, &hre) && hre.Response != nil {
		status = hre.HTTPStatusCode()
	} else if st != nil {
		status = st.status
	}

	if status >= 100 && status < 200 || status >= 300 && status < 400 {
		return &providers.Error{Status: providers.StatusTransport, Code: CodeUnexpectedStatus,
			Message: "unexpected status " + strconv.Itoa(status) + " " + http.StatusText(status), Err: st.redactErr(err)}
	}
	// A complete answer from Bedrock wins over a ctx that ended meanwhile:
	// the upstream's answer is the more useful fact.
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && status != 0 {
		return st.apiError(apiErr, status, requestID, err)
	}
	if ctx != nil {
		if cerr := ctx.Err(); cerr != nil {
			return providers.ContextError(cerr)
		}
	}
	if st != nil && !st.sent {
		var invalid smithy.InvalidParamsError
		var ser *smithy.SerializationError
		switch {
		case errors.As(err, &invalid) || errors.As(err, &ser):
			return &providers.Error{Status: http.StatusBadRequest, Code: CodeClientValidation, Type: "invalid_request_error",
				Message: st.redact("request refused before sending: " + err.Error()),
				Err:     fmt.Errorf("%w: %w", providers.ErrInvalidRequest, st.redactErr(err))}
		case !st.identified:
			return &providers.Error{Status: http.StatusUnauthorized, Code: CodeCredentialsUnavailable,
				Message: st.redact("AWS credentials unavailable: " + err.Error()), Err: st.redactErr(err)}
		}
	}
	if status >= 400 {
		// An error response whose body is not a Bedrock error.
		return &providers.Error{Status: status, RetryAfter: st.wait(), Message: st.redact(withRequestID(http.StatusText(status), requestID)),
			Err: st.redactErr(err)}
	}
	code := providers.StatusTransport
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		code = providers.StatusTimeout
	}
	return &providers.Error{Status: code, Err: st.redactErr(err)}
}

// streamError is translate for the error an event stream ended with: an
// exception Bedrock sent (it has no HTTP status of its own), the ctx
// ending, a broken connection, or a frame or event that did not decode.
func streamError(ctx context.Context, st *callState, requestID string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return st.apiError(apiErr, 0, requestID, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return providers.ContextError(cerr)
	}
	var ne net.Error
	var errno syscall.Errno
	if errors.As(err, &ne) || errors.As(err, &errno) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		status := providers.StatusTransport
		if ne != nil && ne.Timeout() {
			status = providers.StatusTimeout // the HTTP client's own timeout
		}
		return &providers.Error{Status: status, Code: CodeStreamTruncated,
			Message: withRequestID("stream broke before messageStop", requestID), Err: st.redactErr(err)}
	}
	return &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedEvent,
		Message: withRequestID("malformed stream event", requestID), Err: st.redactErr(err)}
}

// unknownError is the code (and message) the SDK gives an error response
// that names no exception.
const unknownError = "UnknownError"

// apiError builds the error for a Bedrock exception.
func (s *callState) apiError(apiErr smithy.APIError, status int, requestID string, cause error) *providers.Error {
	code := apiErr.ErrorCode()
	msg := apiErr.ErrorMessage()
	if code == unknownError {
		// The SDK's stand-in for an error response that named no
		// exception (an empty body, say): there is no code to report.
		code = ""
		if msg == unknownError {
			msg = http.StatusText(status)
		}
	}
	var mse *types.ModelStreamErrorException
	if errors.As(cause, &mse) && (mse.OriginalStatusCode != nil || mse.OriginalMessage != nil) {
		msg += " (from the model"
		if mse.OriginalStatusCode != nil {
			msg += ": status " + strconv.Itoa(int(*mse.OriginalStatusCode))
		}
		if mse.OriginalMessage != nil {
			msg += ": " + *mse.OriginalMessage
		}
		msg += ")"
	}
	var mee *types.ModelErrorException
	if errors.As(cause, &mee) && mee.OriginalStatusCode != nil {
		msg += " (model status " + strconv.Itoa(int(*mee.OriginalStatusCode)) + ")"
	}
	if msg == "" {
		msg = code
	}
	if msg == "" {
		msg = "error"
	}
	out := &providers.Error{
		Status:     status,
		RetryAfter: s.wait(),
		Code:       s.redact(code),
		Type:       s.redact(code),
		Message:    s.redact(withRequestID(msg, requestID)),
		Err:        s.redactErr(cause),
	}
	if st, ok := statusOf[code]; ok {
		out.Status = st
	} else if out.Status == 0 {
		out.Status = providers.StatusTransport
	}
	if (code == "ValidationException" || code == "ModelErrorException" || code == "ModelStreamErrorException") && isContextLength(msg) {
		out.Status, out.Code = http.StatusBadRequest, CodeContextLengthExceeded
	}
	return out
}

func withRequestID(msg, id string) string {
	if id == "" {
		return msg
	}
	return msg + " (request id " + id + ")"
}

func (s *callState) wait() time.Duration {
	if s == nil {
		return 0
	}
	return s.retryAfter
}

// redactedText replaces a credential in messages.
const redactedText = redact.Text

// accessKeyID matches AWS access key ids (long-term AKIA, temporary ASIA,
// and the other documented prefixes), in case a server echoes one this
// call never sent.
var accessKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA)[A-Z0-9]{16}\b`)

// redact removes the call's credentials from text, and anything shaped
// like an AWS access key id.
func (s *callState) redact(text string) string {
	if s != nil {
		text = s.secrets.Redact(text)
	}
	if accessKeyID.MatchString(text) {
		text = accessKeyID.ReplaceAllString(text, redactedText)
	}
	return text
}

// redactErr returns err, or, when its text or the text of an error it
// wraps mentions a credential, a stand-in (see [redact.Err]) in its place
// that still matches errors.Is but no longer unwraps to the leaking text.
func (s *callState) redactErr(err error) error {
	return redact.Err(err, s.redact)
}
