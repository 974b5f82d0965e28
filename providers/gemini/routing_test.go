package gemini_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	gem "github.com/llmroute/llmroute/providers/gemini"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// strictGemini is a Gemini-wire server that acts as Gemini 3 does with
// tool calls: the first turn answers with a function call carrying a
// thought signature; a later turn is refused (400) unless every function
// call it replays carries the signature Gemini sent.
func strictGemini(t *testing.T) *server {
	t.Helper()
	sig := base64.StdEncoding.EncodeToString(signature)
	return newServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		contents, _ := body["contents"].([]any)
		answer := func(v obj) {
			if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") {
				w.Header().Set("Content-Type", "text/event-stream")
				event(w, v)
				return
			}
			writeJSON(w, 200, v)
		}
		if len(contents) == 1 {
			answer(obj{
				"candidates": []any{obj{
					"content": obj{"role": "model", "parts": []any{
						obj{"functionCall": obj{"name": "get_weather", "args": obj{"city": "Paris"}}, "thoughtSignature": sig},
					}},
					"finishReason": "STOP",
				}},
				"responseId": "resp-turn-1",
			})
			return
		}
		for i, c := range contents {
			parts, _ := dig(c, "parts").([]any)
			for j, p := range parts {
				if dig(p, "functionCall") != nil && dig(p, "thoughtSignature") != sig {
					writeJSON(w, 400, apiErrorBody(400, "INVALID_ARGUMENT",
						fmt.Sprintf("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:get_weather` , position %d. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", i*10+j)))
					return
				}
			}
		}
		answer(answerText("It is 22°C and sunny in Paris."))
	})
}

// geminiClient is a routing Client whose virtual model "app/chat" is the
// gemini-main account's model, tried first, then openai-main's gpt-4o.
func geminiClient(t *testing.T, gemSrv *server, openaiURL string) *routing.Client {
	t.Helper()
	opts := []routing.Option{routing.WithProvider("gemini-main", providerFor(t, gemSrv.URL))}
	targets := []target.Target{{Ref: "gemini-main/gemini-3-pro", Priority: 0}}
	if openaiURL != "" {
		cfg := openai.DefaultConfig("sk-test-openai-key-0123456789abcdef")
		cfg.BaseURL = openaiURL + "/v1"
		cfg.HTTPClient = &http.Client{Transport: testTransport(t)}
		opts = append(opts, routing.WithProvider("openai-main", oai.New(cfg)))
		targets = append(targets, target.Target{Ref: "openai-main/gpt-4o", Priority: 1})
	}
	opts = append(opts, routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{{
		Name:    "chat",
		Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: targets},
	}}}))
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRoutingToolConversation runs a multi-turn tool conversation in
// go-openai types through the routing layer against a server that
// requires the thought signature: call, tool result, answer. A history
// whose call lost its signature is refused, which shows the server checks.
func TestRoutingToolConversation(t *testing.T) {
	srv := strictGemini(t)
	c := geminiClient(t, srv, "")
	req := openai.ChatCompletionRequest{
		Model:    "app/chat",
		Messages: []openai.ChatCompletionMessage{user("What is the weather in Paris?")},
		Tools: []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
		}}},
	}
	first, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	call := first.Choices[0].Message
	if first.Choices[0].FinishReason != openai.FinishReasonToolCalls || len(call.ToolCalls) != 1 {
		t.Fatalf("first turn: finish %q with %d tool calls, want tool_calls and 1", first.Choices[0].FinishReason, len(call.ToolCalls))
	}
	var args struct{ City string }
	if err := json.Unmarshal([]byte(call.ToolCalls[0].Function.Arguments), &args); err != nil || args.City != "Paris" {
		t.Fatalf("arguments %q, want the city Paris", call.ToolCalls[0].Function.Arguments)
	}

	req.Messages = append(req.Messages, call, openai.ChatCompletionMessage{
		Role: openai.ChatMessageRoleTool, ToolCallID: call.ToolCalls[0].ID, Content: `{"temperature_c":22,"sky":"sunny"}`,
	})
	var tr routing.Trace
	second, err := c.Chat(routing.WithTrace(context.Background(), &tr), req)
	if err != nil {
		t.Fatalf("second turn: %v", err)
	}
	if got := second.Choices[0].Message.Content; got != "It is 22°C and sunny in Paris." {
		t.Errorf("answer %q", got)
	}
	if tr.Resolved != "gemini-main/gemini-3-pro" || len(tr.Attempts) != 1 {
		t.Errorf("served by %q after %d attempts, want gemini-main/gemini-3-pro at once", tr.Resolved, len(tr.Attempts))
	}
	result := dig(srv.requests()[1].Body, "contents.2.parts.0.functionResponse")
	if diff := cmp.Diff(result, any(obj{"name": "get_weather", "response": obj{"temperature_c": 22.0, "sky": "sunny"}})); diff != "" {
		t.Errorf("function response (-got +want):\n%s", diff)
	}

	// The same history with the id rewritten, as a client that makes its
	// own ids would: the signature is lost and Gemini refuses the turn.
	lost := req
	lost.Messages = append([]openai.ChatCompletionMessage(nil), req.Messages...)
	lost.Messages[1].ToolCalls = []openai.ToolCall{call.ToolCalls[0]}
	lost.Messages[1].ToolCalls[0].ID = "call_mine"
	lost.Messages[2].ToolCallID = "call_mine"
	_, err = c.Chat(context.Background(), lost)
	var sc interface{ StatusCode() int }
	if !errors.As(err, &sc) || sc.StatusCode() != 400 || !strings.Contains(err.Error(), "thought_signature") {
		t.Errorf("a turn without the signature: %v, want Gemini's 400", err)
	}
}

