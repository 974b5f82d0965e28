// Package providers defines what llmroute needs from an LLM provider
// account: the Provider interface, its optional capabilities, and the error
// contract every adapter translates its failures into.
//
// A Provider serves chat; an adapter that can also serve completions,
// embeddings or streaming chat implements [Completer], [Embedder] or
// [Streamer]. The routing layer checks these capabilities when a manifest
// is loaded, so a virtual model never routes an operation to an account that
// cannot serve it.
//
// Adapters return failures as [*Error]: the HTTP status (408 for a timeout,
// 502 for a transport failure with no status), the provider's Retry-After,
// its error code and the cause. The routing layer classifies by those
// fields alone; it never matches error strings.
//
//	type myProvider struct{}
//
//	func (myProvider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
//		return openai.ChatCompletionResponse{}, &providers.Error{Status: 503, Message: "overloaded"}
//	}
package providers
