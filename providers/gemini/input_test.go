package gemini_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
)

// failingMarshaler is a schema that cannot be encoded.
type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("no") }

// TestInputErrors checks that a request Gemini cannot take is refused
// before anything is sent, with an *InputError naming the field, and that
// it is not a *providers.Error: nothing reached Gemini.
func TestInputErrors(t *testing.T) {
	hi := []openai.ChatCompletionMessage{user("Hi")}
	image := func(url string) []openai.ChatCompletionMessage {
		return []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: url}},
		}}}
	}
	weather := []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "get_weather"}}}
	bigSeed := math.MaxInt32 + 1
	tests := []struct {
		name      string
		req       openai.ChatCompletionRequest
		extra     map[string]any
		wantField string
	}{
		{"no model", openai.ChatCompletionRequest{Messages: hi}, nil, "model"},
		{"a model name that would change the URL", openai.ChatCompletionRequest{Model: "m?key=x", Messages: hi}, nil, "model"},
		{"a model name climbing the path", openai.ChatCompletionRequest{Model: "../files", Messages: hi}, nil, "model"},
		{"no messages", openai.ChatCompletionRequest{Model: "m"}, nil, "messages"},
		{"only a system message", openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "system", Content: "x"}}}, nil, "messages"},
		{"an empty user message", openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{user("")}}, nil, "messages[0].content"},
		{"an unknown role", openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "critic", Content: "x"}}}, nil, "messages[0].role"},
		{"a legacy function message", openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "function", Name: "f", Content: "x"}}}, nil, "messages[0].role"},
		{"content and multi-content", openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x",
			MultiContent: []openai.ChatMessagePart{{Type: "text", Text: "y"}}}}}, nil, "messages[0].content"},
		{"an image by http URL", openai.ChatCompletionRequest{Model: "m", Messages: image("https://example.com/cat.png")}, nil, "messages[0].content[0].image_url"},
		{"a data URL that is not base64", openai.ChatCompletionRequest{Model: "m", Messages: image("data:image/png,abc")}, nil, "messages[0].content[0].image_url"},
		{"a data URL with bad base64", openai.ChatCompletionRequest{Model: "m", Messages: image("data:image/png;base64,!!!")}, nil, "messages[0].content[0].image_url"},
		{"a data URL with no type", openai.ChatCompletionRequest{Model: "m", Messages: image("data:;base64,AAAA")}, nil, "messages[0].content[0].image_url"},
		{"a gs:// URI with no extension", openai.ChatCompletionRequest{Model: "m", Messages: image("gs://bucket/cat")}, nil, "messages[0].content[0].image_url"},
		{"an image in a system message", openai.ChatCompletionRequest{Model: "m", Messages: append([]openai.ChatCompletionMessage{{Role: "system",
			MultiContent: []openai.ChatMessagePart{{Type: "image_url", ImageURL: &openai.ChatMessageImageURL{URL: "data:image/png;base64,AAAA"}}}}}, hi...)}, nil, "messages[0].content[0]"},
		{"a tool result for no call", openai.ChatCompletionRequest{Model: "m", Messages: append(hi, openai.ChatCompletionMessage{Role: "tool", ToolCallID: "call_1", Content: "x"})}, nil, "messages[1].tool_call_id"},
		{"tool call arguments that are not an object", openai.ChatCompletionRequest{Model: "m", Messages: append(hi, openai.ChatCompletionMessage{Role: "assistant",
			ToolCalls: []openai.ToolCall{{ID: "c", Type: "function", Function: openai.FunctionCall{Name: "f", Arguments: "[1]"}}}})}, nil, "messages[1].tool_calls[0].function.arguments"},
		{"a tool call with no name", openai.ChatCompletionRequest{Model: "m", Messages: append(hi, openai.ChatCompletionMessage{Role: "assistant",
			ToolCalls: []openai.ToolCall{{ID: "c", Type: "function", Function: openai.FunctionCall{Arguments: "{}"}}}})}, nil, "messages[1].tool_calls[0].function.name"},
		{"a legacy assistant function call", openai.ChatCompletionRequest{Model: "m", Messages: append(hi, openai.ChatCompletionMessage{Role: "assistant",
			FunctionCall: &openai.FunctionCall{Name: "f"}})}, nil, "messages[1].function_call"},
		{"a temperature that is not a number", openai.ChatCompletionRequest{Model: "m", Messages: hi, Temperature: float32(math.NaN())}, nil, "temperature"},
		{"an infinite top_p", openai.ChatCompletionRequest{Model: "m", Messages: hi, TopP: float32(math.Inf(1))}, nil, "top_p"},
		{"a negative max_tokens", openai.ChatCompletionRequest{Model: "m", Messages: hi, MaxTokens: -1}, nil, "max_tokens"},
		{"a seed beyond 32 bits", openai.ChatCompletionRequest{Model: "m", Messages: hi, Seed: &bigSeed}, nil, "seed"},
		{"an unknown reasoning effort", openai.ChatCompletionRequest{Model: "m", Messages: hi, ReasoningEffort: "max"}, nil, "reasoning_effort"},
		{"logit bias", openai.ChatCompletionRequest{Model: "m", Messages: hi, LogitBias: map[string]int{"1": 5}}, nil, "logit_bias"},
		{"logprobs", openai.ChatCompletionRequest{Model: "m", Messages: hi, LogProbs: true}, nil, "logprobs"},
		{"legacy functions", openai.ChatCompletionRequest{Model: "m", Messages: hi, Functions: []openai.FunctionDefinition{{Name: "f"}}}, nil, "functions"},
		{"a tool that is not a function", openai.ChatCompletionRequest{Model: "m", Messages: hi, Tools: []openai.Tool{{Type: "web_search"}}}, nil, "tools[0].type"},
		{"a tool with no name", openai.ChatCompletionRequest{Model: "m", Messages: hi, Tools: []openai.Tool{{Type: "function", Function: &openai.FunctionDefinition{}}}}, nil, "tools[0].function.name"},
		{"tool parameters that do not encode", openai.ChatCompletionRequest{Model: "m", Messages: hi, Tools: []openai.Tool{{Type: "function",
			Function: &openai.FunctionDefinition{Name: "f", Parameters: json.RawMessage(`{bad`)}}}}, nil, "tools[0].function.parameters"},
		{"an unknown tool_choice", openai.ChatCompletionRequest{Model: "m", Messages: hi, Tools: weather, ToolChoice: "sometimes"}, nil, "tool_choice"},
		{"a tool_choice naming an undeclared function", openai.ChatCompletionRequest{Model: "m", Messages: hi, Tools: weather,
			ToolChoice: openai.ToolChoice{Type: "function", Function: openai.ToolFunction{Name: "get_time"}}}, nil, "tool_choice"},
		{"a json_schema with no schema", openai.ChatCompletionRequest{Model: "m", Messages: hi, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: "json_schema"}}, nil, "response_format.json_schema.schema"},
		{"a schema that does not encode", openai.ChatCompletionRequest{Model: "m", Messages: hi, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: "json_schema",
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "x", Schema: failingMarshaler{}}}}, nil, "response_format.json_schema.schema"},
		{"an unknown response format", openai.ChatCompletionRequest{Model: "m", Messages: hi, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: "yaml"}}, nil, "response_format.type"},
		{"an unknown extra key", openai.ChatCompletionRequest{Model: "m", Messages: hi}, map[string]any{"prompt_version_fqn": "acme:v3"}, "extra.prompt_version_fqn"},
		{"an extra value of the wrong type", openai.ChatCompletionRequest{Model: "m", Messages: hi}, map[string]any{"top_k": "forty"}, "extra.top_k"},
		{"an unknown field inside an extra object", openai.ChatCompletionRequest{Model: "m", Messages: hi}, map[string]any{"thinking_config": map[string]any{"budget": 10}}, "extra.thinking_config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, nil)
			p := newProvider(t, srv)
			req := providers.ChatRequest{Request: tt.req, Call: providers.Call{Extra: tt.extra}}
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					var s providers.Stream
					s, err = p.ChatStream(context.Background(), req)
					if s != nil {
						s.Close()
					}
				} else {
					_, err = p.Chat(context.Background(), req)
				}
				var ie *gem.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("stream %v: got %v (%T), want an *InputError", stream, err, err)
				}
				if ie.Field != tt.wantField {
					t.Errorf("stream %v: field %q (%v), want %q", stream, ie.Field, err, tt.wantField)
				}
				if _, ok := providers.AsError(err); ok {
					t.Errorf("stream %v: %v is a *providers.Error; nothing reached Gemini", stream, err)
				}
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("server saw %d requests, want 0", n)
			}
		})
	}
}

