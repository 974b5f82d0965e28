package openai

// Internal parsers, exported to the external tests for fuzzing.
var (
	MergeExtra = mergeExtra
	ScrubKeys  = scrubKeys
)
