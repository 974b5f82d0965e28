package gemini_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// schema is a caller's JSON schema with keywords outside genai's OpenAPI
// subset, which must reach Gemini exactly as given.
const schema = `{"type":"object","properties":{"city":{"type":"string","minLength":1},` +
	`"unit":{"$ref":"#/$defs/unit"}},"required":["city"],"additionalProperties":false,` +
	`"$defs":{"unit":{"enum":["C","F"]}}}`

func decoded(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func user(text string) openai.ChatCompletionMessage {
	return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: text}
}

// TestChatRequestOnTheWire checks the generateContent body Gemini
// receives for each part of an OpenAI request.
func TestChatRequestOnTheWire(t *testing.T) {
	weather := openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
		Name: "get_weather", Description: "Weather in a city", Parameters: json.RawMessage(schema),
	}}
	seed := 7
	tests := []struct {
		name string
		req  openai.ChatCompletionRequest
		want map[string]any // top-level body fields compared; others ignored
	}{{
		name: "system and developer messages become the system instruction",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "Be brief."},
			{Role: openai.ChatMessageRoleDeveloper, MultiContent: []openai.ChatMessagePart{{Type: openai.ChatMessagePartTypeText, Text: "Answer in French."}}},
			user("Hi"),
		}},
		want: map[string]any{
			"contents":          []any{obj{"role": "user", "parts": []any{obj{"text": "Hi"}}}},
			"systemInstruction": obj{"role": "user", "parts": []any{obj{"text": "Be brief."}, obj{"text": "Answer in French."}}},
		},
	}, {
		name: "assistant turns are model turns",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{
			user("Hi"), {Role: openai.ChatMessageRoleAssistant, Content: "Hello!"}, user("Bye"),
		}},
		want: map[string]any{"contents": []any{
			obj{"role": "user", "parts": []any{obj{"text": "Hi"}}},
			obj{"role": "model", "parts": []any{obj{"text": "Hello!"}}},
			obj{"role": "user", "parts": []any{obj{"text": "Bye"}}},
		}},
	}, {
		name: "sampling and length",
		req: openai.ChatCompletionRequest{
			Messages: []openai.ChatCompletionMessage{user("Hi")}, Temperature: 0.25, TopP: 0.5, MaxTokens: 512,
			Stop: []string{"END"}, Seed: &seed, PresencePenalty: 0.125, FrequencyPenalty: -0.5, N: 2,
		},
		want: map[string]any{"generationConfig": obj{
			"temperature": 0.25, "topP": 0.5, "maxOutputTokens": 512.0, "stopSequences": []any{"END"},
			"seed": 7.0, "presencePenalty": 0.125, "frequencyPenalty": -0.5, "candidateCount": 2.0,
		}},
	}, {
		name: "max_completion_tokens wins over max_tokens",
		req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, MaxTokens: 10, MaxCompletionTokens: 20},
		want: map[string]any{"generationConfig": obj{"maxOutputTokens": 20.0}},
	}, {
		name: "JSON mode",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")},
			ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}},
		want: map[string]any{"generationConfig": obj{"responseMimeType": "application/json"}},
	}, {
		name: "structured output passes the schema as given",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")},
			ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "w", Schema: json.RawMessage(schema), Strict: true}}},
		want: map[string]any{"generationConfig": obj{"responseMimeType": "application/json", "responseJsonSchema": decoded(t, schema)}},
	}, {
		name: "tools pass the caller's JSON schema as given, auto choice",
		req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, Tools: []openai.Tool{weather}, ToolChoice: "auto"},
		want: map[string]any{
			"tools": []any{obj{"functionDeclarations": []any{obj{
				"name": "get_weather", "description": "Weather in a city", "parametersJsonSchema": decoded(t, schema),
			}}}},
			"toolConfig": obj{"functionCallingConfig": obj{"mode": "AUTO"}},
		},
	}, {
		name: "tool_choice none",
		req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, Tools: []openai.Tool{weather}, ToolChoice: "none"},
		want: map[string]any{"toolConfig": obj{"functionCallingConfig": obj{"mode": "NONE"}}},
	}, {
		name: "tool_choice required is ANY",
		req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, Tools: []openai.Tool{weather}, ToolChoice: "required"},
		want: map[string]any{"toolConfig": obj{"functionCallingConfig": obj{"mode": "ANY"}}},
	}, {
		name: "a named tool_choice is ANY with that function allowed",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, Tools: []openai.Tool{weather},
			ToolChoice: openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: "get_weather"}}},
		want: map[string]any{"toolConfig": obj{"functionCallingConfig": obj{"mode": "ANY", "allowedFunctionNames": []any{"get_weather"}}}},
	}, {
		name: "a named tool_choice decoded from JSON",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, Tools: []openai.Tool{weather},
			ToolChoice: map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}},
		want: map[string]any{"toolConfig": obj{"functionCallingConfig": obj{"mode": "ANY", "allowedFunctionNames": []any{"get_weather"}}}},
	}, {
		name: "images: data URLs inline, gs:// and Files API URIs by reference",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeText, Text: "Compare"},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "data:image/png;base64,iVBORw0KGgo="}},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "gs://bucket/cat.jpg"}},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://generativelanguage.googleapis.com/v1beta/files/abc123"}},
		}}}},
		want: map[string]any{"contents": []any{obj{"role": "user", "parts": []any{
			obj{"text": "Compare"},
			obj{"inlineData": obj{"mimeType": "image/png", "data": "iVBORw0KGgo="}},
			obj{"fileData": obj{"fileUri": "gs://bucket/cat.jpg", "mimeType": "image/jpeg"}},
			obj{"fileData": obj{"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc123"}},
		}}}},
	}, {
		name: "reasoning_effort is the thinking level",
		req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{user("Hi")}, ReasoningEffort: "high"},
		want: map[string]any{"generationConfig": obj{"thinkingConfig": obj{"thinkingLevel": "HIGH"}}},
	}, {
		name: "tool results: names looked up, one content per turn, text wrapped, objects kept",
		req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{
			user("Weather in Paris and Rome?"),
			{Role: openai.ChatMessageRoleAssistant, ToolCalls: []openai.ToolCall{
				{ID: "call_paris", Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}},
				{ID: "call_rome", Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: "get_time", Arguments: `{"city":"Rome","big":12345678901234567890}`}},
			}},
			{Role: openai.ChatMessageRoleTool, ToolCallID: "call_paris", Content: "22C and sunny"},
			{Role: openai.ChatMessageRoleTool, ToolCallID: "call_rome", Content: `{"time":"14:00"}`},
			user("Thanks"),
		}},
		want: map[string]any{"contents": []any{
			obj{"role": "user", "parts": []any{obj{"text": "Weather in Paris and Rome?"}}},
			obj{"role": "model", "parts": []any{
				obj{"functionCall": obj{"name": "get_weather", "args": obj{"city": "Paris"}}},
				obj{"functionCall": obj{"name": "get_time", "args": obj{"city": "Rome", "big": 12345678901234567890.0}}},
			}},
			obj{"role": "user", "parts": []any{
				obj{"functionResponse": obj{"name": "get_weather", "response": obj{"output": "22C and sunny"}}},
				obj{"functionResponse": obj{"name": "get_time", "response": obj{"time": "14:00"}}},
			}},
			obj{"role": "user", "parts": []any{obj{"text": "Thanks"}}},
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, nil)
			p := newProvider(t, srv)
			tt.req.Model = "gemini-2.5-flash"
			if _, err := p.Chat(context.Background(), providers.ChatRequest{Request: tt.req}); err != nil {
				t.Fatal(err)
			}
			got := srv.only(t)
			if got.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
				t.Errorf("path %q, want /v1beta/models/gemini-2.5-flash:generateContent", got.Path)
			}
			gotBody := map[string]any{}
			for k := range tt.want {
				gotBody[k] = got.Body[k]
			}
			if diff := cmp.Diff(gotBody, tt.want, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

// TestChatResponse checks the translation of generateContent answers.
func TestChatResponse(t *testing.T) {
	tests := []struct {
		name string
		body obj
		want openai.ChatCompletionResponse
	}{{
		name: "text",
		body: answerText("Hello there!"),
		want: openai.ChatCompletionResponse{
			ID: "resp-abc", Object: "chat.completion", Model: "gemini-2.5-flash-001",
			Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: "Hello there!"}, FinishReason: "stop"}},
			Usage:   openai.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12},
		},
	}, {
		name: "thoughts are reasoning content; thinking and cached tokens are counted",
		body: obj{
			"candidates": []any{obj{
				"content":      obj{"role": "model", "parts": []any{obj{"text": "Let me think.", "thought": true}, obj{"text": "4"}}},
				"finishReason": "STOP",
			}},
			"usageMetadata": obj{"promptTokenCount": 100, "cachedContentTokenCount": 60, "candidatesTokenCount": 1,
				"thoughtsTokenCount": 20, "toolUsePromptTokenCount": 5, "totalTokenCount": 126},
		},
		want: openai.ChatCompletionResponse{
			Object: "chat.completion", Model: "gemini-2.5-flash",
			Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: "4", ReasoningContent: "Let me think."}, FinishReason: "stop"}},
			Usage: openai.Usage{PromptTokens: 105, CompletionTokens: 21, TotalTokens: 126,
				PromptTokensDetails:     &openai.PromptTokensDetails{CachedTokens: 60},
				CompletionTokensDetails: &openai.CompletionTokensDetails{ReasoningTokens: 20}},
		},
	}, {
		name: "several candidates",
		body: obj{"candidates": []any{
			obj{"content": obj{"parts": []any{obj{"text": "A"}}}, "finishReason": "STOP", "index": 0},
			obj{"content": obj{"parts": []any{obj{"text": "B"}}}, "finishReason": "MAX_TOKENS", "index": 1},
		}},
		want: openai.ChatCompletionResponse{
			Object: "chat.completion", Model: "gemini-2.5-flash",
			Choices: []openai.ChatCompletionChoice{
				{Index: 0, Message: openai.ChatCompletionMessage{Role: "assistant", Content: "A"}, FinishReason: "stop"},
				{Index: 1, Message: openai.ChatCompletionMessage{Role: "assistant", Content: "B"}, FinishReason: "length"},
			},
		},
	}, {
		name: "a blocked prompt is an empty answer filtered by content policy",
		body: obj{"promptFeedback": obj{"blockReason": "SAFETY"}, "usageMetadata": obj{"promptTokenCount": 4}},
		want: openai.ChatCompletionResponse{
			Object: "chat.completion", Model: "gemini-2.5-flash",
			Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant"}, FinishReason: "content_filter"}},
			Usage:   openai.Usage{PromptTokens: 4, TotalTokens: 4},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) { writeJSON(w, http.StatusOK, tt.body) })
			got, err := newProvider(t, srv).Chat(context.Background(), userSays("gemini-2.5-flash", "Hi"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want, cmpopts.IgnoreFields(openai.ChatCompletionResponse{}, "Created"), cmpopts.IgnoreUnexported(openai.ChatCompletionResponse{})); diff != "" {
				t.Errorf("response (-got +want):\n%s", diff)
			}
			if got.Created == 0 {
				t.Error("Created is 0, want the time of the answer")
			}
		})
	}
}

