package otel

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
)

// Values of error.type this package sets besides provider error codes and
// HTTP statuses.
const (
	// ErrorTypeTimeout: the attempt or call ran out of time (status 408
	// with no provider code, or the context's deadline).
	ErrorTypeTimeout = "timeout"
	// ErrorTypeCanceled: the caller cancelled the call.
	ErrorTypeCanceled = "canceled"
	// ErrorTypePanic: the provider panicked.
	ErrorTypePanic = "panic"
	// ErrorTypeOther: a failure with neither a code nor a status.
	ErrorTypeOther = "_OTHER"
)

// Values of error.type for calls that failed before any attempt, after
// the routing package's sentinel errors.
const (
	ErrorTypeUnknownModel         = "unknown_model"
	ErrorTypeForbidden            = "forbidden"
	ErrorTypeUnsupportedOperation = "unsupported_operation"
	ErrorTypeNoEligibleTarget     = "no_eligible_target"
	// ErrorTypeInvalidRequest: the request could not be sent as the
	// caller wrote it; nothing was sent.
	ErrorTypeInvalidRequest = "invalid_request"
)

// attemptErrorType is the error.type of a failed attempt with the given
// status and class.
func attemptErrorType(err error, status int, class string) string {
	switch {
	case class == "panic":
		return ErrorTypePanic
	case errors.Is(err, context.Canceled), errors.Is(err, providers.ErrStreamClosed):
		return ErrorTypeCanceled
	case errors.Is(err, providers.ErrInvalidRequest):
		return ErrorTypeInvalidRequest
	}
	if pe, ok := providers.FromError(err); ok {
		if pe.Code != "" {
			return pe.Code
		}
		if status == 0 {
			status = pe.Status
		}
	}
	return statusType(status, err)
}

// statusType names a failure by its status: "timeout" for 408 or a passed
// deadline, else the status as a string.
func statusType(status int, err error) string {
	switch {
	case status == http.StatusRequestTimeout, status == 0 && errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case status > 0:
		return strconv.Itoa(status)
	}
	return ErrorTypeOther
}

// callErrorType is the error.type of a failed call: a sentinel's name, a
// cancellation, or the type of the last attempt's failure (for a stream
// that broke after its first chunk, the break's).
func callErrorType(err error) string {
	var re *routing.Error
	var se *routing.StreamError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, routing.ErrStreamClosed):
		return ErrorTypeCanceled
	case errors.Is(err, routing.ErrInvalidRequest), errors.Is(err, providers.ErrInvalidRequest):
		return ErrorTypeInvalidRequest
	case errors.As(err, &se):
		return callErrorType(se.Err)
	case errors.As(err, &re):
		if re.Cause != nil {
			return callErrorType(re.Cause)
		}
		if n := len(re.Attempts); n > 0 {
			last := re.Attempts[n-1]
			return attemptErrorType(last.Err, last.Status, "")
		}
		return ErrorTypeOther
	case errors.Is(err, routing.ErrUnknownModel):
		return ErrorTypeUnknownModel
	case errors.Is(err, routing.ErrForbidden):
		return ErrorTypeForbidden
	case errors.Is(err, routing.ErrUnsupportedOperation):
		return ErrorTypeUnsupportedOperation
	case errors.Is(err, routing.ErrNoEligibleTarget):
		return ErrorTypeNoEligibleTarget
	}
	return attemptErrorType(err, 0, "")
}
