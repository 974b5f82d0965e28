// Command cross-provider shows one assistant served by two providers with
// different wire formats, each the other's fallback. The virtual model
// "assistant/openai-first" (manifest.yaml) tries OpenAI first and Claude
// second; "assistant/claude-first" the reverse. Claude is called through
// its native adapter (package providers/anthropic, over Anthropic's
// official SDK), so each call speaks the Messages API, and its answers
// come back as go-openai responses like OpenAI's.
//
//	cd examples/cross-provider && go run .
//
// No network or API key is needed: the program starts two local servers,
// one speaking OpenAI's chat completions wire format and one Anthropic's
// Messages API, and sends real HTTP requests to them. While OpenAI is rate
// limited (429), every call to openai-first moves on to Claude at once;
// while Claude is overloaded (Anthropic's 529, which the adapter reports
// as a 503 with code overloaded_error), each call to claude-first retries
// Claude once and then OpenAI answers. After two such failures within two
// minutes a primary counts as unhealthy, so the calls after them start on
// the fallback, until a call finds the primary serving again. Calls
// alternate between Chat and ChatStream; a call counts as served only when
// its whole answer arrived.
// The program prints each call's answer and Trace (every attempt, with
// the provider's error code of those that failed) and a last line with
// the tally.
//
// To send the calls to the real APIs, register real accounts under the
// manifest's names:
//
//	c, err := routing.New(
//		routing.WithManifest(manifest),
//		routing.WithProvider("openai-main", oai.New(goopenai.DefaultConfig(os.Getenv("OPENAI_API_KEY")))),
//		routing.WithProvider("anthropic-main", anth.New(option.WithAPIKey(os.Getenv("ANTHROPIC_API_KEY")))),
//	)
//
// (oai is github.com/llmroute/llmroute/providers/openai, anth is
// github.com/llmroute/llmroute/providers/anthropic, option is
// github.com/anthropics/anthropic-sdk-go/v2/option.)
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
	"sync/atomic"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	goopenai "github.com/sashabaranov/go-openai"

	anth "github.com/llmroute/llmroute/providers/anthropic"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
)

//go:embed manifest.yaml
var manifest []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cross-provider:", err)
		os.Exit(1)
	}
}

// callsPerPhase is how many calls each phase sends.
const callsPerPhase = 5

// run starts the two local upstreams, sends the calls of both phases and
// prints what happened to w.
func run(w io.Writer) error {
	openaiUp, claudeUp := &openaiServer{}, &claudeServer{}
	openaiSrv, claudeSrv := httptest.NewServer(openaiUp), httptest.NewServer(claudeUp)
	defer openaiSrv.Close()
	defer claudeSrv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	cfg := goopenai.DefaultConfig("sk-local-openai-key")
	cfg.BaseURL = openaiSrv.URL + "/v1"
	cfg.HTTPClient = hc
	c, err := routing.New(
		routing.WithManifest(manifest),
		routing.WithProvider("openai-main", oai.New(cfg)),
		routing.WithProvider("anthropic-main", anth.New(
			option.WithAPIKey("sk-ant-local-key"),
			option.WithBaseURL(claudeSrv.URL),
			option.WithHTTPClient(hc),
		)),
	)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "OpenAI (%s) rate limited; calls to assistant/openai-first:\n", openaiSrv.URL)
	openaiUp.rateLimited.Store(true)
	byClaude, err := phase(w, c, "assistant/openai-first", "anthropic-main/claude-sonnet-4-5")
	if err != nil {
		return err
	}
	openaiUp.rateLimited.Store(false)

	fmt.Fprintf(w, "\nClaude (%s) overloaded; calls to assistant/claude-first:\n", claudeSrv.URL)
	claudeUp.overloaded.Store(true)
	byOpenAI, err := phase(w, c, "assistant/claude-first", "openai-main/gpt-4o")
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\nserved %d/%d calls by the Claude fallback while the OpenAI primary was rate limited; %d/%d by OpenAI while Claude was overloaded\n",
		byClaude, callsPerPhase, byOpenAI, callsPerPhase)
	return nil
}

// phase sends callsPerPhase calls to model, alternating Chat and
// ChatStream, and returns how many fallback served whole.
func phase(w io.Writer, c *routing.Client, model, fallback string) (int, error) {
	served := 0
	for i := range callsPerPhase {
		var tr routing.Trace
		ctx := routing.WithTrace(context.Background(), &tr)
		req := goopenai.ChatCompletionRequest{
			Model:    model,
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Summarise my order status."}},
		}
		kind := "chat"
		var answer string
		var err error
		if i%2 == 1 {
			kind = "stream"
			answer, err = stream(ctx, c, req)
		} else {
			var resp goopenai.ChatCompletionResponse
			resp, err = c.Chat(ctx, req)
			if err == nil {
				answer = resp.Choices[0].Message.Content
			}
		}
		var rerr *routing.Error
		var serr *routing.StreamError
		if err != nil && !errors.As(err, &rerr) && !errors.As(err, &serr) {
			return 0, err // not a provider failure: a setup problem
		}
		fmt.Fprintf(w, "  call %d (%s): ", i+1, kind)
		if err != nil {
			fmt.Fprintf(w, "failed: %v\n", err)
		} else {
			fmt.Fprintf(w, "%q\n", answer)
		}
		// %+v adds each failed attempt's error, with the provider's
		// error code; the width keeps the attempts under the call.
		fmt.Fprintf(w, "    %+4v\n", &tr)
		if err == nil && tr.Resolved == fallback && answer == answerOf(fallback[strings.Index(fallback, "/")+1:]) {
			served++
		}
	}
	return served, nil
}

// stream reads a whole streamed answer; a stream that breaks is an error,
// never a shorter answer.
func stream(ctx context.Context, c *routing.Client, req goopenai.ChatCompletionRequest) (string, error) {
	st, err := c.ChatStream(ctx, req)
	if err != nil {
		return "", err
	}
	defer st.Close()
	var b strings.Builder
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		for _, ch := range chunk.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
}

// answerOf is what each model answers.
func answerOf(model string) string { return "Your order ships tomorrow (" + model + ")." }

// openaiServer speaks OpenAI's chat completions API.
type openaiServer struct{ rateLimited atomic.Bool }

func (s *openaiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if s.rateLimited.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		return
	}
	text, _ := json.Marshal(answerOf(req.Model))
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":%d,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}`,
			time.Now().Unix(), req.Model, text)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, word := range strings.SplitAfter(answerOf(req.Model), " ") {
		piece, _ := json.Marshal(word)
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}\n\n", req.Model, piece)
	}
	fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", req.Model)
}

// claudeServer speaks Anthropic's Messages API.
type claudeServer struct{ overloaded atomic.Bool }

func (s *claudeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/messages" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Request-Id", "req_local")
	if s.overloaded.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(529)
		fmt.Fprint(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_local"}`)
		return
	}
	text, _ := json.Marshal(answerOf(req.Model))
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":8}}`,
			req.Model, text)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	event := func(name, data string) { fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data) }
	event("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`, req.Model))
	event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	for _, word := range strings.SplitAfter(answerOf(req.Model), " ") {
		piece, _ := json.Marshal(word)
		event("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}`, piece))
	}
	event("content_block_stop", `{"type":"content_block_stop","index":0}`)
	event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":8}}`)
	event("message_stop", `{"type":"message_stop"}`)
}