// TestFinishReasons checks every finish reason's OpenAI name.
func TestFinishReasons(t *testing.T) {
	tests := []struct {
		gemini string
		calls  bool
		want   openai.FinishReason
	}{
		{"STOP", false, "stop"},
		{"STOP", true, "tool_calls"},
		{"MAX_TOKENS", false, "length"},
		{"CONTINUATION", false, "length"},
		{"SAFETY", false, "content_filter"},
		{"RECITATION", false, "content_filter"},
		{"LANGUAGE", false, "content_filter"},
		{"BLOCKLIST", false, "content_filter"},
		{"PROHIBITED_CONTENT", false, "content_filter"},
		{"SPII", false, "content_filter"},
		{"IMAGE_SAFETY", false, "content_filter"},
		{"IMAGE_PROHIBITED_CONTENT", false, "content_filter"},
		{"OTHER", false, "content_filter"},
		{"SOMETHING_NEW", false, "something_new"},
	}
	for _, tt := range tests {
		t.Run(tt.gemini, func(t *testing.T) {
			parts := []any{obj{"text": "x"}}
			if tt.calls {
				parts = append(parts, obj{"functionCall": obj{"name": "f", "args": obj{}}})
			}
			body := obj{"candidates": []any{obj{"content": obj{"parts": parts}, "finishReason": tt.gemini}}}
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) { writeJSON(w, http.StatusOK, body) })
			got, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Choices[0].FinishReason != tt.want {
				t.Errorf("finish reason %q, want %q", got.Choices[0].FinishReason, tt.want)
			}
		})
	}
}

