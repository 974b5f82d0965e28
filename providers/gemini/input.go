package gemini

import (
	"fmt"

	"github.com/llmroute/llmroute/providers"
)

// InputError is a request this package refused before sending it: a field
// Gemini cannot take (an image by http URL, logit_bias), a value out of
// range, a Call.Extra key it does not know, or a conversation that does
// not hold together (a tool result for a call never made).
//
// It is deliberately not a [providers.Error]: nothing reached Gemini, so
// it is not a provider failure. It matches [providers.ErrInvalidRequest]
// with errors.Is, so the routing layer holds it against no target, does
// not ask Gemini again, and moves on to a target that can take the
// request; when none can, the call fails with routing.ErrInvalidRequest.
type InputError struct {
	// Field names the offending field as a JSON path of the OpenAI
	// request ("messages[2].content[1].image_url", "tool_choice"), or
	// "extra.<key>" for a Call.Extra key.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the field and the reason.
func (e *InputError) Error() string {
	return "gemini: " + e.Field + ": " + e.Reason
}

// Unwrap makes an InputError match providers.ErrInvalidRequest.
func (e *InputError) Unwrap() error { return providers.ErrInvalidRequest }

// inputError returns an *InputError for field with a formatted reason.
func inputError(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
