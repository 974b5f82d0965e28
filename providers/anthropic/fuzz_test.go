package anthropic_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
)

// FuzzStream feeds arbitrary bodies to a stream: it never panics, it
// ends, it ends with io.EOF only after a message_stop event, and every
// other end is a *providers.Error.
func FuzzStream(f *testing.F) {
	f.Add(sseBody(helloStream()...))
	f.Add(sseBody(helloStream()[:4]...))
	f.Add(sseBody(evMessageStart(1), sse{"error", errorJSON("overloaded_error", "Overloaded")}))
	f.Add("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":99999999999,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n")
	f.Add("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":-1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}}\n\n")
	f.Add("data: [DONE]\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		p := memProvider(func(r *http.Request) (*http.Response, error) {
			return respond(r, http.StatusOK, http.Header{"Content-Type": {"text/event-stream"}}, body), nil
		})
		st, err := p.ChatStream(t.Context(), chatRequest())
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer st.Close()
		for range 100000 {
			_, err := st.Recv()
			if err == nil {
				continue
			}
			if err == io.EOF {
				if !strings.Contains(body, "message_stop") {
					t.Fatalf("io.EOF from a body without message_stop: %q", body)
				}
				return
			}
			if _, ok := providers.AsError(err); !ok {
				t.Fatalf("Recv error %v (%T) is not a *providers.Error", err, err)
			}
			if errors.Is(err, io.EOF) {
				t.Fatalf("Recv error %v matches io.EOF", err)
			}
			return
		}
		t.Fatal("the stream did not end")
	})
}

// FuzzRequest translates requests with arbitrary text where callers put
// text: it never panics, and a refusal is a 400 naming a field.
func FuzzRequest(f *testing.F) {
	f.Add("Hi", `{"city":"Paris"}`, "https://example.com/a.png", "END", "auto")
	f.Add("", "", "data:image/png;base64,", " ", "required")
	f.Add("x", "[1]", "data:;base64,xx", "\n", "none")
	f.Add("x", `{"a":`, "javascript:alert(1)", "", "get_weather")
	f.Fuzz(func(t *testing.T, text, args, imageURL, stop, choice string) {
		req := goopenai.ChatCompletionRequest{
			Model: "claude-sonnet-4-5",
			Stop:  []string{stop},
			Tools: []goopenai.Tool{weatherTool()},
			Messages: []goopenai.ChatCompletionMessage{
				{Role: user, Content: text, MultiContent: []goopenai.ChatMessagePart{{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: imageURL}}}},
				{Role: assistant, Content: text, ToolCalls: []goopenai.ToolCall{call("toolu_1", "get_weather", args)}},
				{Role: tool, ToolCallID: "toolu_1", Content: text},
				{Role: assistant, Content: text},
			},
			ToolChoice: choice,
		}
		_, err := anth.BuildParams(&req, nil)
		if err == nil {
			return
		}
		pe, ok := providers.AsError(err)
		if !ok || pe.Status != http.StatusBadRequest || pe.Code != anth.CodeClientValidation || !strings.Contains(pe.Message, ":") {
			t.Fatalf("refusal %v; want a 400 naming a field", err)
		}
	})
}

// FuzzScrubKeys checks that no key-shaped run survives redaction, and
// that redacting twice changes nothing more.
func FuzzScrubKeys(f *testing.F) {
	f.Add("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 leaked")
	f.Add("sk-ant-sk-ant-api03-abcdefghijklmnopqrstuvwxyz")
	f.Add("sk-ant-short and sk-ant-")
	f.Fuzz(func(t *testing.T, s string) {
		out := anth.ScrubKeys(s)
		if again := anth.ScrubKeys(out); again != out {
			t.Fatalf("ScrubKeys is not idempotent: %q then %q", out, again)
		}
		for i := strings.Index(out, "sk-ant-"); i >= 0; {
			j := i + len("sk-ant-")
			n := 0
			for j < len(out) && isKeyByte(out[j]) {
				j++
				n++
			}
			if n >= 20 {
				t.Fatalf("a key survived in %q (from %q)", out, s)
			}
			k := strings.Index(out[i+1:], "sk-ant-")
			if k < 0 {
				break
			}
			i += 1 + k
		}
	})
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
