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
//
// # Rate limits
//
// Providers say on every response how much of their rate limits is left
// ([RateLimits]), and the routing layer skips a target whose requests or
// tokens ran out until the reset, before it answers 429. An adapter
// reports what its provider sent in three places:
//
//   - a unary success: the response's header holder (go-openai's
//     SetHeader, which go-openai fills itself for OpenAI-compatible
//     servers) carries the provider's response headers; the routing layer
//     reads them with [ParseRateLimits], which knows OpenAI's and Azure's
//     x-ratelimit-* and Anthropic's anthropic-ratelimit-*;
//   - a failure: [Error.RateLimits], parsed from the error response's
//     headers with [ParseRateLimits] (or built by hand, for a provider
//     whose limits come in another form);
//   - a stream: the Stream implements [RateLimitReporter], returning what
//     the response headers said; it is read as the stream opens.
package providers
