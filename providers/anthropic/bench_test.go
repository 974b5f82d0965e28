package anthropic_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
	oai "github.com/llmroute/llmroute/providers/openai"
)

// benchRequest is a typical agent turn: a system prompt, a short
// conversation with one tool call and its result, two tools.
func benchRequest() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model:       "claude-sonnet-4-5",
		MaxTokens:   1024,
		Temperature: 0.2,
		Tools:       []goopenai.Tool{weatherTool(), {Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "now", Description: "The time"}}},
		Messages: []goopenai.ChatCompletionMessage{
			msg(system, "You are a helpful travel assistant. Answer briefly."),
			msg(user, "What is the weather in Paris?"),
			{Role: assistant, ToolCalls: []goopenai.ToolCall{call("toolu_1", "get_weather", `{"city":"Paris"}`)}},
			{Role: tool, ToolCallID: "toolu_1", Content: `{"temp_c":18,"sky":"clear"}`},
			msg(assistant, "It is 18C and clear in Paris."),
			msg(user, "And should I take an umbrella tomorrow?"),
		},
	}
}

// BenchmarkTranslateRequest measures a go-openai request becoming the
// Messages API's parameters, then its JSON body as the SDK encodes it;
// next to it, go-openai encoding the same request, which is all the
// OpenAI adapter does to a request.
func BenchmarkTranslateRequest(b *testing.B) {
	req := benchRequest()
	b.Run("anthropic/translate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := anth.BuildParams(&req, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("anthropic/translate+encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := anth.BuildParams(&req, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("openai/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

const (
	anthropicDelta = `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather"}}`
	openaiDelta    = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" the weather"},"finish_reason":null}]}`
)

// BenchmarkStreamEvent measures one text delta becoming a chunk: the
// translation alone, and with the SDK's decoding of the event's data;
// next to it, go-openai's decoding of an OpenAI chunk, which is what the
// OpenAI adapter does per event.
func BenchmarkStreamEvent(b *testing.B) {
	var ev sdk.MessageStreamEventUnion
	if err := json.Unmarshal([]byte(anthropicDelta), &ev); err != nil {
		b.Fatal(err)
	}
	b.Run("anthropic/translate", func(b *testing.B) {
		var tr anth.EventTranslator
		b.ReportAllocs()
		for b.Loop() {
			chunks, err := tr.Translate(&ev)
			if err != nil || len(chunks) != 1 {
				b.Fatal(chunks, err)
			}
		}
	})
	b.Run("anthropic/decode+translate", func(b *testing.B) {
		var tr anth.EventTranslator
		data := []byte(anthropicDelta)
		b.ReportAllocs()
		for b.Loop() {
			var ev sdk.MessageStreamEventUnion
			if err := json.Unmarshal(data, &ev); err != nil {
				b.Fatal(err)
			}
			if chunks, err := tr.Translate(&ev); err != nil || len(chunks) != 1 {
				b.Fatal(chunks, err)
			}
		}
	})
	b.Run("openai/decode", func(b *testing.B) {
		data := []byte(openaiDelta)
		b.ReportAllocs()
		for b.Loop() {
			var c goopenai.ChatCompletionStreamResponse
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchDeltas is how many text deltas each benchmark stream carries.
const benchDeltas = 100

// BenchmarkStream measures whole streams of benchDeltas text deltas read
// through each adapter from an in-memory HTTP client, so only the
// client's work counts; chunk-ns is the time per chunk delivered.
func BenchmarkStream(b *testing.B) {
	events := append([]sse{}, evMessageStart(9), evTextStart(0))
	for range benchDeltas {
		events = append(events, evText(0, " the weather"))
	}
	events = append(events, evBlockStop(0), evMessageDelta("end_turn", benchDeltas), evMessageStop)
	claudeBody := sseBody(events...)
	var openaiBody strings.Builder
	for range benchDeltas {
		openaiBody.WriteString("data: " + openaiDelta + "\n\n")
	}
	openaiBody.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")

	sseResponse := func(body string) func(r *http.Request) (*http.Response, error) {
		return func(r *http.Request) (*http.Response, error) {
			return respond(r, http.StatusOK, http.Header{"Content-Type": {"text/event-stream"}}, body), nil
		}
	}
	claude := memProvider(sseResponse(claudeBody))
	cfg := goopenai.DefaultConfig("sk-bench")
	cfg.HTTPClient = doerFunc(sseResponse(openaiBody.String()))
	openai := oai.New(cfg)

	run := func(b *testing.B, p providers.Streamer) {
		req := chatRequest()
		ctx := context.Background()
		chunks := 0
		b.ReportAllocs()
		for b.Loop() {
			st, err := p.ChatStream(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := st.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				chunks++
			}
			st.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chunks), "chunk-ns")
	}
	b.Run("anthropic", func(b *testing.B) { run(b, claude) })
	b.Run("openai", func(b *testing.B) { run(b, openai) })
}

// BenchmarkChat measures one non-streaming call through each adapter from
// an in-memory HTTP client.
func BenchmarkChat(b *testing.B) {
	claude := memProvider(func(r *http.Request) (*http.Response, error) {
		return respond(r, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, helloJSON), nil
	})
	cfg := goopenai.DefaultConfig("sk-bench")
	cfg.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
		return respond(r, http.StatusOK, http.Header{"Content-Type": {"application/json"}},
			`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`), nil
	})
	openai := oai.New(cfg)
	req := providers.ChatRequest{Request: benchRequest()}
	for name, p := range map[string]providers.Provider{"anthropic": claude, "openai": openai} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
