package gemini

import (
	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"
)

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

// BuildChat translates a chat request, for benchmarks.
func BuildChat(r *openai.ChatCompletionRequest, extra map[string]any) error {
	_, err := buildChat(r, extra)
	return err
}

// ChatResponse translates a generateContent response, for benchmarks.
var ChatResponse = chatResponse

// ChunkConv translates a stream's chunks, for benchmarks.
type ChunkConv struct{ c chunkConv }

// NewChunkConv returns a ChunkConv for a stream of model.
func NewChunkConv(model string) *ChunkConv { return &ChunkConv{c: chunkConv{model: model}} }

// Chunk translates one chunk.
func (c *ChunkConv) Chunk(resp *genai.GenerateContentResponse) (openai.ChatCompletionStreamResponse, bool, error) {
	return c.c.chunk(resp)
}
