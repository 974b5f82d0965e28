package anthropic_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// ignoreCreated compares responses without their creation time and
// headers.
var ignoreCreated = cmp.Options{
	cmpopts.IgnoreFields(goopenai.ChatCompletionResponse{}, "Created"),
	cmpopts.IgnoreUnexported(goopenai.ChatCompletionResponse{}),
}

func TestChatResponse(t *testing.T) {
	tests := []struct {
		name    string
		content string // the message's content blocks
		stop    string
		usage   string
		want    goopenai.ChatCompletionMessage
		finish  goopenai.FinishReason
		usageW  goopenai.Usage
	}{
		{
			name:    "text",
			content: `[{"type":"text","text":"Hello "},{"type":"text","text":"there!"}]`,
			stop:    "end_turn",
			usage:   `{"input_tokens":9,"output_tokens":3}`,
			want:    goopenai.ChatCompletionMessage{Role: "assistant", Content: "Hello there!"},
			finish:  goopenai.FinishReasonStop,
			usageW:  goopenai.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12},
		},
		{
			name: "thinking, text and tool calls; other blocks left out",
			content: `[{"type":"thinking","thinking":"The user wants weather.","signature":"sig"},` +
				`{"type":"redacted_thinking","data":"xxx"},` +
				`{"type":"text","text":"Checking both."},` +
				`{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}},` +
				`{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},` +
				`{"type":"tool_use","id":"toolu_2","name":"now","input":{}}]`,
			stop:  "tool_use",
			usage: `{"input_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":300,"output_tokens":50,"output_tokens_details":{"thinking_tokens":20}}`,
			want: goopenai.ChatCompletionMessage{
				Role: "assistant", Content: "Checking both.", ReasoningContent: "The user wants weather.",
				ToolCalls: []goopenai.ToolCall{
					{ID: "toolu_1", Type: goopenai.ToolTypeFunction, Function: goopenai.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}},
					{ID: "toolu_2", Type: goopenai.ToolTypeFunction, Function: goopenai.FunctionCall{Name: "now", Arguments: `{}`}},
				},
			},
			finish: goopenai.FinishReasonToolCalls,
			usageW: goopenai.Usage{
				PromptTokens: 2400, CompletionTokens: 50, TotalTokens: 2450,
				PromptTokensDetails:     &goopenai.PromptTokensDetails{CachedTokens: 2000},
				CompletionTokensDetails: &goopenai.CompletionTokensDetails{ReasoningTokens: 20},
			},
		},
		{
			name:    "an empty answer",
			content: `[]`,
			stop:    "max_tokens",
			usage:   `{"input_tokens":9,"output_tokens":0}`,
			want:    goopenai.ChatCompletionMessage{Role: "assistant"},
			finish:  goopenai.FinishReasonLength,
			usageW:  goopenai.Usage{PromptTokens: 9, TotalTokens: 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Request-Id", "req_resp")
				w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "49")
				writeJSON(w, http.StatusOK, messageJSON(tt.content, tt.stop, tt.usage))
			})
			p := newProvider(t, srv)
			before := time.Now().Unix()
			got, err := p.Chat(t.Context(), chatRequest())
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			want := goopenai.ChatCompletionResponse{
				ID:      "msg_01",
				Object:  "chat.completion",
				Model:   "claude-sonnet-4-5-20250929",
				Choices: []goopenai.ChatCompletionChoice{{Message: tt.want, FinishReason: tt.finish}},
				Usage:   tt.usageW,
			}
			if diff := cmp.Diff(got, want, ignoreCreated); diff != "" {
				t.Errorf("response (-got +want):\n%s", diff)
			}
			if got.Created < before {
				t.Errorf("Created = %d; want the time of the answer, at least %d", got.Created, before)
			}
			hdr := map[string]string{
				"Request-Id":                             got.Header().Get("Request-Id"),
				"Anthropic-Ratelimit-Requests-Remaining": got.Header().Get("Anthropic-Ratelimit-Requests-Remaining"),
			}
			if diff := cmp.Diff(hdr, map[string]string{"Request-Id": "req_resp", "Anthropic-Ratelimit-Requests-Remaining": "49"}); diff != "" {
				t.Errorf("response headers (-got +want):\n%s", diff)
			}
		})
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		stop string
		want goopenai.FinishReason
	}{
		{"end_turn", goopenai.FinishReasonStop},
		{"stop_sequence", goopenai.FinishReasonStop},
		{"max_tokens", goopenai.FinishReasonLength},
		{"model_context_window_exceeded", goopenai.FinishReasonLength},
		{"pause_turn", goopenai.FinishReasonLength},
		{"tool_use", goopenai.FinishReasonToolCalls},
		{"refusal", goopenai.FinishReasonContentFilter},
		{"a_future_reason", "a_future_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.stop, func(t *testing.T) {
			body := messageJSON(`[{"type":"text","text":"x"}]`, tt.stop, `{"input_tokens":1,"output_tokens":1}`)
			p := memProvider(func(r *http.Request) (*http.Response, error) {
				return respond(r, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, body), nil
			})
			resp, err := p.Chat(t.Context(), chatRequest())
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if diff := cmp.Diff(resp.Choices[0].FinishReason, tt.want); diff != "" {
				t.Errorf("finish reason (-got +want):\n%s", diff)
			}
		})
	}
}

