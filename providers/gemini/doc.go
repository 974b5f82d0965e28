// Package gemini is the llmroute provider adapter for Google Gemini, on the
// Gemini API or Vertex AI, built on google.golang.org/genai. It lives in
// a module of its own, so that only its users download genai.
//
// Register one [Provider] per account with the routing layer:
//
//	import (
//		"google.golang.org/genai"
//		gem "github.com/llmroute/llmroute/providers/gemini"
//	)
//
//	gemini, err := gem.New(ctx, &genai.ClientConfig{
//		APIKey:  os.Getenv("GEMINI_API_KEY"),
//		Backend: genai.BackendGeminiAPI,
//	})
//	...
//	vertex, err := gem.New(ctx, &genai.ClientConfig{
//		Backend:     genai.BackendVertexAI,
//		Project:     "my-project",
//		Location:    "europe-west4",
//		Credentials: creds, // from cloud.google.com/go/auth/credentials
//	})
//	...
//	c, err := routing.New(
//		routing.WithProvider("gemini-main", gemini),
//		routing.WithProvider("vertex-eu", vertex),
//		...
//	)
//
// A Provider takes and returns go-openai types like every llmroute
// provider, so a virtual model may mix Gemini with OpenAI-compatible
// targets, and a caller's code does not change with the target that
// serves it.
//
// # When the OpenAI-compatible endpoint is enough
//
// Gemini also serves an OpenAI-compatible API
// (https://generativelanguage.googleapis.com/v1beta/openai/), which the
// providers/openai adapter reaches with no extra module. For plain chat
// and embeddings on the Gemini API it is enough. A router loses what it
// needs there, though, and this package exists for that:
//
//   - errors come as a JSON array that go-openai cannot decode, so the
//     status name (RESOURCE_EXHAUSTED, UNAVAILABLE) and the retry delay
//     are lost, and with them fallback on a code and a 429's wait;
//   - tool calls come back with empty ids, and Gemini 3's thought
//     signatures travel in a field go-openai has not got, so the next
//     turn of a tool conversation is refused;
//   - finish_reason is "stop" for a tool call;
//   - Vertex AI's compatible endpoint needs short-lived OAuth tokens, not
//     a static key.
//
// # Configuration
//
// [New] takes a genai.ClientConfig and copies it; it changes nothing the
// caller holds. Unlike genai.NewClient it reads nothing from the
// environment that the caller did not pass:
//
//   - Backend must be set, or is the Gemini API (genai would read
//     GOOGLE_GENAI_USE_VERTEXAI); BackendEnterprise is Vertex AI.
//   - The Gemini API needs APIKey (genai would read GEMINI_API_KEY or
//     GOOGLE_API_KEY) and takes no Project, Location or Credentials.
//   - Vertex AI needs Project (Location defaults to "global", as genai's
//     does) with Credentials or an HTTPClient that authenticates; or
//     APIKey alone (express mode); or HTTPOptions.BaseURL alone (a proxy).
//     genai would read GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION and
//     GOOGLE_CLOUD_REGION, and look up Application Default Credentials;
//     New does neither: genai.ClientConfig.UseDefaultCredentials finds
//     them when that is what the caller wants. With Credentials and no
//     HTTPClient, New builds the authenticating client as genai would
//     (the credentials' quota project, if any, goes in
//     X-Goog-User-Project).
//   - HTTPOptions.BaseURL, when empty, is set to genai's default
//     endpoint, not GOOGLE_GEMINI_BASE_URL or GOOGLE_VERTEX_BASE_URL.
//   - genai still looks the variables up, and logs a warning through the
//     standard log package when it finds them in conflict with the
//     configuration. New checks that genai used exactly the configuration
//     it was given: where genai would take a variable regardless (a
//     Vertex AI proxy is handed GOOGLE_API_KEY when it is set), New fails
//     and names it.
//
// No request is ever re-sent behind the router's back: New clears
// HTTPOptions.RetryOptions (the routing layer owns retries, and the same
// 429 would otherwise be retried twice over), and every request turns off
// genai's automatic continuation, which re-sends a paused request within
// one call and bills it again. HTTPClient and HTTPOptions (BaseURL,
// APIVersion, Headers, Timeout, ExtraBody, ExtrasRequestProvider) are
// honoured; the HTTP client is copied, so the caller's own is never
// changed. Errors from New never contain the API key.
//
// # Requests
//
// The OpenAI request is translated field by field:
//
//   - system and developer messages, wherever they are, become the system
//     instruction, in order; user and assistant messages become "user"
//     and "model" turns.
//   - An image_url that is a base64 data: URL is sent inline; a gs:// URI
//     (its type told from its extension) or a Gemini Files API URI is sent
//     by reference. Gemini fetches no other URL, and neither does this
//     package: such an image is refused. The image detail is ignored.
//   - tools become function declarations whose ParametersJsonSchema is the
//     caller's JSON schema exactly as given (not genai's OpenAPI-subset
//     Schema, which would drop keywords). tool_choice "auto", "none" and
//     "required" are the modes AUTO, NONE and ANY; a named function is ANY
//     with only that function allowed. Gemini has no switch for parallel
//     calls: parallel_tool_calls is ignored.
//   - An assistant message's tool calls become function calls (with their
//     thought signatures, see below); tool messages become function
//     responses, all the responses to one turn in one content, each named
//     after the function of the call with the same id (or the message's
//     name). A result that is a JSON object is sent as it is; any other
//     text as {"output": text}, the key Gemini documents for a function's
//     output.
//   - temperature, top_p, presence and frequency penalties, seed, stop,
//     max_completion_tokens (else max_tokens) and n map to the generation
//     settings of the same meaning; reasoning_effort (minimal, low, medium,
//     high) to the thinking level; response_format json_object to JSON
//     output, json_schema to JSON output with the caller's schema as
//     ResponseJsonSchema.
//   - logit_bias, logprobs, guided_choice and the legacy functions and
//     function_call are refused; hints Gemini has no use for (user,
//     metadata, store, service_tier, prediction, verbosity,
//     safety_identifier, stream_options) are ignored.
//
// A request this package cannot translate, or a value out of range (a
// NaN temperature, a seed beyond 32 bits), is an [*InputError] naming the
// field, and nothing is sent.
//
// # Tool calls and thought signatures
//
// The Gemini API gives its function calls no id, and Gemini 3 attaches a
// thought signature to a function call that must come back with it on the
// next turn, or the turn is refused with a 400. go-openai's ToolCall has
// no field for it. Its id, though, is the one value every OpenAI client
// echoes back unchanged, so this package makes the id carry it:
//
//	call_<16 hex digits>[_<base64url of the signature and Gemini's own id>]
//
// The hex digits hash the response id, the call's position and name, so
// that the same response always gives the same ids and the calls of one
// response get distinct ones. On the way back, an id of this form gives
// the call its signature (and Gemini's own id, when it sent one); any
// other id is not sent to Gemini, which never issued it. A conversation
// therefore works as long as the client keeps the ids it was given, as
// OpenAI's API requires anyway. The ids of calls with a signature are
// long (a signature is hundreds of bytes); a client that stores or
// compares ids should not assume OpenAI's short ones. A history whose
// calls came from another provider has no signatures to send; Gemini 3
// checks signatures in the current turn only.
//
// # Responses
//
// Text parts become the message's content, thought parts its reasoning
// content (read part by part: genai's Text method logs a warning whenever
// a response holds more than one candidate or parts other than text).
// Other parts (inline data, executable code) are not carried. A thought
// signature on a text part, which Gemini returns but does not require
// back, is dropped: go-openai's message content is a plain string. Finish reasons: STOP is "stop",
// or "tool_calls" when the candidate holds function calls (Gemini says
// STOP either way); MAX_TOKENS is "length", and so is CONTINUATION (the
// answer paused, and is not continued); every refusal (SAFETY,
// RECITATION, LANGUAGE, BLOCKLIST, PROHIBITED_CONTENT, SPII, the IMAGE_
// family, OTHER) is "content_filter", as is a prompt blocked before any
// candidate; an unknown reason is passed on in lower case.
// MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL and TOO_MANY_TOOL_CALLS
// mean the model failed to produce a call the caller could run: they are
// a 502 [providers.Error] keeping the reason as its Code, so the router
// may try again or elsewhere, rather than an empty "stop".
//
// Usage: prompt tokens include cached tokens (also in
// PromptTokensDetails.CachedTokens) and server-side tool results;
// completion tokens include thinking tokens (also in
// CompletionTokensDetails.ReasoningTokens), which Gemini counts apart but
// bills as output. The response id and model version are Gemini's.
//
// # Attempts
//
// Each call takes a providers request: the go-openai request as the
// target should see it, and a [providers.Call]. Call.Header is set on the
// HTTP request after genai's own headers, replacing any of the same name
// (x-goog-api-key included, so an override may send another account's
// key), then Call.RemoveHeader is applied; both reach this request only.
//
// Call.Extra holds the override_params the OpenAI request has no field
// for. Those that name a Gemini setting are sent as that setting: top_k,
// thinking_config, safety_settings, cached_content, response_modalities,
// media_resolution and labels for chat; task_type, title and auto_truncate
// for embeddings. Keys and the fields of object values may be written in
// snake_case or Gemini's camelCase; thinking_config replaces what
// reasoning_effort chose. Any other key (prompt_version_fqn, say) is an
// [*InputError] naming it: sent on, it would fail upstream or be ignored,
// and dropped, it would hide a configuration mistake.
//
// # Errors
//
// Every failure from upstream is a [*providers.Error], translated in one
// place:
//
//   - an error object (genai.APIError, which errors.As finds in the
//     chain): the HTTP status, the status name (RESOURCE_EXHAUSTED,
//     UNAVAILABLE, INVALID_ARGUMENT, …) as Code and Type, the message,
//     and RetryAfter from the google.rpc.RetryInfo detail ("46s"), else a
//     Retry-After header. A daily quota's delay of hours is kept as it is:
//     it exceeds any deadline, and the router falls back at once.
//   - "The input token count (…) exceeds the maximum number of tokens
//     allowed (…)" is a 400 with Code [CodeContextLengthExceeded],
//     OpenAI's code for the same refusal.
//   - 504 DEADLINE_EXCEEDED is a 408 keeping its Code: Gemini's own
//     deadline passed, which is the router's timeout by another name, and
//     408 always falls back where 504 is in no default list.
//   - 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE (Gemini's overload) keep
//     their statuses.
//   - the call's ctx is done: a passed deadline is a 408 matching
//     context.DeadlineExceeded; a cancellation is context.Canceled
//     itself. A timeout of the HTTP client is a 408 too.
//   - no answer (refused, reset), a 1xx or unfollowed 3xx, or a success
//     body that does not decode (Code [CodeMalformedResponse]; genai
//     panics on some bodies of the wrong shape, and that panic is caught
//     and reported so): 502.
//
// Credentials never appear in an error, however it is printed: the API
// key, any key a header override sent, and anything shaped like a Google
// API key are replaced by "[REDACTED]" in every message and in the text
// of every error in the chain.
//
// # Streaming
//
// [Provider.ChatStream] returns when the response headers arrive. genai's
// stream is an iterator that sends its request when first asked for a
// chunk, so a goroutine runs it; Close, and cancelling ctx, end it, and
// Close returns only once it has ended. Recv returns each chunk
// translated as above (tool calls with their index; usage, cumulative in
// Gemini's chunks, on the chunk that completes the answer), then:
//
//   - io.EOF once every candidate has a finish reason (or the prompt was
//     blocked). genai ends its iterator the same way whether the server
//     finished or the connection dropped, so only the finish reasons
//     tell.
//   - a 502 with Code [CodeStreamTruncated] when the body ends any other
//     way, in the middle of an event included. Never io.EOF.
//   - a [*providers.Error] for an error object in the stream, translated
//     as above.
//   - a 502 with Code [CodeMalformedEvent] for an event that does not
//     decode.
//   - the ctx errors above once ctx is done; [providers.ErrStreamClosed]
//     after Close.
//
// # Embeddings
//
// [Provider.Embed] embeds each input string as one content, in one
// batchEmbedContents request on the Gemini API (Vertex AI's predict or
// embedContent method on Vertex). See its documentation for dimensions,
// encoding formats and usage.
package gemini
