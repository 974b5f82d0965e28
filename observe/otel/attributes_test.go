package otel_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"

	routeotel "github.com/llmroute/llmroute/observe/otel"
)

// TestNamesFollowSemConv checks the names this package defines against
// the Go semantic-conventions package of the version it follows.
func TestNamesFollowSemConv(t *testing.T) {
	if got, want := "https://opentelemetry.io/schemas/"+routeotel.SemConvVersion, semconv.SchemaURL; got != want {
		t.Errorf("schema: got %q, want %q", got, want)
	}
	for _, tt := range []struct{ got, want attribute.Key }{
		{routeotel.GenAIOperationNameKey, semconv.GenAIOperationNameKey},
		{routeotel.GenAIProviderNameKey, semconv.GenAIProviderNameKey},
		{routeotel.GenAIRequestModelKey, semconv.GenAIRequestModelKey},
		{routeotel.GenAIRequestTemperatureKey, semconv.GenAIRequestTemperatureKey},
		{routeotel.GenAIRequestTopPKey, semconv.GenAIRequestTopPKey},
		{routeotel.GenAIRequestTopKKey, semconv.GenAIRequestTopKKey},
		{routeotel.GenAIRequestMaxTokensKey, semconv.GenAIRequestMaxTokensKey},
		{routeotel.GenAIRequestStopSequencesKey, semconv.GenAIRequestStopSequencesKey},
		{routeotel.GenAIRequestFrequencyPenaltyKey, semconv.GenAIRequestFrequencyPenaltyKey},
		{routeotel.GenAIRequestPresencePenaltyKey, semconv.GenAIRequestPresencePenaltyKey},
		{routeotel.GenAIRequestSeedKey, semconv.GenAIRequestSeedKey},
		{routeotel.GenAIRequestChoiceCountKey, semconv.GenAIRequestChoiceCountKey},
		{routeotel.GenAIRequestEncodingFormatsKey, semconv.GenAIRequestEncodingFormatsKey},
		{routeotel.GenAIRequestStreamKey, semconv.GenAIRequestStreamKey},
		{routeotel.GenAIOutputTypeKey, semconv.GenAIOutputTypeKey},
		{routeotel.GenAIEmbeddingsDimensionCountKey, semconv.GenAIEmbeddingsDimensionCountKey},
		{routeotel.GenAIResponseModelKey, semconv.GenAIResponseModelKey},
		{routeotel.GenAIResponseIDKey, semconv.GenAIResponseIDKey},
		{routeotel.GenAIResponseFinishReasonsKey, semconv.GenAIResponseFinishReasonsKey},
		{routeotel.GenAIResponseTimeToFirstChunkKey, semconv.GenAIResponseTimeToFirstChunkKey},
		{routeotel.GenAIUsageInputTokensKey, semconv.GenAIUsageInputTokensKey},
		{routeotel.GenAIUsageOutputTokensKey, semconv.GenAIUsageOutputTokensKey},
		{routeotel.GenAIUsageCacheReadInputTokensKey, semconv.GenAIUsageCacheReadInputTokensKey},
		{routeotel.GenAIUsageReasoningOutputTokensKey, semconv.GenAIUsageReasoningOutputTokensKey},
		{routeotel.GenAITokenTypeKey, semconv.GenAITokenTypeKey},
		{routeotel.GenAIInputMessagesKey, semconv.GenAIInputMessagesKey},
		{routeotel.ErrorTypeKey, semconv.ErrorTypeKey},
		{routeotel.ServerAddressKey, semconv.ServerAddressKey},
		{routeotel.ServerPortKey, semconv.ServerPortKey},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	values := []struct{ got, want string }{
		{routeotel.OperationChat, semconv.GenAIOperationNameChat.Value.AsString()},
		{routeotel.OperationTextCompletion, semconv.GenAIOperationNameTextCompletion.Value.AsString()},
		{routeotel.OperationEmbeddings, semconv.GenAIOperationNameEmbeddings.Value.AsString()},
		{routeotel.TokenTypeInput, semconv.GenAITokenTypeInput.Value.AsString()},
		{routeotel.TokenTypeOutput, semconv.GenAITokenTypeOutput.Value.AsString()},
		{routeotel.ErrorTypeOther, semconv.ErrorTypeOther.Value.AsString()},
		{routeotel.MetricOperationDuration, genaiconv.ClientOperationDuration{}.Name()},
		{routeotel.MetricTokenUsage, genaiconv.ClientTokenUsage{}.Name()},
		{routeotel.MetricTimeToFirstChunk, genaiconv.ClientOperationTimeToFirstChunk{}.Name()},
		{routeotel.MetricTimePerOutputChunk, genaiconv.ClientOperationTimePerOutputChunk{}.Name()},
	}
	for _, v := range values {
		if diff := cmp.Diff(v.got, v.want); diff != "" {
			t.Errorf("(-got +want):\n%s", diff)
		}
	}
}