// TestLargeMaxTokens checks that Chat sends a max_tokens the SDK would
// refuse to send without streaming: the ctx bounds the call, not a guess
// of how long the answer takes. A request timeout the caller set is kept.
func TestLargeMaxTokens(t *testing.T) {
	tests := []struct {
		name        string
		opts        []option.RequestOption
		wantTimeout string
	}{
		{name: "no request timeout of the caller's", wantTimeout: ""},
		{name: "the caller's request timeout", opts: []option.RequestOption{option.WithRequestTimeout(30 * time.Minute)}, wantTimeout: "1800"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, helloJSON) })
			p := newProvider(t, srv, tt.opts...)
			req := chatRequest()
			req.Request.MaxCompletionTokens = 64000
			if _, err := p.Chat(t.Context(), req); err != nil {
				t.Fatalf("Chat with max_completion_tokens 64000: %v", err)
			}
			got := srv.only(t)
			if diff := cmp.Diff(got.Body["max_tokens"], float64(64000)); diff != "" {
				t.Errorf("max_tokens (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Header.Get("X-Stainless-Timeout"), tt.wantTimeout); diff != "" {
				t.Errorf("X-Stainless-Timeout (-got +want):\n%s", diff)
			}
		})
	}
}

// TestNotAMessage checks success responses that are not a message.
func TestNotAMessage(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    providers.Error // without Err
	}{
		{
			name: "an error object sent with 200", contentType: "application/json",
			body: errorJSON("overloaded_error", "Overloaded"),
			want: providers.Error{Status: 503, Code: "overloaded_error", Type: "overloaded_error", Message: "Overloaded (request-id req_011)"},
		},
		{
			name: "JSON of another kind", contentType: "application/json",
			body: `{"type":"completion","completion":"hi"}`,
			want: providers.Error{Status: 502, Message: `response is not a message: {"type":"completion","completion":"hi"}`},
		},
		{
			name: "not JSON", contentType: "application/json",
			body: `<html>oops</html>`,
			want: providers.Error{Status: 502, Message: "the 200 response could not be read or decoded"},
		},
		{
			name: "a page", contentType: "text/html",
			body: `<html>maintenance</html>`,
			want: providers.Error{Status: 502, Message: "the 200 response could not be read or decoded"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := memProvider(func(r *http.Request) (*http.Response, error) {
				return respond(r, http.StatusOK, http.Header{"Content-Type": {tt.contentType}}, tt.body), nil
			})
			_, err := p.Chat(t.Context(), chatRequest())
			pe := asProviderError(t, err)
			if diff := cmp.Diff(*pe, tt.want, cmpopts.IgnoreFields(providers.Error{}, "Err")); diff != "" {
				t.Errorf("error %v (-got +want):\n%s", err, diff)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}
