package gemini_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// signature is a thought signature as Gemini 3 sends it: opaque bytes,
// base64 in JSON.
var signature = []byte("\x12\x34opaque-thought-signature\xff\x00\xfe")

// callsAnswer is a response with two parallel function calls, the first
// carrying a thought signature, as Gemini 3 sends them.
func callsAnswer(responseID string, firstID string) obj {
	first := obj{"name": "get_weather", "args": obj{"city": "Paris"}}
	if firstID != "" {
		first["id"] = firstID
	}
	return obj{
		"candidates": []any{obj{
			"content": obj{"role": "model", "parts": []any{
				obj{"functionCall": first, "thoughtSignature": base64.StdEncoding.EncodeToString(signature)},
				obj{"functionCall": obj{"name": "get_time", "args": obj{"city": "Rome"}}},
			}},
			"finishReason": "STOP",
		}},
		"responseId": responseID,
	}
}

var toolIDPattern = regexp.MustCompile(`^call_[0-9a-f]{16}(_[A-Za-z0-9_-]+)?$`)

// TestToolCallIDs checks the ids given to Gemini's function calls: of a
// form every provider accepts, distinct within a response, and the same
// every time for the same response.
func TestToolCallIDs(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		writeJSON(w, 200, callsAnswer("resp-1", ""))
	})
	p := newProvider(t, srv)
	var ids [2][]string
	for i := range ids {
		resp, err := p.Chat(context.Background(), userSays("m", "Weather?"))
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.FinishReason != openai.FinishReasonToolCalls {
			t.Errorf("finish reason %q, want tool_calls", c.FinishReason)
		}
		gotCalls := []openai.FunctionCall{c.Message.ToolCalls[0].Function, c.Message.ToolCalls[1].Function}
		wantCalls := []openai.FunctionCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}, {Name: "get_time", Arguments: `{"city":"Rome"}`}}
		if diff := cmp.Diff(gotCalls, wantCalls); diff != "" {
			t.Errorf("calls (-got +want):\n%s", diff)
		}
		for _, tc := range c.Message.ToolCalls {
			if !toolIDPattern.MatchString(tc.ID) || tc.Type != openai.ToolTypeFunction {
				t.Errorf("tool call %q of type %q, want an id matching %v and type function", tc.ID, tc.Type, toolIDPattern)
			}
			ids[i] = append(ids[i], tc.ID)
		}
	}
	if ids[0][0] == ids[0][1] {
		t.Errorf("both calls have id %q", ids[0][0])
	}
	if diff := cmp.Diff(ids[0], ids[1]); diff != "" {
		t.Errorf("ids of the same response differ between calls (-first +second):\n%s", diff)
	}
}

// TestThoughtSignatureRoundTrip checks that a multi-turn tool conversation
// in go-openai types (serialised to JSON in between, as a client that
// stores its history does) sends Gemini back each call with its thought
// signature and each result with its function's name.
func TestThoughtSignatureRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		upstream string // the id Gemini gave the first call, if any
	}{
		{"the Gemini API gives no call ids", ""},
		{"an upstream call id is sent back", "fc-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
				if len(body["contents"].([]any)) == 1 {
					writeJSON(w, 200, callsAnswer("resp-1", tt.upstream))
					return
				}
				writeJSON(w, 200, answerText("Paris is sunny; it is 14:00 in Rome."))
			})
			p := newProvider(t, srv)
			req := userSays("gemini-3-pro", "Weather in Paris, time in Rome?")
			first, err := p.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			msgs := append(req.Request.Messages, first.Choices[0].Message)
			for _, tc := range first.Choices[0].Message.ToolCalls {
				msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleTool, ToolCallID: tc.ID, Content: "result of " + tc.Function.Name})
			}
			raw, err := json.Marshal(msgs)
			if err != nil {
				t.Fatal(err)
			}
			var history []openai.ChatCompletionMessage
			if err := json.Unmarshal(raw, &history); err != nil {
				t.Fatal(err)
			}
			second, err := p.Chat(context.Background(), providers.ChatRequest{Request: openai.ChatCompletionRequest{Model: "gemini-3-pro", Messages: history}})
			if err != nil {
				t.Fatal(err)
			}
			if got := second.Choices[0].Message.Content; got != "Paris is sunny; it is 14:00 in Rome." {
				t.Errorf("answer %q", got)
			}

			contents := srv.requests()[1].Body["contents"]
			firstCall := obj{"name": "get_weather", "args": obj{"city": "Paris"}}
			firstResponse := obj{"name": "get_weather", "response": obj{"output": "result of get_weather"}}
			if tt.upstream != "" {
				firstCall["id"] = tt.upstream
				firstResponse["id"] = tt.upstream
			}
			want := []any{
				obj{"role": "user", "parts": []any{obj{"text": "Weather in Paris, time in Rome?"}}},
				obj{"role": "model", "parts": []any{
					obj{"functionCall": firstCall, "thoughtSignature": base64.StdEncoding.EncodeToString(signature)},
					obj{"functionCall": obj{"name": "get_time", "args": obj{"city": "Rome"}}},
				}},
				obj{"role": "user", "parts": []any{
					obj{"functionResponse": firstResponse},
					obj{"functionResponse": obj{"name": "get_time", "response": obj{"output": "result of get_time"}}},
				}},
			}
			if diff := cmp.Diff(contents, any(want)); diff != "" {
				t.Errorf("second turn's contents (-got +want):\n%s", diff)
			}
		})
	}
}

// TestForeignToolCallIDs checks a history whose tool calls came from
// another provider: their ids are not Gemini's and are not sent, but the
// results still find their functions' names.
func TestForeignToolCallIDs(t *testing.T) {
	srv := newServer(t, nil)
	p := newProvider(t, srv)
	for _, id := range []string{"call_abc123", "call_0123456789abcdef_!!!", "call_0123456789abcdef_AQ", "toolu_01A"} {
		req := providers.ChatRequest{Request: openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{
			user("Hi"),
			{Role: "assistant", ToolCalls: []openai.ToolCall{{ID: id, Type: "function", Function: openai.FunctionCall{Name: "f", Arguments: "{}"}}}},
			{Role: "tool", ToolCallID: id, Content: "ok"},
		}}}
		if _, err := p.Chat(context.Background(), req); err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
	}
	for i, r := range srv.requests() {
		contents := r.Body["contents"]
		got := []any{dig(contents, "1.parts.0"), dig(contents, "2.parts.0")}
		want := []any{obj{"functionCall": obj{"name": "f"}}, obj{"functionResponse": obj{"name": "f", "response": obj{"output": "ok"}}}}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("request %d (-got +want):\n%s", i, diff)
		}
	}
}