// TestRoutingStreamedToolCall streams the first turn, rebuilds the
// assistant message from the deltas as an OpenAI client does, and sends
// the next turn: the streamed id carries the signature as well.
func TestRoutingStreamedToolCall(t *testing.T) {
	srv := strictGemini(t)
	c := geminiClient(t, srv, "")
	req := openai.ChatCompletionRequest{Model: "app/chat", Messages: []openai.ChatCompletionMessage{user("What is the weather in Paris?")}}
	s, err := c.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant}
	for {
		chunk, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range chunk.Choices[0].Delta.ToolCalls {
			i := *tc.Index
			for len(msg.ToolCalls) <= i {
				msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{Type: openai.ToolTypeFunction})
			}
			msg.ToolCalls[i].ID += tc.ID
			msg.ToolCalls[i].Function.Name += tc.Function.Name
			msg.ToolCalls[i].Function.Arguments += tc.Function.Arguments
		}
	}
	s.Close()
	if len(msg.ToolCalls) != 1 {
		t.Fatalf("%d tool calls streamed, want 1", len(msg.ToolCalls))
	}
	req.Messages = append(req.Messages, msg, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleTool, ToolCallID: msg.ToolCalls[0].ID, Content: "22C"})
	resp, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("second turn: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "It is 22°C and sunny in Paris." {
		t.Errorf("answer %q", got)
	}
}

// TestRoutingFallbackOnQuota checks that a Gemini 429 whose RetryInfo
// asks for 46s, longer than the caller's 10s deadline, moves the call to
// the next target at once, and that the Trace says why.
func TestRoutingFallbackOnQuota(t *testing.T) {
	gemSrv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		writeJSON(w, 429, apiErrorBody(429, "RESOURCE_EXHAUSTED",
			"You exceeded your current quota, please check your plan and billing details.",
			obj{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{obj{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}}},
			retryInfo("46s")))
	})
	openaiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Served by OpenAI."},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`)
	}))
	t.Cleanup(openaiSrv.Close)
	c := geminiClient(t, gemSrv, openaiSrv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var tr routing.Trace
	resp, err := c.Chat(routing.WithTrace(ctx, &tr), openai.ChatCompletionRequest{Model: "app/chat", Messages: []openai.ChatCompletionMessage{user("Hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Served by OpenAI." || tr.Resolved != "openai-main/gpt-4o" {
		t.Errorf("answer %q from %q, want OpenAI's", resp.Choices[0].Message.Content, tr.Resolved)
	}
	type attempt struct {
		Target string
		Try    int
		Status int
		Class  string
		Wait   time.Duration
	}
	var got []attempt
	for _, a := range tr.Attempts {
		got = append(got, attempt{a.Target, a.Try, a.Status, a.Class, a.Wait})
	}
	want := []attempt{
		{"gemini-main/gemini-3-pro", 1, 429, "fallback", 0},
		{"openai-main/gpt-4o", 1, 200, "ok", 0},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("attempts (-got +want):\n%s", diff)
	}
	if n := len(gemSrv.requests()); n != 1 {
		t.Errorf("Gemini saw %d requests, want 1: its 46s wait does not fit the deadline", n)
	}
	if len(tr.Attempts) > 0 {
		e := tr.Attempts[0].Err
		if !strings.Contains(fmt.Sprint(e), "RESOURCE_EXHAUSTED") || !strings.Contains(fmt.Sprint(e), "retry after 46s") {
			t.Errorf("first attempt's error %v, want RESOURCE_EXHAUSTED with its 46s delay", e)
		}
		if strings.Contains(errorTexts(e), testKey) {
			t.Errorf("the trace's error holds the key")
		}
	}
}

func TestRoutingPassesWhatGeminiCannotTakeToATargetThatCan(t *testing.T) {
	// Gemini takes images inline only; an image by http URL is refused
	// before anything is sent, held against no one, and the OpenAI
	// target behind it serves the call.
	gemSrv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		t.Error("Gemini was sent a request it cannot take")
	})
	openaiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-2","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"A cat."},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(openaiSrv.Close)
	c := geminiClient(t, gemSrv, openaiSrv.URL)
	var tr routing.Trace
	resp, err := c.Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{Model: "app/chat",
		Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://example.com/cat.png"}},
		}}}})
	if err != nil || resp.Choices[0].Message.Content != "A cat." {
		t.Fatalf("Chat = %v, %v; want OpenAI's answer", resp, err)
	}
	if len(tr.Attempts) != 2 || tr.Attempts[0].Class != "invalid" || tr.Attempts[1].Class != "ok" {
		t.Errorf("attempts %+v; want Gemini's refusal, then OpenAI", tr.Attempts)
	}
	var ie *gem.InputError
	if !errors.As(tr.Attempts[0].Err, &ie) || !strings.Contains(ie.Field, "image_url") {
		t.Errorf("Gemini's refusal %v; want an InputError naming the image", tr.Attempts[0].Err)
	}
}