// TestChatModelFailures checks answers that hold no usable answer: they
// are 502s keeping Gemini's reason as the code, so the router can try
// again or elsewhere.
func TestChatModelFailures(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string
	}{
		{"malformed function call", `{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL","finishMessage":"bad args"}]}`, "MALFORMED_FUNCTION_CALL"},
		{"unexpected tool call", `{"candidates":[{"finishReason":"UNEXPECTED_TOOL_CALL"}]}`, "UNEXPECTED_TOOL_CALL"},
		{"too many tool calls", `{"candidates":[{"finishReason":"TOO_MANY_TOOL_CALLS"}]}`, "TOO_MANY_TOOL_CALLS"},
		{"no candidate and no feedback", `{"usageMetadata":{"promptTokenCount":3}}`, "malformed_response"},
		{"a null candidate", `{"candidates":[null]}`, "malformed_response"},
		{"candidates of the wrong type", `{"candidates":"x"}`, "malformed_response"},
		{"parts of the wrong type", `{"candidates":[{"content":{"parts":"x"}}]}`, "malformed_response"},
		{"not an object", `[1,2]`, "malformed_response"},
		{"not JSON", `not json`, "malformed_response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.body))
			})
			_, err := newProvider(t, srv).Chat(context.Background(), userSays("m", "Hi"))
			pe := asProviderError(t, err)
			if pe.Status != http.StatusBadGateway || pe.Code != tt.wantCode {
				t.Errorf("got status %d code %q (%v), want 502 %q", pe.Status, pe.Code, err, tt.wantCode)
			}
		})
	}
}
