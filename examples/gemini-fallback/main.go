// Command gemini-fallback routes a virtual model whose first target is
// Google Gemini, through the native Gemini adapter (providers/gemini),
// with OpenAI behind it. The virtual model "research-assistant/chat"
// (manifest.yaml) meets Gemini's usual failures:
//
//   - its quota spent: 429 RESOURCE_EXHAUSTED with a retry delay of 46 s in
//     the error's RetryInfo detail, longer than the caller's 10 s deadline,
//     so the call moves to OpenAI at once instead of waiting;
//   - overloaded: 503 UNAVAILABLE, retried once after a short delay;
//   - an input longer than its context window: a 400 the adapter gives the
//     code context_length_exceeded, which the manifest falls back on.
//
// Then a tool conversation with Gemini 3: the model calls a function, the
// caller runs it and sends the result back in go-openai types, and Gemini
// answers. Gemini 3 refuses that second turn unless the function call it
// made comes back with its thought signature; the adapter carries the
// signature in the tool call's id, so it does.
//
//	go run .   (in examples/gemini-fallback: it is a module of its own)
//
// Both upstreams are local servers speaking the real wire formats
// (Gemini's generateContent, OpenAI's chat completions), so no network or
// API key is needed. Each call prints its answer and its Trace (every
// attempt: target, try, status, what the router decided, the wait before
// it, and the error, with Gemini's status name and retry delay), and the
// last line sums up.
//
// For real endpoints, register real accounts under the manifest's names:
//
//	gemini, err := gem.New(ctx, &genai.ClientConfig{
//		APIKey:  os.Getenv("GEMINI_API_KEY"),
//		Backend: genai.BackendGeminiAPI,
//	})
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("gemini-main", gemini),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//	)
//
// (gem is github.com/llmroute/llmroute/providers/gemini, genai is
// google.golang.org/genai, oai is github.com/llmroute/llmroute/providers/openai,
// goopenai is github.com/sashabaranov/go-openai.)
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	gem "github.com/llmroute/llmroute/providers/gemini"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

const (
	geminiRef = "gemini-main/gemini-3-pro-preview"
	openaiRef = "openai-main/gpt-4o"
	// quotaDelay is the retry delay Gemini's spent quota asks for.
	quotaDelay = 46 * time.Second
	// deadline is how long each caller waits for its answer.
	deadline = 10 * time.Second
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gemini-fallback:", err)
		os.Exit(1)
	}
}

// scene is what Gemini does with the calls of one step.
type scene struct {
	what   string
	gemini []mode // one per request Gemini receives; the last repeats
	tools  bool   // a two-turn tool conversation rather than one call
}

// run sends the scenes' calls through research-assistant/chat and prints
// what happened to w.
func run(w io.Writer) error {
	gemSrv := newGeminiServer()
	defer gemSrv.Close()
	openaiSrv := newOpenAIServer()
	defer openaiSrv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	gemini, err := gem.New(context.Background(), &genai.ClientConfig{
		APIKey:      "local-demo-key",
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  &http.Client{Transport: tr},
		HTTPOptions: genai.HTTPOptions{BaseURL: gemSrv.URL},
	})
	if err != nil {
		return err
	}
	cfg := goopenai.DefaultConfig("local-demo-key")
	cfg.BaseURL = openaiSrv.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: tr}
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("gemini-main", gemini),
		routing.WithProvider("openai-main", oai.New(cfg)),
	)
	if err != nil {
		return err
	}

	scenes := []scene{
		{what: "Gemini within its quota", gemini: []mode{answer}},
		{what: "Gemini's quota spent: 429 RESOURCE_EXHAUSTED, retry in 46s", gemini: []mode{quotaSpent}},
		{what: "Gemini overloaded once: 503 UNAVAILABLE", gemini: []mode{overloaded, answer}},
		{what: "an input longer than Gemini's context window", gemini: []mode{tooLong}},
		{what: "a tool conversation with Gemini 3", gemini: []mode{toolCall, signedAnswer}, tools: true},
	}

	fmt.Fprintf(w, "virtual model research-assistant/chat: priority %s, %s\n", geminiRef, openaiRef)
	served := map[string]int{}
	calls, longestWait := 0, time.Duration(0)
	signatureBack := false
	for _, s := range scenes {
		gemSrv.script(s.gemini...)
		fmt.Fprintf(w, "\n%s:\n", s.what)
		turns := 1
		if s.tools {
			turns = 2
		}
		var history []goopenai.ChatCompletionMessage
		for turn := 1; turn <= turns; turn++ {
			req := request(s, history)
			var tr routing.Trace
			ctx, cancel := context.WithTimeout(routing.WithTrace(context.Background(), &tr), deadline)
			resp, err := c.Chat(ctx, req)
			cancel()
			var rerr *routing.Error
			if err != nil && !errors.As(err, &rerr) {
				return err // not a provider failure: a setup problem
			}
			calls++
			label := "call"
			if s.tools {
				label = fmt.Sprintf("turn %d", turn)
			}
			printCall(w, label, &tr, resp, err)
			for _, a := range tr.Attempts {
				longestWait = max(longestWait, a.Wait)
			}
			if err != nil {
				break
			}
			served[tr.Resolved]++
			msg := resp.Choices[0].Message
			history = append(req.Messages, msg)
			for _, tc := range msg.ToolCalls {
				history = append(history, goopenai.ChatCompletionMessage{
					Role: goopenai.ChatMessageRoleTool, ToolCallID: tc.ID, Content: `{"temperature_c":22,"sky":"sunny"}`,
				})
			}
			if s.tools && turn == 2 && tr.Resolved == geminiRef {
				signatureBack = true
			}
		}
	}

	total := served[geminiRef] + served[openaiRef]
	// The callers' deadline is shorter than quotaDelay, so a router that
	// honoured the quota's delay would wait until the deadline, never the
	// full 46s: any wait of a second or more is that (the overload's
	// retry waits about 200ms).
	waited := "was never waited out"
	if longestWait >= time.Second {
		waited = fmt.Sprintf("was waited on for %v", longestWait.Round(time.Millisecond))
	}
	signature := "came back on the tool turn"
	if !signatureBack {
		signature = "did not come back"
	}
	fmt.Fprintf(w, "\nserved %d/%d calls: gemini-main %d, openai-main %d; Gemini's 46s quota delay %s; its thought signature %s\n",
		total, calls, served[geminiRef], served[openaiRef], waited, signature)
	return nil
}

