// Package openai is the llmroute provider adapter for OpenAI, Azure OpenAI
// and every server that speaks the OpenAI HTTP API (vLLM, Ollama, LiteLLM,
// gateways), built on github.com/sashabaranov/go-openai.
//
// Register one [Provider] per account with the routing layer:
//
//	import (
//		goopenai "github.com/sashabaranov/go-openai"
//		oai "github.com/llmroute/llmroute/providers/openai"
//	)
//
//	openaiMain := oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))
//	azureMain := oai.New(goopenai.DefaultAzureConfig(key, "https://example.openai.azure.com"))
//
//	cfg := goopenai.DefaultConfig("none")
//	cfg.BaseURL = "http://vllm:8000/v1"
//	local := oai.New(cfg)
//
// A Provider is safe for concurrent use; build one per account and share
// it.
//
// # Attempts
//
// Each call takes a providers request: the go-openai request as the
// target should see it, and a [providers.Call] with that attempt's
// headers to set and remove and extra top-level JSON body fields (such as
// prompt_version_fqn). They reach the HTTP request through the request's
// context, never through shared state, so concurrent calls with different
// overrides never see each other's. Header values are set (replacing any
// go-openai set, the credential included) and then RemoveHeader is
// applied. Extra fields replace a body field of the same name in place
// and are otherwise appended.
//
// The Provider adds no retries and no timeouts: go-openai has no retries
// of its own, and the routing layer owns both through the ctx it passes.
//
// # Errors
//
// Every failure from upstream is a [*providers.Error], translated in one
// place:
//
//   - an error response: its HTTP status; Code, Type and Message from an
//     OpenAI error body ({"error": {"message", "type", "param", "code"}});
//     for a non-JSON body (a proxy's HTML page) the start of the body is
//     the Message. 1xx and 3xx answers are 502 with
//     Code [CodeUnexpectedStatus].
//   - RetryAfter from retry-after-ms when it is present and valid (it is
//     the precise form OpenAI sends alongside the rounded-up Retry-After,
//     and OpenAI's SDKs prefer it too), else from Retry-After, in seconds
//     or as an HTTP date.
//   - no response (connection refused or reset, EOF before headers), or a
//     success response whose body cannot be read or decoded: 502
//     ([providers.StatusTransport]).
//   - the call's ctx deadline passed: 408 ([providers.StatusTimeout]),
//     wrapping ctx.Err(), so errors.Is(err, context.DeadlineExceeded)
//     holds. A timeout of the HTTP client itself is 408 too. (An error
//     response that arrived in full before the deadline keeps its own
//     status: the upstream's answer is the more useful fact.)
//   - the call's ctx was cancelled: ctx.Err() itself, not a
//     *providers.Error: the caller stopped, the provider did not fail.
//   - refused by go-openai before sending (a reasoning model given
//     max_tokens, say) or extra fields that do not encode: 400 with
//     Code [CodeClientValidation].
//
// Credentials never appear in an error: the doer remembers the
// Authorization token and api-key / x-api-key values it sends, and they
// are replaced by "[REDACTED]" in Message and in the text of every error
// in the chain, together with anything shaped like an OpenAI key
// ("sk-" and 20 or more key characters). Credentials shorter than 8 bytes
// are placeholders (local servers accept any key) and are left alone.
//
// # Streaming
//
// [Provider.ChatStream] returns when the response headers arrive. The
// stream's events are read by this package, not by go-openai's reader,
// because go-openai returns io.EOF alike for "data: [DONE]" and for a
// connection that just stopped. Recv returns:
//
//   - io.EOF after "data: [DONE]", or when the body ends after every
//     choice seen carried a finish_reason (servers that never send
//     [DONE]). A usage chunk (stream_options.include_usage) has no
//     choices and changes nothing.
//   - a *providers.Error with Status 502 and Code [CodeStreamTruncated]
//     when the body ends any other way, including in the middle of a
//     line. Never io.EOF.
//   - a *providers.Error for an error event: data {"error": {...}},
//     {"error": "text"}, {"object": "error", ...} (vLLM), or any data after
//     "event: error". Code, Type and Message are kept; the Status comes
//     from the code, else the type: rate limits (rate_limit_exceeded,
//     rate_limit_error, 429) are 429; overloaded, overloaded_error,
//     server_is_overloaded, service_unavailable,
//     service_unavailable_error, 503 and 529 are 503; server_error,
//     internal_server_error, internal_error, api_error and 500 are 500;
//     anything else is 502.
//   - a *providers.Error with Status 502 and Code [CodeMalformedEvent] for
//     data that is not a JSON object decoding as a chunk, or a line over
//     8 MiB.
//   - the ctx errors above once ctx is done; cancelling ctx also aborts a
//     blocked Recv.
//
// Each "data:" line is one event (as go-openai reads them too), comments
// are keep-alives, and lines outside SSE are kept, bounded, in case the
// body turns out to be a plain JSON error sent with status 200. Close
// closes the body, which stops the upstream request; it is safe to call
// twice and from another goroutine while Recv is blocked.
package openai
