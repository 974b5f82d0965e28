package providers

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// ErrorCode returns the provider's own error code, so that an *Error
// answers the same behaviour interfaces [FromError] reads.
func (e *Error) ErrorCode() string { return e.Code }

// FromError returns the facts the routing layer classifies a failure by,
// wherever they sit in err's chain, the way grpc-go's status.FromError
// reads a status:
//
//   - an *Error anywhere in the chain is returned as it is;
//   - otherwise the status is read from a go-openai *APIError or
//     *RequestError, or from any error with a StatusCode() int method, and
//     the Retry-After and code from errors with RetryAfter() time.Duration
//     and ErrorCode() string methods (go-openai's APIError code too).
//
// So a user's own Provider is classified by what its errors say, not by
// their type. FromError reports false, and returns nil, when no error in
// the chain has a status; the routing layer then counts the failure as a
// transport failure (502). The returned *Error wraps err and must not be
// modified when it is err's own.
func FromError(err error) (*Error, bool) {
	if err == nil {
		return nil, false
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	out := &Error{Err: err}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var sc interface{ StatusCode() int }
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode != 0:
		out.Status, out.Type, out.Message = apiErr.HTTPStatusCode, apiErr.Type, apiErr.Message
		out.Code = APICode(apiErr.Code)
	case errors.As(err, &reqErr) && reqErr.HTTPStatusCode != 0:
		out.Status = reqErr.HTTPStatusCode
	case errors.As(err, &sc) && sc.StatusCode() != 0:
		out.Status = sc.StatusCode()
	default:
		return nil, false
	}
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		out.RetryAfter = ra.RetryAfter()
	}
	var ec interface{ ErrorCode() string }
	if errors.As(err, &ec) && ec.ErrorCode() != "" {
		out.Code = ec.ErrorCode()
	}
	var rl RateLimitReporter
	if errors.As(err, &rl) {
		out.RateLimits = rl.RateLimits()
	}
	return out, true
}

// APICode renders the Code of a go-openai APIError, which go-openai
// decodes as an int, a string or whatever else the JSON held. go-openai
// turns "code": null (OpenAI's usual value) into the int 0, so 0 is no
// code. FromError and the OpenAI adapter read codes through it alike.
func APICode(code any) string {
	switch c := code.(type) {
	case nil:
		return ""
	case string:
		return c
	case int:
		if c == 0 {
			return ""
		}
		return strconv.Itoa(c)
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	}
	return fmt.Sprint(code)
}
