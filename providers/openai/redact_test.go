package openai_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

// assertNoSecret fails if secret appears anywhere in err: its text in
// every format, the text of every error it wraps, or the fields of a
// go-openai error found with errors.As.
func assertNoSecret(t *testing.T, err error, secret string) {
	t.Helper()
	if err == nil {
		t.Fatal("nil error")
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if got := fmt.Sprintf(format, err); strings.Contains(got, secret) {
			t.Errorf("Sprintf(%q, err) contains the secret: %s", format, got)
		}
	}
	walk(err, func(e error) {
		if strings.Contains(e.Error(), secret) {
			t.Errorf("wrapped %T contains the secret: %s", e, e.Error())
		}
	})
	var apiErr *goopenai.APIError
	if errors.As(err, &apiErr) && strings.Contains(fmt.Sprintf("%+v", *apiErr), secret) {
		t.Errorf("APIError contains the secret: %+v", *apiErr)
	}
	var reqErr *goopenai.RequestError
	if errors.As(err, &reqErr) && strings.Contains(string(reqErr.Body), secret) {
		t.Errorf("RequestError body contains the secret: %s", reqErr.Body)
	}
}

// walk calls f for err and every error it wraps.
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, f)
		}
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const otherKey = "sk-proj-OTHERSENTINEL9876543210zyxw"
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    providers.Call
		secret  string
		stream  bool
		// hidden: the secret was only in a wrapped error's fields, so
		// the message has no marker to show.
		hidden bool
	}{
		{
			name: "echoed in a JSON error body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(401)
				_, _ = io.WriteString(w, apiError("Incorrect API key provided: "+testKey+". Header was "+r.Header.Get("Authorization"), "invalid_request_error", "invalid_api_key"))
			},
			secret: testKey,
		},
		{
			name: "echoed in the code and type",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, apiError("m", testKey, testKey))
			},
			secret: testKey,
		},
		{
			name: "echoed in a non-JSON error body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(502)
				_, _ = io.WriteString(w, "<html>upstream refused "+r.Header.Get("Authorization")+"</html>")
			},
			secret: testKey,
		},
		{
			name: "echoed in a malformed HTTP response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				defer conn.Close()
				_, _ = buf.WriteString("HTTP/1.1 " + testKey + " Broken\r\n\r\n")
				_ = buf.Flush()
			},
			secret: testKey,
		},
		{
			name: "echoed in the status line of a JSON error",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				defer conn.Close()
				body := apiError("no", "invalid_request_error", "invalid_api_key")
				_, _ = fmt.Fprintf(buf, "HTTP/1.1 401 bad %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
					r.Header.Get("Authorization"), len(body), body)
				_ = buf.Flush()
			},
			secret: testKey,
			hidden: true,
		},
		{
			name: "credential from the attempt's headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(403)
				_, _ = io.WriteString(w, apiError("key "+r.Header.Get("Authorization")+" may not use this model", "permission_error", nil))
			},
			call:   providers.Call{Header: http.Header{"Authorization": {"Bearer " + otherKey}}},
			secret: otherKey,
		},
		{
			name: "a key the adapter never sent",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(500)
				_, _ = io.WriteString(w, apiError("leaked "+otherKey, "server_error", nil))
			},
			secret: otherKey,
		},
		{
			name: "echoed in a stream's HTTP error",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(401)
				_, _ = io.WriteString(w, apiError("bad key "+testKey, "invalid_request_error", "invalid_api_key"))
			},
			secret: testKey,
			stream: true,
		},
		{
			name: "echoed in a stream's error event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, "data: "+apiError("bad key "+testKey, testKey, testKey)+"\n\n")
			},
			secret: testKey,
			stream: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHandlerServer(t, tt.handler)
			p := newProvider(t, srv)
			req := providers.ChatRequest{Request: chatRequest(), Call: tt.call}

			var err error
			if tt.stream {
				var st providers.Stream
				st, err = p.ChatStream(t.Context(), req)
				if err == nil {
					_, err = st.Recv()
					_ = st.Close()
				}
			} else {
				_, err = p.Chat(t.Context(), req)
			}
			t.Logf("error: %v", err)
			assertNoSecret(t, err, tt.secret)
			if !tt.hidden && !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("error %q does not show where the secret was removed", err)
			}
			if _, ok := providers.AsError(err); !ok {
				t.Errorf("error %v (%T) is not a *providers.Error", err, err)
			}
		})
	}
}

