package bedrock_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// respond is a handler that answers with a raw Converse JSON body.
func respond(body string) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", "req-42")
		_, _ = w.Write([]byte(body))
	}
}

// TestResponseTranslation checks what Chat makes of Converse answers.
func TestResponseTranslation(t *testing.T) {
	const usage = `"usage":{"inputTokens":10,"outputTokens":4,"totalTokens":14}`
	tests := []struct {
		name  string
		body  string
		want  openai.ChatCompletionMessage
		fr    openai.FinishReason
		usage openai.Usage
	}{
		{
			name:  "text",
			body:  `{"output":{"message":{"role":"assistant","content":[{"text":"Hello"},{"text":" there"}]}},"stopReason":"end_turn",` + usage + `}`,
			want:  openai.ChatCompletionMessage{Role: "assistant", Content: "Hello there"},
			fr:    openai.FinishReasonStop,
			usage: openai.Usage{PromptTokens: 10, CompletionTokens: 4, TotalTokens: 14},
		},
		{
			name: "reasoning, text and tool calls in order, with exact numbers",
			body: `{"output":{"message":{"role":"assistant","content":[
				{"reasoningContent":{"reasoningText":{"text":"Need weather.","signature":"sig"}}},
				{"text":"Checking."},
				{"toolUse":{"toolUseId":"tu_1","name":"get_weather","input":{"city":"Paris","id":1152921504606846977}}},
				{"toolUse":{"toolUseId":"tu_2","name":"now","input":{}}}]}},"stopReason":"tool_use",` + usage + `}`,
			want: openai.ChatCompletionMessage{Role: "assistant", Content: "Checking.", ReasoningContent: "Need weather.", ToolCalls: []openai.ToolCall{
				{ID: "tu_1", Type: "function", Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris","id":1152921504606846977}`}},
				{ID: "tu_2", Type: "function", Function: openai.FunctionCall{Name: "now", Arguments: `{}`}},
			}},
			fr:    openai.FinishReasonToolCalls,
			usage: openai.Usage{PromptTokens: 10, CompletionTokens: 4, TotalTokens: 14},
		},
		{
			name: "prompt cache reads and writes count as prompt tokens",
			body: `{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn",
				"usage":{"inputTokens":10,"outputTokens":4,"totalTokens":1514,"cacheReadInputTokens":1000,"cacheWriteInputTokens":500}}`,
			want: openai.ChatCompletionMessage{Role: "assistant", Content: "Hi"},
			fr:   openai.FinishReasonStop,
			usage: openai.Usage{PromptTokens: 1510, CompletionTokens: 4, TotalTokens: 1514,
				PromptTokensDetails: &openai.PromptTokensDetails{CachedTokens: 1000}},
		},
		{
			name:  "blocks with no place in an OpenAI message are left out",
			body:  `{"output":{"message":{"role":"assistant","content":[{"text":"A"},{"image":{"format":"png","source":{"bytes":"AAAA"}}},{"text":"B"}]}},"stopReason":"end_turn",` + usage + `}`,
			want:  openai.ChatCompletionMessage{Role: "assistant", Content: "AB"},
			fr:    openai.FinishReasonStop,
			usage: openai.Usage{PromptTokens: 10, CompletionTokens: 4, TotalTokens: 14},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, respond(tt.body))
			resp, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			want := openai.ChatCompletionResponse{
				ID: "req-42", Object: "chat.completion", Model: testModel, Usage: tt.usage,
				Choices: []openai.ChatCompletionChoice{{Index: 0, Message: tt.want, FinishReason: tt.fr}},
			}
			if diff := cmp.Diff(resp, want, cmpopts.IgnoreFields(openai.ChatCompletionResponse{}, "Created"), cmpopts.IgnoreUnexported(openai.ChatCompletionResponse{})); diff != "" {
				t.Errorf("response (-got +want):\n%s", diff)
			}
			if resp.Created == 0 {
				t.Error("Created is 0; want the time of the answer")
			}
		})
	}
}

// TestFinishReasons maps every Bedrock stop reason, in Chat and in a
// stream.
func TestFinishReasons(t *testing.T) {
	tests := []struct {
		stop string
		want openai.FinishReason
		code string // an error with this code instead
	}{
		{"end_turn", openai.FinishReasonStop, ""},
		{"stop_sequence", openai.FinishReasonStop, ""},
		{"max_tokens", openai.FinishReasonLength, ""},
		{"model_context_window_exceeded", openai.FinishReasonLength, ""},
		{"tool_use", openai.FinishReasonToolCalls, ""},
		{"guardrail_intervened", openai.FinishReasonContentFilter, ""},
		{"content_filtered", openai.FinishReasonContentFilter, ""},
		{"some_future_reason", "some_future_reason", ""},
		{"malformed_model_output", "", "malformed_model_output"},
		{"malformed_tool_use", "", "malformed_tool_use"},
	}
	for _, tt := range tests {
		t.Run(tt.stop, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
				if !req.Stream {
					bedrocktest.WriteJSON(w, "req-1", bedrocktest.Answer(tt.stop, bedrocktest.Usage{InputTokens: 1, OutputTokens: 1}, bedrocktest.Text("x")))
					return
				}
				ev := bedrocktest.NewEvents(w, "req-2")
				_ = ev.MessageStart()
				_ = ev.Text(0, "x")
				_ = ev.MessageStop(tt.stop)
				_ = ev.Metadata(bedrocktest.Usage{InputTokens: 1, OutputTokens: 1})
			})
			p := srv.provider(t)
			resp, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			st, serr := p.ChatStream(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
			if serr != nil {
				t.Fatalf("ChatStream: %v", serr)
			}
			t.Cleanup(func() { _ = st.Close() })
			chunks, end := drain(t, st)
			var streamed []openai.FinishReason
			for _, c := range chunks {
				for _, ch := range c.Choices {
					if ch.FinishReason != "" {
						streamed = append(streamed, ch.FinishReason)
					}
				}
			}
			if tt.code != "" {
				for what, err := range map[string]error{"Chat": err, "stream": end} {
					pe := asProviderError(t, err)
					if pe.Status != http.StatusBadGateway || pe.Code != tt.code {
						t.Errorf("%s error %d %q (%v); want 502 %q", what, pe.Status, pe.Code, err, tt.code)
					}
				}
				if len(streamed) != 0 {
					t.Errorf("stream finish reasons %v; want none before the error", streamed)
				}
				return
			}
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if got := resp.Choices[0].FinishReason; got != tt.want {
				t.Errorf("Chat finish reason %q; want %q", got, tt.want)
			}
			if end != io.EOF {
				t.Errorf("stream ended with %v; want io.EOF", end)
			}
			if diff := cmp.Diff(streamed, []openai.FinishReason{tt.want}); diff != "" {
				t.Errorf("stream finish reasons (-got +want):\n%s", diff)
			}
		})
	}
}

// TestUndecodableAnswer: a success status with a body that is not a
// Converse answer is a 502.
func TestUndecodableAnswer(t *testing.T) {
	srv := newServer(t, respond(`{"output":{"message":`))
	_, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
	if pe := asProviderError(t, err); pe.Status != providers.StatusTransport {
		t.Errorf("status %d (%v); want %d", pe.Status, err, providers.StatusTransport)
	}
}
