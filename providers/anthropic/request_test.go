package anthropic_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"
	"github.com/sashabaranov/go-openai/jsonschema"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// Shorthands for go-openai messages and Anthropic JSON.
func msg(role, content string) goopenai.ChatCompletionMessage {
	return goopenai.ChatCompletionMessage{Role: role, Content: content}
}

func text(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func turn(role string, blocks ...any) map[string]any {
	return map[string]any{"role": role, "content": blocks}
}

const (
	user      = goopenai.ChatMessageRoleUser
	assistant = goopenai.ChatMessageRoleAssistant
	system    = goopenai.ChatMessageRoleSystem
	developer = goopenai.ChatMessageRoleDeveloper
	tool      = goopenai.ChatMessageRoleTool
)

func weatherTool() goopenai.Tool {
	return goopenai.Tool{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
		Name:        "get_weather",
		Description: "Weather in a city",
		Parameters: jsonschema.Definition{
			Type:       jsonschema.Object,
			Properties: map[string]jsonschema.Definition{"city": {Type: jsonschema.String}},
			Required:   []string{"city"},
		},
	}}
}

var weatherJSON = map[string]any{
	"name":        "get_weather",
	"description": "Weather in a city",
	"input_schema": map[string]any{
		"type":       "object",
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required":   []any{"city"},
	},
}

func call(id, name, args string) goopenai.ToolCall {
	return goopenai.ToolCall{ID: id, Type: goopenai.ToolTypeFunction, Function: goopenai.FunctionCall{Name: name, Arguments: args}}
}

