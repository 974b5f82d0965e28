package gemini_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	gem "github.com/llmroute/llmroute/providers/gemini"
)

// benchRequest is a typical agent turn: a system prompt, a tool, a
// conversation with a tool call and its result.
func benchRequest() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:       "gemini-2.5-flash",
		Temperature: 0.2,
		MaxTokens:   1024,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "You are a travel assistant. Answer briefly."},
			{Role: openai.ChatMessageRoleUser, Content: "What is the weather in Paris tomorrow?"},
			{Role: openai.ChatMessageRoleAssistant, ToolCalls: []openai.ToolCall{{
				ID:       gem.EncodeToolCallID("resp-1", 0, 0, "get_weather", "", make([]byte, 256)),
				Type:     openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris","day":"tomorrow"}`},
			}}},
			{Role: openai.ChatMessageRoleTool, ToolCallID: gem.EncodeToolCallID("resp-1", 0, 0, "get_weather", "", make([]byte, 256)), Content: `{"temperature_c":18,"sky":"cloudy"}`},
			{Role: openai.ChatMessageRoleUser, Content: "And should I take an umbrella?"},
		},
		Tools: []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: "get_weather", Description: "Weather forecast for a city",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"day":{"type":"string"}},"required":["city"]}`),
		}}},
	}
}

// BenchmarkTranslateRequest is this package's cost of translating one
// request into genai's types (genai then encodes it).
func BenchmarkTranslateRequest(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := gem.BuildChat(&req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranslateResponse is the cost of translating one text answer.
func BenchmarkTranslateResponse(b *testing.B) {
	resp := &genai.GenerateContentResponse{
		Candidates: []*genai.Candidate{{
			Content:      &genai.Content{Role: "model", Parts: []*genai.Part{{Text: "Yes: showers are likely in the afternoon."}}},
			FinishReason: genai.FinishReasonStop,
		}},
		UsageMetadata: &genai.GenerateContentResponseUsageMetadata{PromptTokenCount: 120, CandidatesTokenCount: 12, ThoughtsTokenCount: 40},
		ModelVersion:  "gemini-2.5-flash", ResponseID: "resp-2",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gem.ChatResponse(resp, "gemini-2.5-flash"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranslateResponseToolCall is the cost of translating a
// function call with a thought signature into a tool call and its id.
func BenchmarkTranslateResponseToolCall(b *testing.B) {
	resp := &genai.GenerateContentResponse{
		Candidates: []*genai.Candidate{{
			Content: &genai.Content{Role: "model", Parts: []*genai.Part{{
				FunctionCall:     &genai.FunctionCall{Name: "get_weather", Args: map[string]any{"city": "Paris", "day": "tomorrow"}},
				ThoughtSignature: make([]byte, 256),
			}}},
			FinishReason: genai.FinishReasonStop,
		}},
		ResponseID: "resp-1",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gem.ChatResponse(resp, "gemini-3-pro"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranslateStreamChunk is the cost of translating one text chunk
// of a stream.
func BenchmarkTranslateStreamChunk(b *testing.B) {
	chunk := &genai.GenerateContentResponse{
		Candidates:   []*genai.Candidate{{Content: &genai.Content{Role: "model", Parts: []*genai.Part{{Text: "showers are likely "}}}}},
		ModelVersion: "gemini-2.5-flash", ResponseID: "resp-3",
	}
	conv := gem.NewChunkConv("gemini-2.5-flash")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := conv.Chunk(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatLoopback is one whole Chat call against a loopback server:
// this package, genai's encoding and decoding, and the HTTP round trip.
func BenchmarkChatLoopback(b *testing.B) {
	srv := newServer(b, nil)
	p := newProvider(b, srv)
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Chat(context.Background(), providersRequest(req)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamChunkLoopback is the cost per chunk of one long stream
// against a loopback server: the server's write, genai's event decoding,
// the hand-over from its goroutine and this package's translation.
func BenchmarkStreamChunkLoopback(b *testing.B) {
	event := []byte(`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"showers are likely "}]},"index":0}],"modelVersion":"gemini-2.5-flash","responseId":"resp-3"}` + "\r\n\r\n")
	end := []byte(`data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}]}` + "\r\n\r\n")
	n := 0
	srv := newServer(b, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range n {
			_, _ = w.Write(event)
		}
		_, _ = w.Write(end)
	})
	p := providerFor(b, srv.URL)
	n = b.N
	b.ReportAllocs()
	b.ResetTimer()
	s, err := p.ChatStream(context.Background(), userSays("gemini-2.5-flash", "Hi"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; ; i++ {
		if _, err := s.Recv(); err != nil {
			if i != n+1 {
				b.Fatal(fmt.Sprint("stream ended after ", i, " chunks: ", err))
			}
			break
		}
	}
}
