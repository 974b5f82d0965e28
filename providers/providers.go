package providers

import (
	"context"
	"net/http"

	openai "github.com/sashabaranov/go-openai"
)

// Call is what one attempt adds to the caller's request on its way
// upstream. The routing layer builds a fresh Call for every attempt; an
// adapter reads it and never keeps it past the call.
type Call struct {
	// Header holds headers to set on the upstream HTTP request: the
	// caller's request headers and the target's headers_override.set.
	// Nil when there are none.
	Header http.Header
	// RemoveHeader lists headers to strip from the upstream request
	// (headers_override.remove), applied after Header.
	RemoveHeader []string
	// Extra holds extra top-level JSON body fields, from override_params
	// keys the typed request has no field for (prompt_version_fqn, say).
	// Nil when there are none.
	Extra map[string]any
}

// ChatRequest is one chat attempt: the request as the target should see it
// (its Model is the target's real model name) and the attempt's extras.
type ChatRequest struct {
	Request openai.ChatCompletionRequest
	Call
}

// CompletionRequest is one completion attempt.
type CompletionRequest struct {
	Request openai.CompletionRequest
	Call
}

// EmbeddingRequest is one embedding attempt.
type EmbeddingRequest struct {
	Request openai.EmbeddingRequest
	Call
}

// Provider is one provider account. It must be safe for concurrent use.
//
// Chat must honour ctx: when ctx is done it returns promptly with
// [ContextError] of ctx's error (a 408 *Error for a passed deadline,
// context.Canceled itself for a cancellation). Any other failure should be
// an [*Error].
type Provider interface {
	Chat(ctx context.Context, req ChatRequest) (openai.ChatCompletionResponse, error)
}

// Completer is a Provider that serves legacy text completions.
type Completer interface {
	Completion(ctx context.Context, req CompletionRequest) (openai.CompletionResponse, error)
}

// Embedder is a Provider that serves embeddings.
type Embedder interface {
	Embed(ctx context.Context, req EmbeddingRequest) (openai.EmbeddingResponse, error)
}

// Streamer is a Provider that serves streaming chat.
//
// ChatStream returns once the upstream has accepted the request (response
// headers received); failures before that are an [*Error]. The returned
// Stream is used by one goroutine at a time.
type Streamer interface {
	ChatStream(ctx context.Context, req ChatRequest) (Stream, error)
}

// Stream is one upstream chat stream.
//
// Recv returns the next chunk. It returns io.EOF only when the stream ended
// the way the provider ends a complete answer (OpenAI's "data: [DONE]", or
// the connection closing after a chunk that carried a finish reason); a
// connection that ends any other way is an error, never io.EOF. An error
// object sent in the stream is returned as an [*Error].
//
// Close releases the upstream connection; it is safe to call more than
// once and after Recv has failed. Cancelling the ctx given to ChatStream
// also ends the stream.
type Stream interface {
	Recv() (openai.ChatCompletionStreamResponse, error)
	Close() error
}

// Operation is a kind of call a virtual model serves (its model_types).
type Operation uint8

// Operations, named as in the manifest's model_types.
const (
	OpChat       Operation = iota + 1 // "chat"
	OpCompletion                      // "completion"
	OpEmbedding                       // "embedding"
)

// String returns the manifest name of op.
func (op Operation) String() string {
	switch op {
	case OpChat:
		return "chat"
	case OpCompletion:
		return "completion"
	case OpEmbedding:
		return "embedding"
	}
	return "unknown"
}

// ParseOperation returns the Operation named s ("chat", "completion",
// "embedding").
func ParseOperation(s string) (Operation, bool) {
	switch s {
	case "chat":
		return OpChat, true
	case "completion":
		return OpCompletion, true
	case "embedding":
		return OpEmbedding, true
	}
	return 0, false
}

// Supports reports whether p can serve op.
func Supports(p Provider, op Operation) bool {
	switch op {
	case OpChat:
		return p != nil
	case OpCompletion:
		_, ok := p.(Completer)
		return ok
	case OpEmbedding:
		_, ok := p.(Embedder)
		return ok
	}
	return false
}