// TestRequestOnTheWire checks the Messages API body each go-openai
// request becomes, field by field, as the server receives it.
func TestRequestOnTheWire(t *testing.T) {
	const model = "claude-sonnet-4-5"
	tests := []struct {
		name  string
		req   goopenai.ChatCompletionRequest
		extra map[string]any
		want  map[string]any // beyond model, and max_tokens 4096 unless set
	}{
		{
			name: "one user message",
			req:  goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi")}},
			want: map[string]any{"messages": []any{turn("user", text("Hi"))}},
		},
		{
			name: "system and developer messages in order, wherever they are",
			req: goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{
				msg(system, "You are terse."),
				msg(user, "Hi"),
				{Role: developer, MultiContent: []goopenai.ChatMessagePart{
					{Type: goopenai.ChatMessagePartTypeText, Text: "Answer in French."},
					{Type: goopenai.ChatMessagePartTypeText, Text: ""},
					{Type: goopenai.ChatMessagePartTypeText, Text: "No emoji."},
				}},
			}},
			want: map[string]any{
				"system":   []any{text("You are terse."), text("Answer in French."), text("No emoji.")},
				"messages": []any{turn("user", text("Hi"))},
			},
		},
		{
			name: "consecutive turns of one role merged, empty messages left out",
			req: goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{
				msg(user, "First."), msg(user, ""), msg(user, "Second."),
				msg(assistant, "A."), msg(assistant, "B."),
				msg(user, "Third."),
			}},
			want: map[string]any{"messages": []any{
				turn("user", text("First."), text("Second.")),
				turn("assistant", text("A."), text("B.")),
				turn("user", text("Third.")),
			}},
		},
		{
			name: "images by URL and as base64 data",
			req: goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{{
				Role: user,
				MultiContent: []goopenai.ChatMessagePart{
					{Type: goopenai.ChatMessagePartTypeText, Text: "Compare:"},
					{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: "https://example.com/a.png", Detail: goopenai.ImageURLDetailHigh}},
					{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: "data:image/JPEG;base64,/9j/4AAQ"}},
				},
			}}},
			want: map[string]any{"messages": []any{turn("user",
				text("Compare:"),
				map[string]any{"type": "image", "source": map[string]any{"type": "url", "url": "https://example.com/a.png"}},
				map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
			)}},
		},
		{
			name: "a tool loop: tools, tool calls and their results",
			req: goopenai.ChatCompletionRequest{
				Tools: []goopenai.Tool{weatherTool(), {Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "now", Strict: true}}},
				Messages: []goopenai.ChatCompletionMessage{
					msg(user, "Weather in Paris and Rome, and the time?"),
					{Role: assistant, Content: "Checking.", ToolCalls: []goopenai.ToolCall{
						call("toolu_1", "get_weather", `{"city":"Paris"}`),
						call("toolu_2", "get_weather", `{"city":"Rome"}`),
						call("toolu_3", "now", ""),
					}},
					{Role: tool, ToolCallID: "toolu_1", Content: "18C"},
					{Role: tool, ToolCallID: "toolu_2", Content: "24C"},
					{Role: tool, ToolCallID: "toolu_3", Content: ""},
					msg(user, "Thanks."),
				},
			},
			want: map[string]any{
				"tools": []any{weatherJSON, map[string]any{
					"name": "now", "strict": true,
					"input_schema": map[string]any{"type": "object", "properties": map[string]any{}},
				}},
				"messages": []any{
					turn("user", text("Weather in Paris and Rome, and the time?")),
					turn("assistant", text("Checking."),
						map[string]any{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": map[string]any{"city": "Paris"}},
						map[string]any{"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": map[string]any{"city": "Rome"}},
						map[string]any{"type": "tool_use", "id": "toolu_3", "name": "now", "input": map[string]any{}},
					),
					turn("user",
						map[string]any{"type": "tool_result", "tool_use_id": "toolu_1", "content": []any{text("18C")}},
						map[string]any{"type": "tool_result", "tool_use_id": "toolu_2", "content": []any{text("24C")}},
						map[string]any{"type": "tool_result", "tool_use_id": "toolu_3"},
						text("Thanks."),
					),
				},
			},
		},
		{
			name: "tool_choice required with parallel calls off",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Weather?")}, Tools: []goopenai.Tool{weatherTool()},
				ToolChoice: "required", ParallelToolCalls: false,
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Weather?"))}, "tools": []any{weatherJSON},
				"tool_choice": map[string]any{"type": "any", "disable_parallel_tool_use": true},
			},
		},
		{
			name: "tool_choice naming a function",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Weather?")}, Tools: []goopenai.Tool{weatherTool()},
				ToolChoice: goopenai.ToolChoice{Type: goopenai.ToolTypeFunction, Function: goopenai.ToolFunction{Name: "get_weather"}},
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Weather?"))}, "tools": []any{weatherJSON},
				"tool_choice": map[string]any{"type": "tool", "name": "get_weather"},
			},
		},
		{
			name: "tool_choice none",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Weather?")}, Tools: []goopenai.Tool{weatherTool()},
				ToolChoice: "none",
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Weather?"))}, "tools": []any{weatherJSON},
				"tool_choice": map[string]any{"type": "none"},
			},
		},
		{
			name: "tool_choice decoded from JSON, with parallel calls off",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Weather?")}, Tools: []goopenai.Tool{weatherTool()},
				ParallelToolCalls: false, ToolChoice: map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}},
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Weather?"))}, "tools": []any{weatherJSON},
				"tool_choice": map[string]any{"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
			},
		},
		{
			name: "parallel tool calls off alone: auto",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Weather?")}, Tools: []goopenai.Tool{weatherTool()},
				ParallelToolCalls: false,
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Weather?"))}, "tools": []any{weatherJSON},
				"tool_choice": map[string]any{"type": "auto", "disable_parallel_tool_use": true},
			},
		},
		{
			name: "sampling and limits",
			req: goopenai.ChatCompletionRequest{
				Messages:            []goopenai.ChatCompletionMessage{msg(user, "Hi")},
				MaxTokens:           100,
				MaxCompletionTokens: 512,
				Temperature:         0.2,
				TopP:                0.9,
				Stop:                []string{"END", "\n\nHuman:"},
				User:                "user-7f3a",
				ReasoningEffort:     "high",
				Seed:                new(int), // no Anthropic equivalent: not sent
				PresencePenalty:     0.5,
			},
			want: map[string]any{
				"messages":       []any{turn("user", text("Hi"))},
				"max_tokens":     float64(512),
				"temperature":    0.2,
				"top_p":          0.9,
				"stop_sequences": []any{"END", "\n\nHuman:"},
				"metadata":       map[string]any{"user_id": "user-7f3a"},
				"output_config":  map[string]any{"effort": "high"},
			},
		},
		{
			name: "a JSON schema response format",
			req: goopenai.ChatCompletionRequest{
				Messages: []goopenai.ChatCompletionMessage{msg(user, "Name a colour.")},
				ResponseFormat: &goopenai.ChatCompletionResponseFormat{
					Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
					JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
						Name:   "colour",
						Schema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}`),
					},
				},
			},
			want: map[string]any{
				"messages": []any{turn("user", text("Name a colour."))},
				"output_config": map[string]any{"format": map[string]any{"type": "json_schema", "schema": map[string]any{
					"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}},
					"required": []any{"name"}, "additionalProperties": false,
				}}},
			},
		},
		{
			name: "a prefill loses its trailing whitespace",
			req: goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{
				msg(user, "Greek name for the Sun?"), msg(assistant, "The answer is \n"),
			}},
			want: map[string]any{"messages": []any{
				turn("user", text("Greek name for the Sun?")),
				turn("assistant", text("The answer is")),
			}},
		},
		{
			name: "a whitespace-only prefill is left out",
			req: goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{
				msg(user, "Hi"), msg(assistant, "  "),
			}},
			want: map[string]any{"messages": []any{turn("user", text("Hi"))}},
		},
		{
			name:  "extra fields the Messages API takes, overriding the translation",
			req:   goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi")}, User: "u1"},
			extra: map[string]any{"top_k": 40, "thinking": map[string]any{"type": "enabled", "budget_tokens": 2048}, "metadata": map[string]any{"user_id": "from-config"}},
			want: map[string]any{
				"messages": []any{turn("user", text("Hi"))},
				"top_k":    float64(40),
				"thinking": map[string]any{"type": "enabled", "budget_tokens": float64(2048)},
				"metadata": map[string]any{"user_id": "from-config"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			p := newProvider(t, srv)
			req := tt.req
			req.Model = model
			before := fmt.Sprintf("%#v", req)
			if _, err := p.Chat(t.Context(), providers.ChatRequest{Request: req, Call: providers.Call{Extra: tt.extra}}); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			got := srv.only(t)
			if diff := cmp.Diff(got.Method+" "+got.Path, "POST /v1/messages"); diff != "" {
				t.Errorf("request line (-got +want):\n%s", diff)
			}
			want := map[string]any{"model": model, "max_tokens": float64(anth.DefaultMaxTokens)}
			for k, v := range tt.want {
				want[k] = v
			}
			if diff := cmp.Diff(got.Body, want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(fmt.Sprintf("%#v", req), before); diff != "" {
				t.Errorf("the caller's request changed (-got +want):\n%s", diff)
			}
		})
	}
}

// TestRequestRefused checks that what Anthropic cannot serve as written
// is refused before anything is sent, with a 400 naming the field.
func TestRequestRefused(t *testing.T) {
	hi := []goopenai.ChatCompletionMessage{msg(user, "Hi")}
	withTools := func(r goopenai.ChatCompletionRequest) goopenai.ChatCompletionRequest {
		r.Tools = []goopenai.Tool{weatherTool()}
		return r
	}
	image := func(url string) []goopenai.ChatCompletionMessage {
		return []goopenai.ChatCompletionMessage{{Role: user, MultiContent: []goopenai.ChatMessagePart{
			{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: url}},
		}}}
	}
	tests := []struct {
		name      string
		req       goopenai.ChatCompletionRequest
		wantField string // the start of the Message
	}{
		{"no model", goopenai.ChatCompletionRequest{Model: "", Messages: hi}, "model:"},
		{"n above 1", goopenai.ChatCompletionRequest{N: 2, Messages: hi}, "n:"},
		{"log probabilities", goopenai.ChatCompletionRequest{LogProbs: true, Messages: hi}, "logprobs:"},
		{"logit bias", goopenai.ChatCompletionRequest{LogitBias: map[string]int{"1639": -100}, Messages: hi}, "logit_bias:"},
		{"functions", goopenai.ChatCompletionRequest{Functions: []goopenai.FunctionDefinition{{Name: "f"}}, Messages: hi}, "functions:"},
		{"guided choice", goopenai.ChatCompletionRequest{ChatCompletionRequestExtensions: goopenai.ChatCompletionRequestExtensions{GuidedChoice: []string{"a"}}, Messages: hi}, "guided_choice:"},
		{"negative max_tokens", goopenai.ChatCompletionRequest{MaxTokens: -1, Messages: hi}, "max_tokens:"},
		{"temperature above Anthropic's range", goopenai.ChatCompletionRequest{Temperature: 1.5, Messages: hi}, "temperature:"},
		{"negative top_p", goopenai.ChatCompletionRequest{TopP: -0.1, Messages: hi}, "top_p:"},
		{"whitespace stop sequence", goopenai.ChatCompletionRequest{Stop: []string{"END", "\n"}, Messages: hi}, "stop[1]:"},
		{"unknown reasoning effort", goopenai.ChatCompletionRequest{ReasoningEffort: "minimal", Messages: hi}, "reasoning_effort:"},
		{"JSON mode without a schema", goopenai.ChatCompletionRequest{ResponseFormat: &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONObject}, Messages: hi}, "response_format:"},
		{"JSON schema format without a schema", goopenai.ChatCompletionRequest{ResponseFormat: &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema}, Messages: hi}, "response_format.json_schema.schema:"},
		{"no messages", goopenai.ChatCompletionRequest{}, "messages:"},
		{"only a system prompt", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(system, "Be terse.")}}, "messages:"},
		{"unknown role", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg("robot", "beep")}}, "messages[0].role:"},
		{"function role", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi"), msg(goopenai.ChatMessageRoleFunction, "42")}}, "messages[1].role:"},
		{"image in a system prompt", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{{Role: system, MultiContent: []goopenai.ChatMessagePart{{Type: goopenai.ChatMessagePartTypeImageURL}}}}}, "messages[0].content[0].type:"},
		{"image of another media type", goopenai.ChatCompletionRequest{Messages: image("data:image/bmp;base64,Qk0=")}, "messages[0].content[0].image_url.url:"},
		{"data URL without base64", goopenai.ChatCompletionRequest{Messages: image("data:image/png,abc")}, "messages[0].content[0].image_url.url:"},
		{"image of another scheme", goopenai.ChatCompletionRequest{Messages: image("ftp://example.com/a.png")}, "messages[0].content[0].image_url.url:"},
		{"image without a URL", goopenai.ChatCompletionRequest{Messages: image("")}, "messages[0].content[0].image_url.url:"},
		{"tool call arguments that are not JSON", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi"), {Role: assistant, ToolCalls: []goopenai.ToolCall{call("toolu_1", "get_weather", `{"city": Paris}`)}}}}, "messages[1].tool_calls[0].function.arguments:"},
		{"tool call arguments that are not an object", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi"), {Role: assistant, ToolCalls: []goopenai.ToolCall{call("toolu_1", "get_weather", `["Paris"]`)}}}}, "messages[1].tool_calls[0].function.arguments:"},
		{"tool call without an id", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi"), {Role: assistant, ToolCalls: []goopenai.ToolCall{call("", "get_weather", `{}`)}}}}, "messages[1].tool_calls[0].id:"},
		{"tool result without its call's id", goopenai.ChatCompletionRequest{Messages: []goopenai.ChatCompletionMessage{msg(user, "Hi"), {Role: tool, Content: "18C"}}}, "messages[1].tool_call_id:"},
		{"a tool that is not a function", goopenai.ChatCompletionRequest{Messages: hi, Tools: []goopenai.Tool{{Type: "web_search"}}}, "tools[0].type:"},
		{"a function without a name", goopenai.ChatCompletionRequest{Messages: hi, Tools: []goopenai.Tool{{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{}}}}, "tools[0].function.name:"},
		{"parameters that are not an object schema", goopenai.ChatCompletionRequest{Messages: hi, Tools: []goopenai.Tool{{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "f", Parameters: json.RawMessage(`{"type":"array"}`)}}}}, "tools[0].function.parameters:"},
		{"a named tool choice without tools", goopenai.ChatCompletionRequest{Messages: hi, ToolChoice: goopenai.ToolChoice{Type: goopenai.ToolTypeFunction, Function: goopenai.ToolFunction{Name: "f"}}}, "tool_choice:"},
		{"an unknown tool choice", withTools(goopenai.ChatCompletionRequest{Messages: hi, ToolChoice: "sometimes"}), "tool_choice:"},
		{"a tool choice of another type", withTools(goopenai.ChatCompletionRequest{Messages: hi, ToolChoice: 7}), "tool_choice:"},
		{"parallel_tool_calls not a boolean", withTools(goopenai.ChatCompletionRequest{Messages: hi, ParallelToolCalls: "no"}), "parallel_tool_calls:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			p := newProvider(t, srv)
			req := tt.req
			if req.Model == "" && tt.wantField != "model:" {
				req.Model = "claude-sonnet-4-5"
			}
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					var st providers.Stream
					st, err = p.ChatStream(t.Context(), providers.ChatRequest{Request: req})
					if st != nil {
						st.Close()
					}
				} else {
					_, err = p.Chat(t.Context(), providers.ChatRequest{Request: req})
				}
				pe := asProviderError(t, err)
				got := providers.Error{Status: pe.Status, Code: pe.Code}
				if diff := cmp.Diff(got, providers.Error{Status: http.StatusBadRequest, Code: anth.CodeClientValidation}); diff != "" {
					t.Errorf("stream %v: error %v (-got +want):\n%s", stream, err, diff)
				}
				if !strings.HasPrefix(pe.Message, tt.wantField) {
					t.Errorf("stream %v: message %q does not start with %q", stream, pe.Message, tt.wantField)
				}
				if !errors.Is(err, providers.ErrInvalidRequest) {
					t.Errorf("stream %v: errors.Is(%v, providers.ErrInvalidRequest) = false", stream, err)
				}
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("the server received %d requests; want none", n)
			}
		})
	}
}

// TestUnknownExtraField checks that an extra body field the Messages API
// does not take is a configuration error, not a provider failure: a
// plain error naming the key, and nothing sent.
func TestUnknownExtraField(t *testing.T) {
	tests := []struct {
		name    string
		extra   map[string]any
		wantIs  error
		wantKey string
	}{
		{"prompt version of a gateway", map[string]any{"prompt_version_fqn": "acme:prompt:v3", "top_k": 5}, anth.ErrUnknownParameter, `"prompt_version_fqn"`},
		{"the adapter's own field", map[string]any{"messages": []any{}}, anth.ErrUnknownParameter, `"messages"`},
		{"a value that cannot be encoded", map[string]any{"metadata": make(chan int)}, nil, `"metadata"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			p := newProvider(t, srv)
			req := chatRequest()
			req.Extra = tt.extra
			_, err := p.Chat(t.Context(), req)
			if err == nil {
				t.Fatal("Chat error = nil; want the unknown key named")
			}
			for _, target := range []error{tt.wantIs, providers.ErrInvalidRequest} {
				if target != nil && !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			if _, ok := providers.FromError(err); ok {
				t.Errorf("error %v has a status; want a plain configuration error", err)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %s", err, tt.wantKey)
			}
			st, serr := p.ChatStream(t.Context(), req)
			if st != nil {
				st.Close()
			}
			if serr == nil || serr.Error() != err.Error() {
				t.Errorf("ChatStream error = %v; want %v", serr, err)
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("the server received %d requests; want none", n)
			}
		})
	}
}