// TestExtra checks the Call.Extra keys that become Gemini settings, in
// either spelling.
func TestExtra(t *testing.T) {
	srv := newServer(t, nil)
	p := newProvider(t, srv)
	req := userSays("m", "Hi")
	req.Request.ReasoningEffort = "low" // replaced by thinking_config
	req.Extra = map[string]any{
		"top_k":               40,
		"thinkingConfig":      map[string]any{"thinking_budget": 1024, "includeThoughts": true},
		"safety_settings":     []any{map[string]any{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}},
		"cached_content":      "cachedContents/abc",
		"response_modalities": []string{"TEXT"},
		"media_resolution":    "MEDIA_RESOLUTION_LOW",
		"labels":              map[string]any{"team_name": "search"},
	}
	if _, err := p.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := srv.only(t).Body
	got := map[string]any{
		"topK":               dig(body, "generationConfig.topK"),
		"thinkingConfig":     dig(body, "generationConfig.thinkingConfig"),
		"safetySettings":     body["safetySettings"],
		"cachedContent":      body["cachedContent"],
		"responseModalities": dig(body, "generationConfig.responseModalities"),
		"mediaResolution":    dig(body, "generationConfig.mediaResolution"),
		"labels":             body["labels"],
	}
	want := map[string]any{
		"topK":               40.0,
		"thinkingConfig":     obj{"thinkingBudget": 1024.0, "includeThoughts": true},
		"safetySettings":     []any{obj{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}},
		"cachedContent":      "cachedContents/abc",
		"responseModalities": []any{"TEXT"},
		"mediaResolution":    "MEDIA_RESOLUTION_LOW",
		"labels":             obj{"team_name": "search"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("extra settings on the wire (-got +want):\n%s", diff)
	}
}
