package bedrock

import (
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	openai "github.com/sashabaranov/go-openai"
)

// BuildParams translates a request as Chat does, without sending it.
func BuildParams(r *openai.ChatCompletionRequest, extra map[string]any) error {
	_, err := buildParams(r, extra)
	return err
}

// JSONDocument is jsonDocument, for fuzzing.
var JSONDocument = jsonDocument

// EventTranslator turns stream events into chunks as a stream does,
// with no connection behind it.
type EventTranslator struct{ s stream }

// NewEventTranslator returns a translator; usage is include_usage.
func NewEventTranslator(usage bool) *EventTranslator {
	return &EventTranslator{s: stream{requestID: "req-bench", model: "m", created: 1, usage: usage}}
}

// Translate translates one event.
func (e *EventTranslator) Translate(ev types.ConverseStreamOutput, chunk *openai.ChatCompletionStreamResponse) (bool, error) {
	return e.s.translate(ev, chunk)
}
