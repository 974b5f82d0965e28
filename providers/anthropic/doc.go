// Package anthropic is the llmroute provider adapter for Anthropic's
// Messages API (Claude), built on the official SDK,
// github.com/anthropics/anthropic-sdk-go/v2. It takes the go-openai
// requests the routing layer works with, sends them to Claude in
// Anthropic's own wire format, and answers in go-openai's types, so a
// virtual model can mix Claude and OpenAI targets and fall back from one
// to the other.
//
// Register one [Provider] per account with the routing layer:
//
//	import (
//		"github.com/anthropics/anthropic-sdk-go/v2/option"
//		anth "github.com/llmroute/llmroute/providers/anthropic"
//		"github.com/llmroute/llmroute/routing"
//	)
//
//	claude := anth.New(option.WithAPIKey(os.Getenv("ANTHROPIC_API_KEY")))
//	c, err := routing.New(
//		routing.WithProvider("anthropic-main", claude), // targets "anthropic-main/claude-sonnet-4-5"
//		routing.WithManifest(manifest),
//	)
//
// Any SDK option may be given to [New] (option.WithBaseURL for a proxy,
// option.WithHTTPClient, option.WithHeader, ...). New turns the SDK's
// retries off for good (the routing layer owns retries), reads nothing
// from the environment, turns the SDK's OpenTelemetry spans off and pins
// the API version to [APIVersion]; its documentation says why and how to
// change each. A Provider is safe for concurrent use; build one per
// account and share it.
//
// # Requests
//
// Each call translates the go-openai request:
//
//   - system and developer messages, in order, become the top-level
//     system prompt; user and assistant messages become turns, and
//     consecutive messages of one role are merged into one turn, as the
//     API requires. Empty text is left out. A request that ends with an
//     assistant message asks Claude to continue it (prefill): its
//     trailing whitespace is trimmed, which the API requires, and the
//     answer holds the continuation only. Models that do not take prefill
//     answer 400.
//   - image parts: a data URL (image/jpeg, png, gif or webp) becomes a
//     base64 image, an http(s) URL a URL image.
//   - function tools become tools (no parameters: a tool that takes
//     none); tool_choice auto, required, none and a named function become
//     auto, any, none and tool; parallel_tool_calls false sets
//     disable_parallel_tool_use. An assistant's tool_calls become
//     tool_use blocks, and tool messages tool_result blocks, consecutive
//     ones in one user turn.
//   - stop becomes stop_sequences; max_completion_tokens, else
//     max_tokens, becomes max_tokens ([DefaultMaxTokens] when neither is
//     set); temperature and top_p are sent as they are; user becomes
//     metadata.user_id (Anthropic refuses identifying values such as an
//     e-mail address: pass an opaque id); reasoning_effort becomes
//     output_config.effort; a json_schema response format becomes
//     output_config.format.
//   - seed, presence and frequency penalties, store, metadata,
//     service_tier, verbosity, safety_identifier, prediction and
//     chat_template_kwargs have no Anthropic equivalent and are not sent:
//     they tune or record a request without changing what its answer is.
//     A reasoning_content on an assistant message is not sent back either:
//     Anthropic needs the signature of its thinking blocks, which go-openai
//     does not carry.
//
// A request that Anthropic cannot serve as written is refused before
// anything is sent, with a [*providers.Error] of Status 400 and Code
// [CodeClientValidation] whose Message names the field: n > 1,
// logprobs, logit_bias, functions and function_call, guided_choice, a
// json_object response format (Anthropic has no JSON mode without a
// schema), temperature outside 0 to 1, a stop sequence that is only
// whitespace, tool call arguments that are not a JSON object, an image
// of another media type, an unknown role, and so on. The error wraps
// [providers.ErrInvalidRequest], so the routing layer counts nothing
// against the target and moves on to the next one, whose provider may
// take the request; when none does, the call fails with routing's
// ErrInvalidRequest.
//
// The attempt's extra body fields ([providers.Call].Extra, from
// override_params keys the OpenAI request has no field for) are sent as
// top-level fields when the Messages API takes them: top_k, metadata,
// thinking, service_tier, output_config, cache_control, and every other
// field of the SDK's MessageNewParams; they replace what the translation
// set. Any other key (prompt_version_fqn, an OpenAI-only field) is
// refused before sending with a plain error, not a [*providers.Error],
// that names the key and matches [ErrUnknownParameter] and
// [providers.ErrInvalidRequest]: it is a mistake in the target's
// configuration, not a failure of Anthropic, so it carries no status a
// router could take for one, and sending it would only get a 400 back.
// Call.Header is set on the
// HTTP request, then Call.RemoveHeader removed, through the SDK's
// request options, for this attempt only.
//
// # Responses
//
// Text blocks are joined as the content, tool_use blocks become tool
// calls, thinking becomes ReasoningContent. The stop reason becomes the
// finish reason: end_turn and stop_sequence are stop, max_tokens and
// model_context_window_exceeded are length, tool_use is tool_calls,
// refusal is content_filter, and pause_turn (a server tool's turn that
// paused) is length, so that it never passes for a complete answer. The
// usage counts the tokens read from and written to the prompt cache in
// the prompt tokens, as OpenAI does (Anthropic's input_tokens leaves them
// out), with the tokens read in PromptTokensDetails.CachedTokens. The
// response carries Anthropic's message id and model name, and the HTTP
// response headers (request-id, anthropic-ratelimit-*) through Header().
//
// # Errors
//
// Every failure from upstream is a [*providers.Error], translated in one
// place:
//
//   - an error response: its HTTP status, Code and Type from error.type,
//     and Message from error.message with the request-id (and
//     error.details.error_code, when there is one). Overloaded (529) is
//     503 with Code "overloaded_error", and Anthropic's timeout (504,
//     timeout_error) is 408, so that the routing layer's default retry
//     and fallback statuses treat them as they treat any provider's; the
//     Message keeps the original status. A prompt too long for the model
//     has Code [CodeContextLengthExceeded] (and Type
//     "invalid_request_error"), for fallback_error_codes.
//   - RetryAfter from retry-after-ms when it is present and valid, else
//     from retry-after, in seconds or as an HTTP date.
//   - RateLimits from the anthropic-ratelimit-* headers (requests, and
//     the most restrictive token budget, with their RFC 3339 resets), so
//     that the routing layer stops sending to a spent budget until its
//     reset. A stream reports them through [providers.RateLimitReporter].
//   - no response (connection refused or reset, EOF before headers), a
//     success response that cannot be read or decoded, or a status that
//     is neither success nor error: 502 ([providers.StatusTransport]).
//   - the call's ctx deadline passed: 408, matching
//     context.DeadlineExceeded; the call's ctx was cancelled: the ctx's
//     error itself. A timeout of the HTTP client or of an SDK request
//     timeout is 408 too.
//   - refused by the SDK before sending (conflicting credential options,
//     say): 400, [CodeClientValidation].
//
// The SDK's own error (*anthropic.Error of the SDK package) stays in the
// chain for errors.As, without its request and response, whose headers
// carry the credential. Credentials never appear in an error: the
// Authorization and X-Api-Key values a request carried are replaced by
// "[REDACTED]" wherever a server echoes them, together with anything
// shaped like an Anthropic key ("sk-ant-" and 20 or more key
// characters); an error from the chain whose text would still show one is
// replaced by its redacted text.
//
// # Streaming
//
// [Provider.ChatStream] returns when the response headers arrive, or the
// error of a failed request. Events become go-openai chunks, each with
// the message's id and model:
//
//   - message_start: a chunk with the assistant role;
//   - text_delta: content; thinking_delta: reasoning content;
//   - a tool_use block: a tool call with its id and name, then its
//     input_json_delta pieces as arguments, under one index per tool call
//     counted from 0 (Anthropic's block indexes count text blocks too);
//   - message_stop: a chunk with the finish reason from message_delta,
//     carrying the usage; with stream_options.include_usage, the usage
//     comes instead in one more chunk with no choices, as OpenAI sends
//     it. Recv then returns io.EOF.
//
// ping, content_block_stop, signature and citation deltas and unknown
// events carry nothing a chunk can hold. A stream that ends without
// message_stop, cut mid-answer or after its last delta, is a
// [*providers.Error] with Status 502 and Code [CodeStreamTruncated],
// never io.EOF (the SDK reports such a body as a clean end); the finish
// chunk is held back until message_stop, so a truncated answer never
// shows a finish reason. An error event (overloaded_error, say) is a
// [*providers.Error] whose Status comes from its type (overloaded_error
// 503, rate_limit_error 429, api_error 500, ...). An event that cannot be
// decoded is 502 with Code [CodeMalformedEvent]. After Close, Recv returns
// an error matching [providers.ErrStreamClosed]; Close unblocks a Recv
// that waits, and cancelling the ctx given to ChatStream ends the stream.
package anthropic
