package anthropic_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/llmroute/llmroute/providers"
)

// otherKey is a key the request never carries but a server echoes: it is
// caught by its shape.
const otherKey = "sk-ant-api03-OTHERKEY-0123456789abcdefghij"

// headerSecret is a credential a target's headers_override sets.
const headerSecret = "proxy-secret-0123456789"

// chain returns err and every error it wraps.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil || len(out) > 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		}
	}
	walk(err)
	return out
}

// checkNoSecret fails t if any error in err's chain, printed in any way,
// or any field of a *providers.Error, shows a secret.
func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, e := range chain(err) {
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			text := fmt.Sprintf(format, e)
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("error %T printed with %s shows a secret: %s", e, format, text)
				}
			}
		}
		if pe, ok := e.(*providers.Error); ok {
			for _, f := range []string{pe.Code, pe.Type, pe.Message} {
				for _, s := range secrets {
					if strings.Contains(f, s) {
						t.Errorf("a field of %#v shows a secret", pe)
					}
				}
			}
		}
	}
}

// TestSecretsNeverLeak plants keys with servers that echo them back in
// every way they can, and greps every error for them.
func TestSecretsNeverLeak(t *testing.T) {
	echo := func(r *http.Request) string {
		return "you sent " + r.Header.Get("Authorization") + " and " + r.Header.Get("X-Api-Key") + ", not " + otherKey
	}
	tests := []struct {
		name   string
		stream bool
		handle http.HandlerFunc
	}{
		{"a JSON error", false, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusUnauthorized, errorJSON("authentication_error", echo(r)))
		}},
		{"an error type and details", false, func(w http.ResponseWriter, r *http.Request) {
			key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			writeJSON(w, http.StatusBadRequest, `{"type":"error","error":{"type":"`+key+`","message":"x","details":{"error_code":"`+key+`"}},"request_id":"`+key+`"}`)
		}},
		{"a page", false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>"+echo(r)+"</html>")
		}},
		{"an error object with 200", false, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, errorJSON("api_error", echo(r)))
		}},
		{"a response that is not a message", false, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, `{"type":"`+echo(r)+`"}`)
		}},
		{"a stream refused", true, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusTooManyRequests, errorJSON("rate_limit_error", echo(r)))
		}},
		{"an error event", true, func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, evMessageStart(1), evTextStart(0), evText(0, "Hi"), sse{"error", errorJSON("overloaded_error", echo(r))})
		}},
		{"an error event that is not JSON", true, func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, evMessageStart(1), sse{"error", echo(r)})
		}},
		{"a malformed event", true, func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, evMessageStart(1), sse{"content_block_delta", "{" + echo(r)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handle)
			p := newProvider(t, srv)
			req := chatRequest()
			req.Header = http.Header{"X-Api-Key": {headerSecret}}
			var err error
			if tt.stream {
				st, serr := p.ChatStream(t.Context(), req)
				err = serr
				if serr == nil {
					_, err = readAll(t, st)
					st.Close()
				}
			} else {
				_, err = p.Chat(t.Context(), req)
			}
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("error = %v; want a failure", err)
			}
			checkNoSecret(t, err, testKey, otherKey, headerSecret, "SENTINEL", "OTHERKEY")
			if !strings.Contains(err.Error(), "[REDACTED]") && tt.name != "a malformed event" {
				t.Errorf("error %q shows no redaction; want the echoed secrets replaced", err)
			}
		})
	}
}

// TestSecretInATransportError checks an error of the HTTP client that
// mentions the key (a proxy's dial error, say).
func TestSecretInATransportError(t *testing.T) {
	p := memProvider(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused %s: %w", r.Header.Get("Authorization"), io.ErrUnexpectedEOF)
	})
	_, err := p.Chat(t.Context(), chatRequest())
	pe := asProviderError(t, err)
	if pe.Status != 502 {
		t.Errorf("status %d; want 502", pe.Status)
	}
	checkNoSecret(t, err, testKey, "SENTINEL")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false; want the cause kept for errors.Is", err)
	}
}

// TestShortKeysLeftAlone checks that a placeholder key (a local server
// takes any) does not garble messages.
func TestShortKeysLeftAlone(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadRequest, errorJSON("invalid_request_error", "none of the models is named x"))
	})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	p := newProvider(t, srv, option.WithAPIKey("none"))
	_, err := p.Chat(t.Context(), chatRequest())
	if got, want := asProviderError(t, err).Message, "none of the models is named x (request-id req_011)"; got != want {
		t.Errorf("message %q; want %q", got, want)
	}
}
