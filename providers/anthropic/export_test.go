package anthropic

import (
	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	goopenai "github.com/sashabaranov/go-openai"
)

// Internals exported to the external tests, for benchmarks and fuzzing.

// BuildParams is the request translation.
var BuildParams = buildParams

// EventTranslator turns stream events into chunks, as a stream does.
type EventTranslator struct{ s stream }

// Translate returns the chunks ev stands for; they are valid until the
// next call.
func (t *EventTranslator) Translate(ev *sdk.MessageStreamEventUnion) ([]goopenai.ChatCompletionStreamResponse, error) {
	t.s.pending, t.s.next = t.s.pending[:0], 0
	err := t.s.event(ev)
	return t.s.pending, err
}

// ScrubKeys is the key-shaped redaction.
var ScrubKeys = scrubKeys
