package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

func decodeObject(b []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return m, true
}

func decodeValue(b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

func FuzzMergeExtra(f *testing.F) {
	f.Add(`{"model":"gpt-4o","temperature":0.5}`, "prompt_version_fqn", `"p:1"`)
	f.Add(`{"model":"gpt-4o","temperature":0.5}`, "temperature", `0.2`)
	f.Add(`{"a":{"b":[1,2,{"c":null}]}}`, "a", `{"x":1}`)
	f.Add(` { } `, "k", `not json`)
	f.Add(`{"a":1,"a":2}`, "a", `3`)
	f.Add(`[1]`, "k", `1`)
	f.Add(`{"a":1}x`, "k", `1`)
	f.Fuzz(func(t *testing.T, body, key, value string) {
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			t.Skip("json.Marshal rewrites invalid UTF-8")
		}
		var v any = value
		if json.Valid([]byte(value)) {
			v = json.RawMessage(value)
		}
		got, err := oai.MergeExtra([]byte(body), map[string]any{key: v})
		in, isObject := decodeObject([]byte(body))
		if isObject && err != nil {
			t.Fatalf("MergeExtra(%q) failed on a JSON object: %v", body, err)
		}
		if err != nil {
			return
		}
		out, ok := decodeObject(got)
		if !ok {
			t.Fatalf("MergeExtra(%q) = %q: not a JSON object", body, got)
		}
		if !isObject {
			t.Fatalf("MergeExtra accepted %q, which is not a JSON object", body)
		}
		enc, _ := json.Marshal(v)
		in[key] = decodeValue(enc)
		if diff := cmp.Diff(out, in); diff != "" {
			t.Errorf("MergeExtra(%q) (-got +want):\n%s", body, diff)
		}
	})
}

func FuzzScrubKeys(f *testing.F) {
	for _, s := range []string{"", "sk-", "key sk-abcdefghijklmnopqrstu", "ask-abcdefghijklmnopqrstuvw", "sk-sk-sk-0123456789012345678901"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := oai.ScrubKeys(s)
		if !strings.Contains(s, "sk-") && got != s {
			t.Errorf("ScrubKeys(%q) = %q changed text without a key", s, got)
		}
		if again := oai.ScrubKeys(got); again != got {
			t.Errorf("ScrubKeys not idempotent: %q then %q", got, again)
		}
	})
}

// FuzzStream feeds arbitrary bodies to the SSE reader through the public
// API: it must never panic or loop, must end with io.EOF only when the
// body had a [DONE] or a finish reason, and must fail only with
// *providers.Error.
func FuzzStream(f *testing.F) {
	seeds := []string{
		roleChunk + content("Hel") + content("lo") + finish("stop") + done,
		content("Hi") + finish("stop") + usageChunk,
		content("Hi") + `data: {"id":"chatcmpl-1","choi`,
		"data: " + apiError("Overloaded", "overloaded_error", nil) + "\n\n",
		"event: error\ndata: boom\n\n",
		`data: {"object":"error","message":"m","type":"t","code":400}` + "\n\n",
		apiError("Invalid key", "invalid_request_error", "invalid_api_key"),
		": ping\r\n\r\ndata:[DONE]",
		choice(0, "a", "") + choice(1, "b", "") + choice(0, "", "stop"),
		choice(-1, "a", "stop") + choice(5000, "b", ""),
		"\xEF\xBB\xBFdata: {}\n",
		"data: null\n\ndata: 1\n\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := memProvider(func(r *http.Request) (*http.Response, error) {
			return respond(r, 200, http.Header{"Content-Type": {"text/event-stream"}}, string(body)), nil
		})
		st, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: chatRequest()})
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer st.Close()
		finished := false
		for i := 0; ; i++ {
			if i > len(body) {
				t.Fatalf("%d chunks from %d bytes", i, len(body))
			}
			c, err := st.Recv()
			if err == nil {
				for _, ch := range c.Choices {
					finished = finished || ch.FinishReason != ""
				}
				continue
			}
			if err == io.EOF {
				if !bytes.Contains(body, []byte("[DONE]")) && !finished {
					t.Fatalf("io.EOF with neither [DONE] nor a finish reason: %q", body)
				}
			} else if _, ok := providers.AsError(err); !ok || errors.Is(err, io.EOF) {
				t.Fatalf("Recv error %v (%T); want a *providers.Error", err, err)
			}
			if _, again := st.Recv(); again != err {
				t.Fatalf("Recv after %v: %v", err, again)
			}
			return
		}
	})
}
