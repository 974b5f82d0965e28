package bedrock_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\nfake image bytes")

func dataURL(mediaType string, b []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func text(role, content string) openai.ChatCompletionMessage {
	return openai.ChatCompletionMessage{Role: role, Content: content}
}

var weatherTool = openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
	Name:        "get_weather",
	Description: "Weather in a city",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","maxLength":100}},"required":["city"]}`),
}}

var weatherSpec = `{"toolSpec":{"name":"get_weather","description":"Weather in a city","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string","maxLength":100}},"required":["city"]}}}}`

// TestRequestTranslation checks the Converse request body the server
// receives for each kind of OpenAI request.
func TestRequestTranslation(t *testing.T) {
	toolCall := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: "Let me look.", ToolCalls: []openai.ToolCall{
		{ID: "call_1", Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}},
		{ID: "call_2", Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Oslo"}`}},
	}}
	toolMsgs := []openai.ChatCompletionMessage{
		text("user", "Weather in Paris and Oslo?"),
		toolCall,
		{Role: openai.ChatMessageRoleTool, ToolCallID: "call_1", Content: "18C"},
		{Role: openai.ChatMessageRoleTool, ToolCallID: "call_2", Content: "3C"},
	}
	const toolTurns = `{"role":"user","content":[{"text":"Weather in Paris and Oslo?"}]},
		{"role":"assistant","content":[{"text":"Let me look."},
			{"toolUse":{"toolUseId":"call_1","name":"get_weather","input":{"city":"Paris"}}},
			{"toolUse":{"toolUseId":"call_2","name":"get_weather","input":{"city":"Oslo"}}}]},
		{"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"18C"}]}},
			{"toolResult":{"toolUseId":"call_2","content":[{"text":"3C"}]}}]}`
	tests := []struct {
		name  string
		req   openai.ChatCompletionRequest
		extra map[string]any
		want  string
	}{
		{
			name: "system and developer messages become system blocks in order",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{
				text("system", "Be brief."),
				text("user", "Hi"),
				text("developer", "Answer in French."),
				text("assistant", "Bonjour"),
				text("user", "Again"),
			}},
			want: `{"system":[{"text":"Be brief."},{"text":"Answer in French."}],"messages":[
				{"role":"user","content":[{"text":"Hi"}]},
				{"role":"assistant","content":[{"text":"Bonjour"}]},
				{"role":"user","content":[{"text":"Again"}]}]}`,
		},
		{
			name: "consecutive turns of one role are merged; blank text is left out",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{
				text("user", "One"),
				text("user", "  "),
				text("user", "Two"),
				text("assistant", ""),
				text("user", "Three"),
			}},
			want: `{"messages":[{"role":"user","content":[{"text":"One"},{"text":"Two"},{"text":"Three"}]}]}`,
		},
		{
			name: "multi-part text and a base64 image",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
				{Type: openai.ChatMessagePartTypeText, Text: "What is this?"},
				{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: dataURL("image/png", pngBytes)}},
			}}}},
			want: `{"messages":[{"role":"user","content":[{"text":"What is this?"},
				{"image":{"format":"png","source":{"bytes":"` + base64.StdEncoding.EncodeToString(pngBytes) + `"}}}]}]}`,
		},
		{
			name: "an s3 image",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
				{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "s3://photos/cat.JPG"}},
			}}}},
			want: `{"messages":[{"role":"user","content":[{"image":{"format":"jpeg","source":{"s3Location":{"uri":"s3://photos/cat.JPG"}}}}]}]}`,
		},
		{
			name: "tool calls and their results, grouped per turn",
			req:  openai.ChatCompletionRequest{Messages: toolMsgs, Tools: []openai.Tool{weatherTool}},
			want: `{"messages":[` + toolTurns + `],"toolConfig":{"tools":[` + weatherSpec + `]}}`,
		},
		{
			name: "a tool result and the next user message share a turn",
			req: openai.ChatCompletionRequest{Messages: append(toolMsgs[:3:3], text("user", "And Rome?")),
				Tools: []openai.Tool{weatherTool}},
			want: `{"messages":[{"role":"user","content":[{"text":"Weather in Paris and Oslo?"}]},
				{"role":"assistant","content":[{"text":"Let me look."},
					{"toolUse":{"toolUseId":"call_1","name":"get_weather","input":{"city":"Paris"}}},
					{"toolUse":{"toolUseId":"call_2","name":"get_weather","input":{"city":"Oslo"}}}]},
				{"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"18C"}]}},{"text":"And Rome?"}]}],
				"toolConfig":{"tools":[` + weatherSpec + `]}}`,
		},
		{
			name: "a tool with no parameters, a strict tool, and empty arguments",
			req: openai.ChatCompletionRequest{
				Messages: []openai.ChatCompletionMessage{text("user", "Time?"), {Role: "assistant", ToolCalls: []openai.ToolCall{
					{ID: "c1", Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: "now"}},
				}}, {Role: "tool", ToolCallID: "c1", Content: "noon"}},
				Tools: []openai.Tool{
					{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "now"}},
					{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "add", Strict: true,
						Parameters: map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "number"}}}}},
				},
			},
			want: `{"messages":[{"role":"user","content":[{"text":"Time?"}]},
				{"role":"assistant","content":[{"toolUse":{"toolUseId":"c1","name":"now","input":{}}}]},
				{"role":"user","content":[{"toolResult":{"toolUseId":"c1","content":[{"text":"noon"}]}}]}],
				"toolConfig":{"tools":[{"toolSpec":{"name":"now","inputSchema":{"json":{"type":"object","properties":{}}}}},
					{"toolSpec":{"name":"add","strict":true,"inputSchema":{"json":{"type":"object","properties":{"a":{"type":"number"}}}}}}]}}`,
		},
		{
			name: "tool_choice auto is Converse's default",
			req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, Tools: []openai.Tool{weatherTool}, ToolChoice: "auto"},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[` + weatherSpec + `]}}`,
		},
		{
			name: "tool_choice required is any",
			req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, Tools: []openai.Tool{weatherTool}, ToolChoice: "required"},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[` + weatherSpec + `],"toolChoice":{"any":{}}}}`,
		},
		{
			name: "a named tool_choice is tool",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, Tools: []openai.Tool{weatherTool},
				ToolChoice: openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: "get_weather"}}},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[` + weatherSpec + `],"toolChoice":{"tool":{"name":"get_weather"}}}}`,
		},
		{
			name: "a named tool_choice decoded from JSON",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, Tools: []openai.Tool{weatherTool},
				ToolChoice: map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[` + weatherSpec + `],"toolChoice":{"tool":{"name":"get_weather"}}}}`,
		},
		{
			name: "tool_choice none sends no tools",
			req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, Tools: []openai.Tool{weatherTool}, ToolChoice: "none"},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
		{
			name: "tool_choice none with tool history keeps the tools Bedrock needs",
			req:  openai.ChatCompletionRequest{Messages: toolMsgs, Tools: []openai.Tool{weatherTool}, ToolChoice: "none"},
			want: `{"messages":[` + toolTurns + `],"toolConfig":{"tools":[` + weatherSpec + `]}}`,
		},
		{
			name: "inference configuration",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")},
				MaxTokens: 100, MaxCompletionTokens: 300, Temperature: 0.5, TopP: 0.25, Stop: []string{"END", "\n\n"}},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],
				"inferenceConfig":{"maxTokens":300,"temperature":0.5,"topP":0.25,"stopSequences":["END","\n\n"]}}`,
		},
		{
			name: "max_tokens alone",
			req:  openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}, MaxTokens: 64},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":64}}`,
		},
		{
			name: "structured output, effort and request metadata",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")},
				ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
					JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "greeting", Description: "A greeting",
						Schema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}}}`)}},
				ReasoningEffort: "high",
				Metadata:        map[string]string{"tenant": "acme"},
			},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],
				"outputConfig":{"effort":"high","textFormat":{"type":"json_schema","structure":{"jsonSchema":{
					"name":"greeting","description":"A greeting","schema":"{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}"}}}},
				"requestMetadata":{"tenant":"acme"}}`,
		},
		{
			name:  "extra fields become additional model request fields",
			req:   openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{text("user", "Hi")}},
			extra: map[string]any{"top_k": 40, "anthropic_beta": []any{"token-efficient-tools-2025-02-19"}},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],
				"additionalModelRequestFields":{"top_k":40,"anthropic_beta":["token-efficient-tools-2025-02-19"]}}`,
		},
		{
			name: "sampling hints with no Converse field are not sent",
			req: openai.ChatCompletionRequest{Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Hi", Name: "ann"}},
				Seed: new(int), PresencePenalty: 0.5, FrequencyPenalty: 0.5, User: "u1", ParallelToolCalls: false, Store: true},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, answer("ok"))
			req := tt.req
			req.Model = testModel
			if _, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: req, Call: providers.Call{Extra: tt.extra}}); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests; want 1", len(reqs))
			}
			if got, want := reqs[0].Model, testModel; got != want {
				t.Errorf("model in the path = %q; want %q", got, want)
			}
			if diff := cmp.Diff(reqs[0].Body, jsonObject(t, tt.want)); diff != "" {
				t.Errorf("request body (-got +want):\n%s", diff)
			}
		})
	}
}

// TestModelIDs checks that model ids, inference profile ids and ARNs
// reach the server intact: an ARN's "/" and ":" are escaped in the path
// by the SDK, and signed as sent.
func TestModelIDs(t *testing.T) {
	for _, model := range []string{
		"anthropic.claude-3-5-haiku-20241022-v1:0",
		"us.anthropic.claude-3-5-haiku-20241022-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123de45fg",
	} {
		t.Run(model, func(t *testing.T) {
			srv := newServer(t, answer("ok"))
			p := srv.provider(t)
			req := userRequest("Hi")
			req.Model = model
			resp, err := p.Chat(t.Context(), providers.ChatRequest{Request: req})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			st, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: req})
			if err == nil {
				_, _ = drain(t, st)
				_ = st.Close()
			}
			var got []string
			for _, r := range srv.requests() {
				got = append(got, r.Model)
			}
			if diff := cmp.Diff(got, []string{model, model}); diff != "" {
				t.Errorf("models the server got (-got +want):\n%s", diff)
			}
			if resp.Model != model {
				t.Errorf("response model = %q; want %q", resp.Model, model)
			}
		})
	}
}

// TestNumbersKeptExactly checks that numbers in tool arguments, schemas
// and extra fields go out as written, not rounded through float64.
func TestNumbersKeptExactly(t *testing.T) {
	srv := newServer(t, answer("ok"))
	req := openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{
		text("user", "Look up order 1152921504606846977"),
		{Role: "assistant", ToolCalls: []openai.ToolCall{{ID: "c1", Type: "function",
			Function: openai.FunctionCall{Name: "order", Arguments: `{"id":1152921504606846977,"price":0.1000000000000000055511151231257827}`}}}},
		{Role: "tool", ToolCallID: "c1", Content: "shipped"},
	}, Tools: []openai.Tool{{Type: "function", Function: &openai.FunctionDefinition{Name: "order",
		Parameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","maximum":9007199254740993}}}`)}}}}
	extra := map[string]any{"seed_big": json.Number("18446744073709551615")}
	if _, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: req, Call: providers.Call{Extra: extra}}); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	raw := string(srv.requests()[0].Raw)
	for _, want := range []string{`"id":1152921504606846977`, `"price":0.1000000000000000055511151231257827`, `"maximum":9007199254740993`, `"seed_big":18446744073709551615`} {
		if !strings.Contains(raw, want) {
			t.Errorf("request body lacks %s:\n%s", want, raw)
		}
	}
}

