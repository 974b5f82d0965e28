package bedrock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// benchRequest is a typical agent turn: a system prompt, a tool round
// trip in the history, two tools, sampling settings.
func benchRequest() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: testModel,
		Messages: []openai.ChatCompletionMessage{
			{Role: "system", Content: "You are a travel assistant. Answer briefly."},
			{Role: "user", Content: "What's the weather in Paris and Oslo?"},
			{Role: "assistant", Content: "Let me check.", ToolCalls: []openai.ToolCall{
				{ID: "call_1", Type: "function", Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris","units":"celsius"}`}},
				{ID: "call_2", Type: "function", Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Oslo","units":"celsius"}`}},
			}},
			{Role: "tool", ToolCallID: "call_1", Content: `{"temp":18,"sky":"clear"}`},
			{Role: "tool", ToolCallID: "call_2", Content: `{"temp":3,"sky":"snow"}`},
			{Role: "assistant", Content: "Paris is 18C and clear; Oslo is 3C with snow."},
			{Role: "user", Content: "And should I pack an umbrella for Paris tomorrow?"},
		},
		Tools: []openai.Tool{weatherTool, {Type: "function", Function: &openai.FunctionDefinition{
			Name: "get_forecast", Description: "Forecast for a city and day",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"day":{"type":"string","format":"date"}},"required":["city","day"]}`),
		}}},
		MaxTokens:   512,
		Temperature: 0.3,
	}
}

// BenchmarkRequestTranslation is the adapter's own cost per request:
// turning the OpenAI request into Converse input (the SDK's
// serialization and signing come on top).
func BenchmarkRequestTranslation(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := bed.BuildParams(&req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkTranslation is the adapter's own cost per stream chunk:
// one ConverseStream event into one go-openai chunk.
func BenchmarkChunkTranslation(b *testing.B) {
	idx := int32(0)
	tool := int32(1)
	events := map[string][]types.ConverseStreamOutput{
		"text": {&types.ConverseStreamOutputMemberContentBlockDelta{Value: types.ContentBlockDeltaEvent{
			ContentBlockIndex: &idx, Delta: &types.ContentBlockDeltaMemberText{Value: "Paris will be dry"}}}},
		"tool-input": {&types.ConverseStreamOutputMemberContentBlockDelta{Value: types.ContentBlockDeltaEvent{
			ContentBlockIndex: &tool, Delta: &types.ContentBlockDeltaMemberToolUse{Value: types.ToolUseBlockDelta{Input: ptr(`{"city":"Pa`)}}}}},
	}
	for name, evs := range events {
		b.Run(name, func(b *testing.B) {
			tr := bed.NewEventTranslator(false)
			var chunk openai.ChatCompletionStreamResponse
			start := &types.ConverseStreamOutputMemberContentBlockStart{Value: types.ContentBlockStartEvent{
				ContentBlockIndex: &tool, Start: &types.ContentBlockStartMemberToolUse{Value: types.ToolUseBlockStart{ToolUseId: ptr("t1"), Name: ptr("get_weather")}}}}
			if _, err := tr.Translate(start, &chunk); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				chunk = openai.ChatCompletionStreamResponse{}
				if ok, err := tr.Translate(evs[0], &chunk); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkChatLoopback is one whole Chat call, SDK and HTTP included,
// against a loopback server (which does not check signatures here, to
// measure the client): the bare SDK's Converse with the same one-message
// input, then the adapter, whose difference is the adapter's whole cost.
func BenchmarkChatLoopback(b *testing.B) {
	srv := newServer(b, answer("Take an umbrella."))
	srv.unsigned = true
	b.Run("sdk", func(b *testing.B) {
		cfg := aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""), HTTPClient: srv.Client()}
		c := bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
			o.Retryer = aws.NopRetryer{}
		})
		in := &bedrockruntime.ConverseInput{ModelId: aws.String(testModel), Messages: []types.Message{
			{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hi"}}},
		}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Converse(b.Context(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("adapter", func(b *testing.B) {
		p := srv.provider(b)
		req := providers.ChatRequest{Request: userRequest("Hi")}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Chat(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStreamLoopback is whole streams of 256 text events, SDK and
// HTTP included; ns/chunk is the cost per delivered chunk.
func BenchmarkStreamLoopback(b *testing.B) {
	const events = 256
	srv := newServer(b, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		ev := bedrocktest.NewEvents(w, "req-b")
		_ = ev.MessageStart()
		for range events {
			_ = ev.Text(0, "word ")
		}
		_ = ev.MessageStop("end_turn")
		_ = ev.Metadata(bedrocktest.Usage{InputTokens: 100, OutputTokens: events})
	})
	srv.unsigned = true
	p := srv.provider(b)
	req := providers.ChatRequest{Request: userRequest("Hi")}
	b.ReportAllocs()
	chunks := 0
	for b.Loop() {
		st, err := p.ChatStream(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			chunks++
		}
		_ = st.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chunks), "ns/chunk")
}
