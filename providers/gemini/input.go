package gemini

import "fmt"

// InputError is a request this package refused before sending it: a field
// Gemini cannot take (an image by http URL, logit_bias), a value out of
// range, a Call.Extra key it does not know, or a conversation that does
// not hold together (a tool result for a call never made).
//
// It is deliberately not a [providers.Error]: nothing reached Gemini, so
// it is not a provider failure. The routing layer counts an error with no
// status as a transport failure (502), so the call may still be served by
// another target that can take the request.
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

// inputError returns an *InputError for field with a formatted reason.
func inputError(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