// request is a scene's next call: the question, or the conversation so
// far with the tool's result.
func request(s scene, history []goopenai.ChatCompletionMessage) goopenai.ChatCompletionRequest {
	req := goopenai.ChatCompletionRequest{Model: "research-assistant/chat"}
	switch {
	case s.tools:
		req.Tools = []goopenai.Tool{{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
			Name:        "get_weather",
			Description: "Current weather in a city",
			Parameters:  json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
		}}}
		req.Messages = history
		if len(history) == 0 {
			req.Messages = []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "What is the weather in Paris?"}}
		}
	default:
		req.Messages = []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Summarise the attached paper."}}
	}
	return req
}

// printCall prints one call's outcome, then its Trace: every attempt,
// with the error of those that failed (Gemini's status name, and the
// retry delay it asked for).
func printCall(w io.Writer, label string, tr *routing.Trace, resp goopenai.ChatCompletionResponse, err error) {
	fmt.Fprintf(w, "  %s: ", label)
	switch {
	case err != nil:
		fmt.Fprintf(w, "failed: %v\n", err)
	case len(resp.Choices[0].Message.ToolCalls) > 0:
		tc := resp.Choices[0].Message.ToolCalls[0]
		fmt.Fprintf(w, "call %s(%s), finish %s\n", tc.Function.Name, tc.Function.Arguments, resp.Choices[0].FinishReason)
	default:
		fmt.Fprintf(w, "%q\n", resp.Choices[0].Message.Content)
	}
	fmt.Fprintf(w, "    %+4v\n", tr)
}

// mode is what the Gemini server does with one request.
type mode int

const (
	answer       mode = iota // a text answer
	quotaSpent               // 429 RESOURCE_EXHAUSTED, retry in 46s
	overloaded               // 503 UNAVAILABLE
	tooLong                  // 400: the input exceeds the context window
	toolCall                 // a function call with a thought signature
	signedAnswer             // an answer, if the function call came back signed; else 400
)

// signature is the thought signature the Gemini server hands out with its
// function call, and wants back.
var signature = []byte("gemini-3-thought-signature:b7e1")

// geminiServer is a local server speaking the Gemini API's wire format.
type geminiServer struct {
	*httptest.Server
	mu    sync.Mutex
	modes []mode
}

// script sets what the next requests get.
func (s *geminiServer) script(modes ...mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes = modes
}

// next is the mode of the next request: the script's next, its last once
// the script has run out.
func (s *geminiServer) next() mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.modes[0]
	if len(s.modes) > 1 {
		s.modes = s.modes[1:]
	}
	return m
}

func newGeminiServer() *geminiServer {
	s := &geminiServer{modes: []mode{answer}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Contents []struct {
				Parts []struct {
					FunctionCall     *json.RawMessage `json:"functionCall"`
					ThoughtSignature []byte           `json:"thoughtSignature"`
				} `json:"parts"`
			} `json:"contents"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			geminiError(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
			return
		}
		switch s.next() {
		case answer:
			geminiAnswer(w, map[string]any{"text": "Here is a summary: ..."}, "STOP")
		case quotaSpent:
			geminiError(w, 429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.",
				map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": fmt.Sprintf("%.0fs", quotaDelay.Seconds())})
		case overloaded:
			geminiError(w, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
		case tooLong:
			geminiError(w, 400, "INVALID_ARGUMENT", "The input token count (1310720) exceeds the maximum number of tokens allowed (1048576).")
		case toolCall:
			geminiAnswer(w, map[string]any{
				"functionCall":     map[string]any{"name": "get_weather", "args": map[string]any{"city": "Paris"}},
				"thoughtSignature": signature,
			}, "STOP")
		case signedAnswer:
			for _, c := range body.Contents {
				for _, p := range c.Parts {
					if p.FunctionCall != nil && string(p.ThoughtSignature) != string(signature) {
						geminiError(w, 400, "INVALID_ARGUMENT", "Function call is missing a thought_signature in functionCall parts.")
						return
					}
				}
			}
			geminiAnswer(w, map[string]any{"text": "It is 22°C and sunny in Paris."}, "STOP")
		}
	}))
	return s
}

// geminiAnswer writes a generateContent response with one part.
func geminiAnswer(w http.ResponseWriter, part map[string]any, finish string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": []any{part}},
			"finishReason": finish,
		}},
		"usageMetadata": map[string]any{"promptTokenCount": 40, "candidatesTokenCount": 12, "totalTokenCount": 52},
		"modelVersion":  "gemini-3-pro-preview",
		"responseId":    "local-response",
	})
}

// geminiError writes a Gemini error object.
func geminiError(w http.ResponseWriter, code int, status, message string, details ...any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	e := map[string]any{"code": code, "message": message, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// newOpenAIServer is a local server speaking OpenAI's chat completions.
func newOpenAIServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-local","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Summary by OpenAI: ..."},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":40,"completion_tokens":9,"total_tokens":49}}`)
	}))
}