// TestHeaders checks the headers of a request: the pinned API version,
// the credential, no retry count but 0, and the attempt's own headers
// set and removed.
func TestHeaders(t *testing.T) {
	tests := []struct {
		name string
		call providers.Call
		want map[string]string // "" means absent
	}{
		{
			name: "defaults",
			want: map[string]string{
				"Anthropic-Version":       anth.APIVersion,
				"Authorization":           "Bearer " + testKey,
				"X-Stainless-Retry-Count": "0",
				"X-Stainless-Timeout":     "",
				"Traceparent":             "",
				"Content-Type":            "application/json",
			},
		},
		{
			name: "set, replaced and removed",
			call: providers.Call{
				Header: http.Header{
					"X-Api-Version":   {"2"},
					"x-lower":         {"v"},
					"X-Debug":         {"1"},
					"X-Multi":         {"a", "b"},
					"Anthropic-Beta":  {"prompt-caching-2024-07-31"},
					"Accept-Language": {"fr"},
				},
				RemoveHeader: []string{"x-debug", "X-Stainless-Arch"},
			},
			want: map[string]string{
				"X-Api-Version":    "2",
				"X-Lower":          "v",
				"X-Debug":          "",
				"X-Multi":          "a,b",
				"Anthropic-Beta":   "prompt-caching-2024-07-31",
				"Accept-Language":  "fr",
				"X-Stainless-Arch": "",
				"Authorization":    "Bearer " + testKey,
			},
		},
		{
			name: "credential removed",
			call: providers.Call{RemoveHeader: []string{"Authorization"}},
			want: map[string]string{"Authorization": ""},
		},
		{
			name: "API version chosen by the attempt",
			call: providers.Call{Header: http.Header{"Anthropic-Version": {"2026-10-21"}}},
			want: map[string]string{"Anthropic-Version": "2026-10-21"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			p := newProvider(t, srv)
			req := chatRequest()
			req.Call = tt.call
			if _, err := p.Chat(t.Context(), req); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			h := srv.only(t).Header
			got := map[string]string{}
			for k := range tt.want {
				got[k] = strings.Join(h.Values(k), ",")
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("headers (-got +want):\n%s", diff)
			}
		})
	}
}
