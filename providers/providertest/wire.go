package providertest

import (
	"net/http"
	"testing"

	"github.com/llmroute/llmroute/providers"
)

// Fault is an upstream failure the suite asks a provider to act out, each
// in the provider's own words.
type Fault int

// Faults, with the *providers.Error the suite expects an adapter to make
// of each.
const (
	// FaultRateLimited: the provider's rate-limit answer (429), with a
	// Retry-After header when the behaviour gives one. Expect status 429
	// and RetryAfter as the header says.
	FaultRateLimited Fault = iota + 1
	// FaultServerError: the provider's internal error (500). Expect 500.
	FaultServerError
	// FaultBadRequest: the provider's invalid-request answer (400) with
	// its own error code or type. Expect 400 and a non-empty Code.
	FaultBadRequest
	// FaultContextLength: the provider's refusal of an input that is too
	// long, exactly as the real API words it. Expect 400 and Code
	// "context_length_exceeded".
	FaultContextLength
	// FaultOverloaded: the provider's overload answer (OpenAI 503,
	// Anthropic 529 overloaded_error, Gemini 503 UNAVAILABLE, Bedrock
	// ServiceUnavailableException). Expect 503.
	FaultOverloaded
)

// String names f.
func (f Fault) String() string {
	switch f {
	case FaultRateLimited:
		return "rate-limited"
	case FaultServerError:
		return "server-error"
	case FaultBadRequest:
		return "bad-request"
	case FaultContextLength:
		return "context-length"
	case FaultOverloaded:
		return "overloaded"
	case 0:
		return "none"
	}
	return "unknown"
}

// Answer is what a successful call answers.
type Answer struct {
	// ID and Model are the response's id and model name.
	ID, Model string
	// Text is the answer's content. A stream sends it in Chunks pieces.
	Text string
	// PromptTokens and CompletionTokens are the usage reported.
	PromptTokens, CompletionTokens int
}

// Wire writes one provider's wire format: the suite's loopback server
// ([Serve]) composes every behaviour from these methods. Each method
// writes to w and flushes what it wrote.
type Wire interface {
	// Answer writes a complete non-streamed chat response carrying a.
	Answer(w http.ResponseWriter, r *http.Request, a Answer)
	// Fail writes the provider's error response for f. retryAfter is
	// the Retry-After header value to send (delay-seconds or an HTTP
	// date), or "" for none. A wire may quote the request's credential
	// back in a message, as some servers do, to give the suite's check
	// that the key never reaches an error something to catch.
	Fail(w http.ResponseWriter, r *http.Request, f Fault, retryAfter string)
	// StreamStart writes a stream's response headers and any opening
	// events that carry no content.
	StreamStart(w http.ResponseWriter, r *http.Request, a Answer)
	// StreamText writes one event carrying text as answer content.
	StreamText(w http.ResponseWriter, text string)
	// StreamEnd writes what ends a complete answer: its finish reason,
	// usage and end marker.
	StreamEnd(w http.ResponseWriter, a Answer)
	// StreamError writes a mid-stream error event for f (the suite asks
	// for FaultOverloaded and FaultServerError).
	StreamError(w http.ResponseWriter, f Fault)
	// StreamMalformed writes an event that cannot be decoded.
	StreamMalformed(w http.ResponseWriter)
}

// EmbedWire is a Wire for a provider that also serves embeddings.
type EmbedWire interface {
	Wire
	// Embeddings writes an embeddings response with one vector per
	// input, in order, and the given prompt tokens as usage.
	Embeddings(w http.ResponseWriter, r *http.Request, vectors [][]float32, promptTokens int)
}

// Ending is how a behaviour's stream ends.
type Ending int

// Stream endings.
const (
	// EndComplete: the provider's end of a complete answer.
	EndComplete Ending = iota
	// EndCut: the connection closes with no end marker and no finish
	// reason.
	EndCut
	// EndStall: the server sends nothing more and keeps the
	// connection open until the client goes away.
	EndStall
	// EndMalformed: an event that cannot be decoded.
	EndMalformed
	// EndError: a mid-stream error event (Behaviour.Fault).
	EndError
)

// String names e.
func (e Ending) String() string {
	switch e {
	case EndComplete:
		return "complete"
	case EndCut:
		return "cut"
	case EndStall:
		return "stall"
	case EndMalformed:
		return "malformed"
	case EndError:
		return "error-event"
	}
	return "unknown"
}

// Behaviour is what the upstream does with one call.
type Behaviour struct {
	// Stream is set when the call is ChatStream, Embed when it is
	// Embed; a behaviour with neither is a Chat call.
	Stream, Embed bool
	// Fault, when not 0, fails the call with the provider's error
	// response (for a stream: before any event), or, with Ending
	// EndError, mid-stream.
	Fault Fault
	// RetryAfter is the Retry-After header value sent with a fault.
	RetryAfter string
	// Silent: the server reads the request and never answers, until
	// the client goes away.
	Silent bool
	// Answer is the answer of a successful call.
	Answer Answer
	// Chunks is how many content events a stream sends before its
	// Ending (the Answer's Text split as evenly as it goes).
	Chunks int
	// Ending is how a stream ends after its Chunks.
	Ending Ending
	// Vectors are the embeddings of an Embed call's answer, one per
	// input.
	Vectors [][]float32
}

// Harness connects the suite to one provider. Its zero value is not
// usable: New and Model are required.
type Harness struct {
	// New returns a provider whose calls act out b, with Key as
	// its credential. An HTTP adapter usually starts [Serve] with its
	// Wire and points a new provider at the server's URL. The suite
	// makes one call per provider New returns (a few at once in the
	// concurrency subtest), and t is the subtest's: pass it to Serve so
	// that the suite finds the server. New must not call t.Parallel: the
	// suite's subtests run one at a time.
	New func(t *testing.T, b Behaviour) providers.Provider
	// Key is the API key New gives every provider; the suite checks that
	// it never appears in any error. Empty for a provider with no key
	// (the fake).
	Key string
	// Model is the model name the suite asks for.
	Model string
	// Omits says what of an answer the provider's wire format cannot
	// carry back, so that the suite does not expect it.
	Omits Omits
}

// Omits lists facts of an [Answer] that a provider's responses do not
// carry. The zero value expects them all.
type Omits struct {
	// ID: responses have no id of their own. The suite then wants any
	// non-empty id instead of the Answer's, the same on every chunk of
	// a stream.
	ID bool
	// Model: responses do not name the model that answered. The suite
	// then wants the requested model, Harness.Model.
	Model bool
	// StreamUsage: streams report no usage.
	StreamUsage bool
}
