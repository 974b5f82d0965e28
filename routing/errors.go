package routing

import (
	"errors"
	"strconv"
	"strings"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/target"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnknownModel: the model name is neither a "group/model" nor a
	// slug the Client serves.
	ErrUnknownModel = errors.New("routing: unknown model")
	// ErrForbidden: the subject in the context may not do this with the
	// group. The error never says which models the group holds.
	ErrForbidden = errors.New("routing: forbidden")
	// ErrUnsupportedOperation: the virtual model does not list the
	// operation in its model_types.
	ErrUnsupportedOperation = errors.New("routing: unsupported operation")
	// ErrNoEligibleTarget: no target's metadata_match holds for the
	// request, and the virtual model has no catch-all target.
	ErrNoEligibleTarget = errors.New("routing: no eligible target")
	// ErrStreamInterrupted: a stream broke after its first content chunk
	// was delivered; what was delivered is not the whole answer.
	ErrStreamInterrupted = errors.New("routing: stream interrupted")
	// ErrStreamRestarted: an interrupted stream is starting over on
	// another target (opt-in); discard what was received so far.
	ErrStreamRestarted = errors.New("routing: stream restarted")
	// ErrStreamClosed: Recv was called after Close. It is the same value
	// as providers.ErrStreamClosed, which every adapter's streams return,
	// so one check serves at either layer.
	ErrStreamClosed = providers.ErrStreamClosed
	// ErrInvalidRequest: the Client cannot send the request as the caller
	// wrote it: an invalid header name or value (refused before any
	// attempt), or a request every target's adapter refused before
	// sending it (a body that cannot be encoded, a parameter the
	// provider's API has no place for). Nothing was sent and no target
	// was penalised; the error names what is wrong.
	ErrInvalidRequest = errors.New("routing: invalid request")
	// ErrNotCreated: the Client was not made by New (a zero or nil
	// Client); it serves nothing.
	ErrNotCreated = errors.New("routing: Client not created with New")
)

// Error is a call that failed after one or more provider attempts. It
// unwraps to every attempt's *target.Error (and to the context's error when
// the call was cancelled), and StatusCode returns the final upstream
// status.
type Error struct {
	// Model is the virtual model as called.
	Model string
	// Attempts are the failed attempts, in order.
	Attempts []*target.Error
	// Cause, when not nil, ended the call before the attempts were used
	// up: the context's error.
	Cause error

	made    int  // attempts made, the failed ones and one cut short
	invalid bool // every target refused the request before sending it
}

// Is matches ErrInvalidRequest when every target's adapter refused the
// request before sending anything.
func (e *Error) Is(target error) bool { return e.invalid && target == ErrInvalidRequest }

// Error summarises the call and names its last attempt.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("routing: ")
	b.WriteString(strconv.Quote(e.Model))
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
		b.WriteString(" after ")
	} else {
		b.WriteString(": ")
	}
	n := max(e.made, len(e.Attempts))
	b.WriteString(strconv.Itoa(n))
	if n == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.Cause == nil {
		b.WriteString(" failed")
	}
	if n := len(e.Attempts); n > 0 {
		b.WriteString("; last: ")
		b.WriteString(e.Attempts[n-1].Error())
	}
	return b.String()
}

// Unwrap returns the cause (if any) and every attempt's error.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, len(e.Attempts)+1)
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	for _, a := range e.Attempts {
		out = append(out, a)
	}
	return out
}

// StatusCode returns the last attempt's upstream status (408 for a
// timeout, 502 for a transport failure), or 0 when no attempt was made.
func (e *Error) StatusCode() int {
	if n := len(e.Attempts); n > 0 {
		return e.Attempts[n-1].Status
	}
	return 0
}
