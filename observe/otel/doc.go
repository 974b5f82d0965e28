// Package otel records a routing Client's calls as OpenTelemetry traces
// and metrics, after the GenAI semantic conventions v1.41.0
// ([SemConvVersion]). It is a nested module,
// github.com/llmroute/llmroute/observe/otel, so that only services that
// use it download OpenTelemetry.
//
//	import routeotel "github.com/llmroute/llmroute/observe/otel"
//
//	c, err := routing.New(
//		routing.WithProvider("openai-main", p),
//		routing.WithManifest(m),
//		routing.WithObserver(routeotel.New(
//			routeotel.WithTracerProvider(tp), // default: otel.GetTracerProvider()
//			routeotel.WithMeterProvider(mp),  // default: otel.GetMeterProvider()
//		)),
//	)
//
// # Spans
//
// Each call is one INTERNAL span named "{operation} {virtual model}", such
// as "chat booking-app/gpt-prod", started before the model name is
// resolved (named after the name as called until then) and ended when the
// call returns or its stream ends (io.EOF, an error, Close). Its status is
// what the caller saw: unset when an attempt served the call, even after
// failed ones; Error with error.type when the call failed. It carries
// gen_ai.operation.name, gen_ai.request.model (the name as called),
// gen_ai.response.model, and llmroute.virtual_model, llmroute.resolved,
// llmroute.attempts, llmroute.retries, llmroute.fallbacks,
// llmroute.restarts (streams) and llmroute.sticky. It carries no
// gen_ai.usage.*: the serving attempt's span has them, and backends that
// add up token usage across spans would count them twice.
//
// Each attempt is a CLIENT child of the call span named "{operation}
// {target model}", such as "chat gpt-4o", with the conventions' inference
// attributes: gen_ai.operation.name ("chat", "text_completion",
// "embeddings"), gen_ai.provider.name, gen_ai.request.model, server.address
// and server.port, the request parameters as sent after the target's
// overrides (temperature, top_p, top_k, max_tokens, stop_sequences,
// frequency and presence penalties, seed, choice.count, output.type;
// encoding_formats and embeddings.dimension.count for embeddings),
// gen_ai.request.stream, and what came back: gen_ai.response.id,
// gen_ai.response.model, gen_ai.response.finish_reasons,
// gen_ai.usage.input_tokens, output_tokens, cache_read.input_tokens and
// reasoning.output_tokens, gen_ai.response.time_to_first_chunk (streams).
// llmroute's own say how the attempt came about: llmroute.virtual_model,
// llmroute.target ("account/model"), llmroute.try, llmroute.reason
// (picked, sticky, probe, fallback, demoted), llmroute.cause,
// llmroute.wait (the back-off slept before it, in seconds) and
// llmroute.class (ok, retry, fallback, stop, canceled, interrupted, panic).
// A failed attempt has status Error and error.type.
//
// The attempt's span is in the context handed to the provider, so the
// spans of HTTP instrumentation beneath it (otelhttp on the provider's
// HTTP client) are its children, and a propagator sends the attempt's
// trace context upstream.
//
// gen_ai.provider.name is what the provider says of itself
// (providers.Describer). A provider that does not say, such as a user's
// own, is named by its account name (the part of the target before "/"),
// the best knowledge there is of which backend it is.
//
// Spans are timed by the SDK's clock, like every other span of the trace
// (an HTTP child span must fit inside its attempt's); metrics use the
// durations the Client measured, which are the same under the Client's
// default clock and the virtual ones under a simulation's.
//
// # error.type
//
// error.type follows the conventions: the provider's error code when it
// sent one (such as "rate_limit_exceeded", "context_length_exceeded",
// "overloaded_error"), or one of the shared stream codes
// ("stream_truncated", "malformed_event", "ttft_timeout",
// "stream_idle_timeout"); else "timeout" for a 408 or a passed deadline;
// else the HTTP status as a string ("500", "502" for a transport
// failure); "canceled" when the caller cancelled or closed a stream
// before its end; "invalid_request" when the request could not be sent as
// written (nothing was sent); "panic" when the provider panicked;
// "_OTHER" otherwise. A call that failed before any attempt has
// "unknown_model", "forbidden", "unsupported_operation",
// "no_eligible_target" or "invalid_request"; one that failed after
// attempts has its last attempt's type; a stream interrupted after its
// first chunk has the interruption's.
//
// # Metrics
//
// Per attempt, after the conventions and with their advised bucket
// boundaries: gen_ai.client.operation.duration (s, with error.type on
// failures), gen_ai.client.token.usage ({token}, by gen_ai.token.type;
// a count of 0, which is what a provider that reports no usage leaves, is
// not recorded), and for streams
// gen_ai.client.operation.time_to_first_chunk and
// gen_ai.client.operation.time_per_output_chunk (s). Their attributes are
// gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
// server.address, server.port and gen_ai.response.model; the per-chunk
// metric lacks gen_ai.response.model, which is not known when the chunks
// are counted, and costs no allocation per chunk.
//
// The time to first chunk is the Client's own measure: from the start of
// the attempt to its first content chunk (the one that commits the
// stream). The time per output chunk is measured between the chunks as
// they are delivered to the caller, so a caller slow to call Recv
// lengthens it.
//
// Per call and per event, in the llmroute namespace: llmroute.call.duration
// (s, buckets doubling on to about 11 minutes, since a call that retried
// and fell back outlasts any one attempt), llmroute.call.attempts,
// llmroute.call.retries, llmroute.call.fallbacks, llmroute.sticky.hits,
// llmroute.stream.interruptions, llmroute.stream.restarts (by
// gen_ai.operation.name and llmroute.virtual_model), and from the Client's
// events llmroute.health.changes (by llmroute.target and llmroute.health:
// demoted, probed, recovered), llmroute.store.errors and
// llmroute.config.warnings. Tokens are counted per attempt only, never
// again per call.
//
// # Content
//
// Prompts are recorded only with WithContent(true): as the conventions'
// opt-in gen_ai.input.messages, a JSON list of messages with typed parts
// (text, tool calls and their responses, images as uri or blob parts).
// Completions are not recorded: what an attempt answered reaches an
// Observer as its response id, model, finish reasons and usage, not its
// text.
//
// API keys never reach a span or a metric: nothing here reads the
// provider's configuration or the request headers, and the errors whose
// text becomes a span's status description are the providers', which
// redact credentials.
//
// # Versions
//
// The GenAI conventions are still in development. This package emits the
// v1.41.0 names; when they are renamed, the new ones will be opt-in
// through OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental, as the
// conventions' transition plan asks, before they become the default.
package otel
