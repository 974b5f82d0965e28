package otel

import "go.opentelemetry.io/otel/attribute"

// SemConvVersion is the version of the OpenTelemetry semantic conventions
// whose GenAI names this package emits. The Go semconv packages carry no
// GenAI names after this version, so the names are defined here.
const SemConvVersion = "1.41.0"

// Attribute keys of the OpenTelemetry GenAI semantic conventions (and the
// general error.type and server.* keys), as this package sets them on
// spans and metrics.
const (
	GenAIOperationNameKey              attribute.Key = "gen_ai.operation.name"
	GenAIProviderNameKey               attribute.Key = "gen_ai.provider.name"
	GenAIRequestModelKey               attribute.Key = "gen_ai.request.model"
	GenAIRequestTemperatureKey         attribute.Key = "gen_ai.request.temperature"
	GenAIRequestTopPKey                attribute.Key = "gen_ai.request.top_p"
	GenAIRequestTopKKey                attribute.Key = "gen_ai.request.top_k"
	GenAIRequestMaxTokensKey           attribute.Key = "gen_ai.request.max_tokens"
	GenAIRequestStopSequencesKey       attribute.Key = "gen_ai.request.stop_sequences"
	GenAIRequestFrequencyPenaltyKey    attribute.Key = "gen_ai.request.frequency_penalty"
	GenAIRequestPresencePenaltyKey     attribute.Key = "gen_ai.request.presence_penalty"
	GenAIRequestSeedKey                attribute.Key = "gen_ai.request.seed"
	GenAIRequestChoiceCountKey         attribute.Key = "gen_ai.request.choice.count"
	GenAIRequestEncodingFormatsKey     attribute.Key = "gen_ai.request.encoding_formats"
	GenAIRequestStreamKey              attribute.Key = "gen_ai.request.stream"
	GenAIOutputTypeKey                 attribute.Key = "gen_ai.output.type"
	GenAIEmbeddingsDimensionCountKey   attribute.Key = "gen_ai.embeddings.dimension.count"
	GenAIResponseModelKey              attribute.Key = "gen_ai.response.model"
	GenAIResponseIDKey                 attribute.Key = "gen_ai.response.id"
	GenAIResponseFinishReasonsKey      attribute.Key = "gen_ai.response.finish_reasons"
	GenAIResponseTimeToFirstChunkKey   attribute.Key = "gen_ai.response.time_to_first_chunk"
	GenAIUsageInputTokensKey           attribute.Key = "gen_ai.usage.input_tokens"
	GenAIUsageOutputTokensKey          attribute.Key = "gen_ai.usage.output_tokens"
	GenAIUsageCacheReadInputTokensKey  attribute.Key = "gen_ai.usage.cache_read.input_tokens"
	GenAIUsageReasoningOutputTokensKey attribute.Key = "gen_ai.usage.reasoning.output_tokens"
	GenAITokenTypeKey                  attribute.Key = "gen_ai.token.type"
	GenAIInputMessagesKey              attribute.Key = "gen_ai.input.messages"
	ErrorTypeKey                       attribute.Key = "error.type"
	ServerAddressKey                   attribute.Key = "server.address"
	ServerPortKey                      attribute.Key = "server.port"
)