// TestRefusedBeforeSending checks every request this adapter refuses:
// a 400 client_validation error naming the field, and nothing sent.
func TestRefusedBeforeSending(t *testing.T) {
	user := text("user", "Hi")
	one := []openai.ChatCompletionMessage{user}
	withTools := func(r openai.ChatCompletionRequest) openai.ChatCompletionRequest {
		r.Tools = []openai.Tool{weatherTool}
		return r
	}
	image := func(url string) []openai.ChatCompletionMessage {
		return []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: url}}}}}
	}
	call := func(args string) []openai.ChatCompletionMessage {
		return []openai.ChatCompletionMessage{user, {Role: "assistant", ToolCalls: []openai.ToolCall{
			{ID: "c1", Type: "function", Function: openai.FunctionCall{Name: "get_weather", Arguments: args}}}}}
	}
	tests := []struct {
		name  string
		req   openai.ChatCompletionRequest
		extra map[string]any
		field string // the field the message must name
	}{
		{"no model", openai.ChatCompletionRequest{Messages: one}, nil, "model"},
		{"no messages", openai.ChatCompletionRequest{Model: testModel}, nil, "messages"},
		{"only blank messages", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{text("system", "Be nice"), text("user", " ")}}, nil, "messages"},
		{"n > 1", openai.ChatCompletionRequest{Model: testModel, Messages: one, N: 2}, nil, "n"},
		{"logprobs", openai.ChatCompletionRequest{Model: testModel, Messages: one, LogProbs: true}, nil, "logprobs"},
		{"logit_bias", openai.ChatCompletionRequest{Model: testModel, Messages: one, LogitBias: map[string]int{"50256": -100}}, nil, "logit_bias"},
		{"legacy functions", openai.ChatCompletionRequest{Model: testModel, Messages: one, Functions: []openai.FunctionDefinition{{Name: "f"}}}, nil, "functions"},
		{"json_object", openai.ChatCompletionRequest{Model: testModel, Messages: one, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}}, nil, "response_format"},
		{"json_schema without a schema", openai.ChatCompletionRequest{Model: testModel, Messages: one, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema}}, nil, "response_format.json_schema.schema"},
		{"negative max_tokens", openai.ChatCompletionRequest{Model: testModel, Messages: one, MaxTokens: -1}, nil, "max_tokens"},
		{"empty stop sequence", openai.ChatCompletionRequest{Model: testModel, Messages: one, Stop: []string{"END", ""}}, nil, "stop[1]"},
		{"unknown role", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{text("critic", "Hm")}}, nil, "messages[0].role"},
		{"function role", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{user, {Role: "function", Name: "f", Content: "1"}}}, nil, "messages[1].role"},
		{"content and multi-content", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "a", MultiContent: []openai.ChatMessagePart{{Type: "text", Text: "b"}}}}}, nil, "messages[0]"},
		{"http image URL", openai.ChatCompletionRequest{Model: testModel, Messages: image("https://example.com/cat.png")}, nil, "messages[0].content[0].image_url"},
		{"image type Bedrock does not take", openai.ChatCompletionRequest{Model: testModel, Messages: image(dataURL("image/tiff", pngBytes))}, nil, "messages[0].content[0].image_url"},
		{"data URL not base64", openai.ChatCompletionRequest{Model: testModel, Messages: image("data:image/png,rawbytes")}, nil, "messages[0].content[0].image_url"},
		{"bad base64", openai.ChatCompletionRequest{Model: testModel, Messages: image("data:image/png;base64,***")}, nil, "messages[0].content[0].image_url"},
		{"s3 image of unknown format", openai.ChatCompletionRequest{Model: testModel, Messages: image("s3://bucket/cat")}, nil, "messages[0].content[0].image_url"},
		{"image in a system message", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{{Role: "system", MultiContent: []openai.ChatMessagePart{{Type: "image_url", ImageURL: &openai.ChatMessageImageURL{URL: dataURL("image/png", pngBytes)}}}}, user}}, nil, "messages[0].content[0]"},
		{"unknown part type", openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{{Type: "input_audio"}}}}}, nil, "messages[0].content[0].type"},
		{"tool arguments not JSON", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: call(`{"city":`)}), nil, "messages[1].tool_calls[0].function.arguments"},
		{"tool arguments not an object", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: call(`["Paris"]`)}), nil, "messages[1].tool_calls[0].function.arguments"},
		{"tool arguments with trailing data", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: call(`{"city":"Paris"} {}`)}), nil, "messages[1].tool_calls[0].function.arguments"},
		{"tool arguments with an empty key", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: call(`{"":1}`)}), nil, "messages[1].tool_calls[0].function.arguments"},
		{"tool call without id", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{user, {Role: "assistant", ToolCalls: []openai.ToolCall{{Type: "function", Function: openai.FunctionCall{Name: "get_weather"}}}}}}), nil, "messages[1].tool_calls[0].id"},
		{"tool message without tool_call_id", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: []openai.ChatCompletionMessage{user, {Role: "tool", Content: "18C"}}}), nil, "messages[1].tool_call_id"},
		{"tool calls without tools", openai.ChatCompletionRequest{Model: testModel, Messages: call(`{}`)}, nil, "tools"},
		{"tool_choice required without tools", openai.ChatCompletionRequest{Model: testModel, Messages: one, ToolChoice: "required"}, nil, "tool_choice"},
		{"tool_choice naming no tool", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: one, ToolChoice: openai.ToolChoice{Type: "function", Function: openai.ToolFunction{Name: "nope"}}}), nil, "tool_choice.function.name"},
		{"unknown tool_choice", withTools(openai.ChatCompletionRequest{Model: testModel, Messages: one, ToolChoice: "sometimes"}), nil, "tool_choice"},
		{"tool that is not a function", openai.ChatCompletionRequest{Model: testModel, Messages: one, Tools: []openai.Tool{{Type: "web_search"}}}, nil, "tools[0].type"},
		{"tool without a name", openai.ChatCompletionRequest{Model: testModel, Messages: one, Tools: []openai.Tool{{Type: "function", Function: &openai.FunctionDefinition{}}}}, nil, "tools[0].function.name"},
		{"tool schema not an object", openai.ChatCompletionRequest{Model: testModel, Messages: one, Tools: []openai.Tool{{Type: "function", Function: &openai.FunctionDefinition{Name: "f", Parameters: json.RawMessage(`"string"`)}}}}, nil, "tools[0].function.parameters"},
		{"extra field with an empty key", openai.ChatCompletionRequest{Model: testModel, Messages: one}, map[string]any{"": 1}, "override_params"},
		{"extra field that is not JSON", openai.ChatCompletionRequest{Model: testModel, Messages: one}, map[string]any{"f": func() {}}, "override_params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, answer("ok"))
			p := srv.provider(t)
			call := providers.ChatRequest{Request: tt.req, Call: providers.Call{Extra: tt.extra}}
			_, err := p.Chat(t.Context(), call)
			_, serr := p.ChatStream(t.Context(), call)
			for _, err := range []error{err, serr} {
				pe := asProviderError(t, err)
				if pe.Status != http.StatusBadRequest || pe.Code != bed.CodeClientValidation {
					t.Errorf("error status %d code %q (%v); want 400 %q", pe.Status, pe.Code, err, bed.CodeClientValidation)
				}
				if !strings.Contains(pe.Message, tt.field+":") {
					t.Errorf("message %q does not name the field %q", pe.Message, tt.field)
				}
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("server got %d requests; want none", n)
			}
		})
	}
}
