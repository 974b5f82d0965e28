package openai

// Internal parsers, exported to the external tests for fuzzing.
var (
	MergeExtra        = mergeExtra
	ParseRetryAfterMS = parseRetryAfterMS
	ScrubKeys         = scrubKeys
)
