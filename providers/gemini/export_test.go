package gemini

import "google.golang.org/genai"

// Internal parsers, exported to the external tests for fuzzing.
var (
	ParseProtoDuration = parseProtoDuration
	ScrubKeys          = scrubKeys
)

// EncodeToolCallID is encodeToolCallID for a call named name with the
// upstream id upstream.
func EncodeToolCallID(responseID string, candidate, position int, name, upstream string, sig []byte) string {
	return encodeToolCallID(responseID, candidate, position, &genai.FunctionCall{Name: name, ID: upstream}, sig)
}

// DecodeToolCallID returns what an id carries back to Gemini.
func DecodeToolCallID(id string) (upstream string, sig []byte) {
	ref := decodeToolCallID(id)
	return ref.upstream, ref.signature
}
