package fake

import (
	"context"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Capability is an optional operation of a provider, beyond chat. The
// values combine with |; the zero Capability is none.
type Capability uint8

// Capabilities that [Provider.Without] can take away.
const (
	Completions Capability = 1 << iota // providers.Completer
	Embeddings                         // providers.Embedder
	Streaming                          // providers.Streamer
)

// Without returns a view of p that lacks the given capabilities: its type
// has no method for them, so [providers.Supports] reports false and a
// manifest that routes such an operation to it fails to load. The view
// shares p's scripts and records its calls in p. It is safe for
// concurrent use.
func (p *Provider) Without(caps ...Capability) providers.Provider {
	var drop Capability
	for _, c := range caps {
		drop |= c
	}
	c, cp, e, s := chatView{p}, completionView{p}, embedView{p}, streamView{p}
	switch (Completions | Embeddings | Streaming) &^ drop {
	case 0:
		return struct{ chatView }{c}
	case Completions:
		return struct {
			chatView
			completionView
		}{c, cp}
	case Embeddings:
		return struct {
			chatView
			embedView
		}{c, e}
	case Streaming:
		return struct {
			chatView
			streamView
		}{c, s}
	case Completions | Embeddings:
		return struct {
			chatView
			completionView
			embedView
		}{c, cp, e}
	case Completions | Streaming:
		return struct {
			chatView
			completionView
			streamView
		}{c, cp, s}
	case Embeddings | Streaming:
		return struct {
			chatView
			embedView
			streamView
		}{c, e, s}
	}
	return struct {
		chatView
		completionView
		embedView
		streamView
	}{c, cp, e, s}
}

// ChatOnly returns a view of p that serves chat and nothing else, not even
// streaming: p.Without(Completions, Embeddings, Streaming).
func (p *Provider) ChatOnly() providers.Provider {
	return p.Without(Completions, Embeddings, Streaming)
}

// The views each expose one method of a Provider; Without combines them.
type (
	chatView       struct{ p *Provider }
	completionView struct{ p *Provider }
	embedView      struct{ p *Provider }
	streamView     struct{ p *Provider }
)

func (v chatView) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	return v.p.Chat(ctx, req)
}

func (v completionView) Completion(ctx context.Context, req providers.CompletionRequest) (openai.CompletionResponse, error) {
	return v.p.Completion(ctx, req)
}

func (v embedView) Embed(ctx context.Context, req providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	return v.p.Embed(ctx, req)
}

func (v streamView) ChatStream(ctx context.Context, req providers.ChatRequest) (providers.Stream, error) {
	return v.p.ChatStream(ctx, req)
}
