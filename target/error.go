package target

import (
	"strconv"
	"strings"
)

// Error is one failed attempt on one target. The routing layer returns
// every attempt's Error, in order, inside the error of a failed call.
type Error struct {
	// Target is the attempt's target, "account/model".
	Target string
	// Try is the 1-based try on this target within the call.
	Try int
	// Status is the upstream status: 408 for a timeout, 502 for a
	// transport failure with no status.
	Status int
	// Err is the cause, usually a *providers.Error.
	Err error
}

// Error names the target, the try and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Target)
	b.WriteString(" try ")
	b.WriteString(strconv.Itoa(e.Try))
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(": status ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the attempt's upstream status.
func (e *Error) StatusCode() int { return e.Status }
