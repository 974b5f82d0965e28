package gemini_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// TestKeysNeverInErrors plants a sentinel key with servers that echo it
// back every way they can, and checks every rendering of every error in
// the chain (%v, %+v, %#v) for it.
func TestKeysNeverInErrors(t *testing.T) {
	const overrideKey = "AIzaSyOVERRIDE-KEY-0123456789abcdefghij"
	const strangerKey = "AIzaSySTRANGER-KEY-0123456789abcdefghij"
	echo := func(r *http.Request) string {
		return "key " + r.Header.Get("X-Goog-Api-Key") + " and " + strangerKey
	}
	tests := []struct {
		name   string
		stream bool
		embed  bool
		header http.Header
		handle func(w http.ResponseWriter, r *http.Request)
	}{
		{"in an error object's message and details", false, false, nil, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, apiErrorBody(400, "INVALID_ARGUMENT", "API key not valid: "+echo(r),
				obj{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "metadata": obj{"key": echo(r)}}))
		}},
		{"in a status name", false, false, nil, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, obj{"error": obj{"code": 400, "message": "m", "status": r.Header.Get("X-Goog-Api-Key")}})
		}},
		{"in a plain-text body", false, false, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(403)
			_, _ = io.WriteString(w, "forbidden for "+echo(r))
		}},
		{"in an undecodable success body", false, false, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"candidates": "`+echo(r)+`"`)
		}},
		{"in a mid-stream error", true, false, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			event(w, textChunk("Hi", answer))
			event(w, apiErrorBody(503, "UNAVAILABLE", echo(r)))
		}},
		{"in a malformed stream event", true, false, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {"+echo(r)+"\r\n\r\n")
		}},
		{"in a stream's error answer", true, false, nil, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 429, apiErrorBody(429, "RESOURCE_EXHAUSTED", echo(r)))
		}},
		{"an override's key", false, false, http.Header{"X-Goog-Api-Key": {overrideKey}}, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, apiErrorBody(401, "UNAUTHENTICATED", echo(r)))
		}},
		{"in an embeddings error", false, true, nil, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, apiErrorBody(400, "INVALID_ARGUMENT", echo(r)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) { tt.handle(w, r) })
			p := newProvider(t, srv)
			req := userSays("m", "Hi")
			req.Header = tt.header
			var err error
			switch {
			case tt.embed:
				_, err = p.Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "e", Input: "x"}})
			case tt.stream:
				var s providers.Stream
				s, err = p.ChatStream(context.Background(), req)
				if err == nil {
					_, err = drain(t, s)
					s.Close()
				}
			default:
				_, err = p.Chat(context.Background(), req)
			}
			if _, ok := providers.AsError(err); !ok {
				t.Fatalf("got %v, want a *providers.Error", err)
			}
			texts := errorTexts(err)
			for _, key := range []string{testKey, overrideKey, strangerKey} {
				if strings.Contains(texts, key) {
					t.Errorf("a key appears in the error:\n%s", texts)
				}
			}
			if !strings.Contains(texts, "[REDACTED]") {
				t.Errorf("nothing was redacted, so the test did not plant a key:\n%s", texts)
			}
		})
	}
}

// TestKeysNeverInInputErrors checks the errors made before sending.
func TestKeysNeverInInputErrors(t *testing.T) {
	p := newProvider(t, newServer(t, nil))
	req := userSays("m", "Hi")
	req.Extra = map[string]any{"api_key": testKey}
	_, err := p.Chat(context.Background(), req)
	if err == nil || strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), testKey) {
		t.Errorf("got %v, want an error without the key", err)
	}
}