func TestScrubKeys(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no key here", "no key here"},
		{"sk-learn is a library", "sk-learn is a library"},
		{"key sk-abcdefghijklmnopqrstu end", "key sk-[REDACTED] end"},
		{`"sk-proj-abc_DEF-0123456789xyz"`, `"sk-[REDACTED]"`},
		{"ask-abcdefghijklmnopqrstuvwxyz", "ask-abcdefghijklmnopqrstuvwxyz"},
		{"a sk-short and sk-0123456789012345678901", "a sk-short and sk-[REDACTED]"},
		{"sk-", "sk-"},
	}
	for _, tt := range tests {
		if got := oai.ScrubKeys(tt.in); got != tt.want {
			t.Errorf("scrubKeys(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactedCauseStillMatches(t *testing.T) {
	p := memProvider(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy dropped %s: %w", r.Header.Get("Authorization"), io.ErrUnexpectedEOF)
	})
	_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
	assertNoSecret(t, err, testKey)
	if got := asProviderError(t, err).Status; got != providers.StatusTransport {
		t.Errorf("status %d; want %d", got, providers.StatusTransport)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false", err)
	}
}

func TestErrorBodyReadIsBounded(t *testing.T) {
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		chunk := strings.Repeat("x", 64<<10)
		for range 160 { // 10 MiB of a runaway proxy page
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	_, err := newProvider(t, srv).Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
	if pe, ok := providers.AsError(err); !ok || pe.Status != 502 {
		t.Fatalf("err = %v, want a 502", err)
	}
	var reqErr *goopenai.RequestError
	if errors.As(err, &reqErr) && len(reqErr.Body) > 1<<20 {
		t.Errorf("read %d bytes of the error body, want at most 1 MiB", len(reqErr.Body))
	}
	if !errors.As(err, &reqErr) {
		t.Errorf("err = %v, want it to keep the body it read as a RequestError", err)
	}
}

// TestCredentialNotKeyShapedNeverInErrors covers a credential that the
// sk- scrubber would not catch, sent as go-openai set it (Authorization
// for OpenAI, api-key for Azure) with no header of the attempt's own:
// only the doer's record of what the request carried can redact it.
func TestCredentialNotKeyShapedNeverInErrors(t *testing.T) {
	const token = "tok_PLAINSENTINEL_0123456789"
	for _, apiType := range []goopenai.APIType{goopenai.APITypeOpenAI, goopenai.APITypeAzure} {
		for _, method := range []string{"chat", "completion", "embed"} {
			t.Run(string(apiType)+"/"+method, func(t *testing.T) {
				srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(401)
					echo := r.Header.Get("Authorization") + r.Header.Get("Api-Key")
					_, _ = io.WriteString(w, apiError("bad credential "+echo, "invalid_request_error", echo))
				})
				cfg := goopenai.DefaultConfig(token)
				if apiType == goopenai.APITypeAzure {
					cfg = goopenai.DefaultAzureConfig(token, srv.URL)
				} else {
					cfg.BaseURL = srv.URL + "/v1"
				}
				cfg.HTTPClient = srv.Client()
				p := oai.New(cfg)
				var err error
				switch method {
				case "chat":
					_, err = p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
				case "completion":
					_, err = p.Completion(t.Context(), providers.CompletionRequest{Request: goopenai.CompletionRequest{Model: "m", Prompt: "p"}})
				case "embed":
					_, err = p.Embed(t.Context(), providers.EmbeddingRequest{Request: goopenai.EmbeddingRequest{Model: "m", Input: "p"}})
				}
				assertNoSecret(t, err, token)
				if pe, ok := providers.AsError(err); !ok || pe.Status != 401 || !strings.Contains(pe.Message, "[REDACTED]") {
					t.Errorf("err = %v, want a 401 whose message shows where the credential was removed", err)
				}
			})
		}
	}
}