// Attribute keys of llmroute's own, for what the GenAI conventions have no
// name for: how the call was routed.
const (
	// VirtualModelKey is the resolved virtual model, "group/model".
	VirtualModelKey attribute.Key = "llmroute.virtual_model"
	// TargetKey is an attempt's target, "account/model".
	TargetKey attribute.Key = "llmroute.target"
	// TryKey is the 1-based try on the attempt's target.
	TryKey attribute.Key = "llmroute.try"
	// ReasonKey is why the target was tried: picked, sticky, probe,
	// fallback or demoted.
	ReasonKey attribute.Key = "llmroute.reason"
	// CauseKey refines the reason, such as failures or sla-ttft; absent
	// when there is none.
	CauseKey attribute.Key = "llmroute.cause"
	// ClassKey is the attempt's outcome: ok, retry, fallback, stop,
	// canceled, interrupted or panic.
	ClassKey attribute.Key = "llmroute.class"
	// WaitKey is the back-off slept before the attempt, in seconds;
	// absent when there was none.
	WaitKey attribute.Key = "llmroute.wait"
	// ResolvedKey is the target that served the call, "account/model";
	// absent when none did.
	ResolvedKey attribute.Key = "llmroute.resolved"
	// AttemptsKey, RetriesKey and FallbacksKey count a call's attempts,
	// the retries among them and the fallbacks among them.
	AttemptsKey  attribute.Key = "llmroute.attempts"
	RetriesKey   attribute.Key = "llmroute.retries"
	FallbacksKey attribute.Key = "llmroute.fallbacks"
	// RestartsKey counts a stream's opt-in restarts on another target.
	RestartsKey attribute.Key = "llmroute.restarts"
	// StickyKey is set when a session pin chose the call's first target.
	StickyKey attribute.Key = "llmroute.sticky"
	// HealthKey is a target's health change: demoted, probed or
	// recovered.
	HealthKey attribute.Key = "llmroute.health"
)

// Values of gen_ai.operation.name and gen_ai.token.type.
const (
	OperationChat           = "chat"
	OperationTextCompletion = "text_completion"
	OperationEmbeddings     = "embeddings"

	TokenTypeInput  = "input"
	TokenTypeOutput = "output"
)

// Metric names. The gen_ai.client.* instruments are the conventions'
// (recorded per attempt, with their advised bucket boundaries); the
// llmroute.* ones are recorded per call or per event.
const (
	// MetricOperationDuration: each attempt's duration, s.
	MetricOperationDuration = "gen_ai.client.operation.duration"
	// MetricTokenUsage: each attempt's input and output tokens, {token}.
	MetricTokenUsage = "gen_ai.client.token.usage"
	// MetricTimeToFirstChunk: a streaming attempt's time to its first
	// content chunk, s.
	MetricTimeToFirstChunk = "gen_ai.client.operation.time_to_first_chunk"
	// MetricTimePerOutputChunk: the time between two chunks of a stream
	// as they are delivered, s.
	MetricTimePerOutputChunk = "gen_ai.client.operation.time_per_output_chunk"

	// MetricCallDuration: each call's duration, to its return or its
	// stream's end, s.
	MetricCallDuration = "llmroute.call.duration"
	// MetricCallAttempts: the attempts each call made, {attempt}.
	MetricCallAttempts = "llmroute.call.attempts"
	// MetricRetries and MetricFallbacks count the retries and fallbacks
	// of all calls.
	MetricRetries   = "llmroute.call.retries"
	MetricFallbacks = "llmroute.call.fallbacks"
	// MetricStickyHits counts calls whose first target a session pin
	// chose.
	MetricStickyHits = "llmroute.sticky.hits"
	// MetricStreamInterruptions counts streams that broke after their
	// first content chunk; MetricStreamRestarts the opt-in restarts that
	// followed.
	MetricStreamInterruptions = "llmroute.stream.interruptions"
	MetricStreamRestarts      = "llmroute.stream.restarts"
	// MetricHealthChanges counts targets demoted, probed and recovered.
	MetricHealthChanges = "llmroute.health.changes"
	// MetricStoreErrors counts sticky-session Store failures.
	MetricStoreErrors = "llmroute.store.errors"
	// MetricConfigWarnings counts configuration warnings.
	MetricConfigWarnings = "llmroute.config.warnings"
)

// The advised explicit bucket boundaries of the conventions.
var (
	// durationBounds are for the gen_ai.client.operation.* histograms.
	durationBounds = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	// tokenBounds are for gen_ai.client.token.usage.
	tokenBounds = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	// callBounds go on doubling past 81.92 s, since a routed call that
	// retried and fell back, or a long stream, easily outlasts one
	// attempt: up to about 11 minutes.
	callBounds = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 163.84, 327.68, 655.36}
	// attemptBounds count attempts per call.
	attemptBounds = []float64{1, 2, 3, 4, 5, 6, 8, 10, 16}
)
