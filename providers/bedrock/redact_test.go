package bedrock_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// assertNoSecret fails if any secret appears in err: in its text in every
// format, or in the text, %+v or %#v of any error it wraps.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("nil error")
	}
	for e := range walk(err) {
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			text := fmt.Sprintf(format, e)
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("error %T printed with %s shows a secret: %s", e, format, text)
				}
			}
		}
	}
	if pe, ok := providers.AsError(err); ok {
		for _, field := range []string{pe.Code, pe.Type, pe.Message} {
			for _, s := range secrets {
				if strings.Contains(field, s) {
					t.Errorf("error field %q shows a secret", field)
				}
			}
		}
	}
}

// walk yields err and every error it wraps.
func walk(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var rec func(error) bool
		rec = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return rec(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, inner := range u.Unwrap() {
					if !rec(inner) {
						return false
					}
				}
			}
			return true
		}
		rec(err)
	}
}

// echo returns everything a server received: every header and the body,
// as a hostile or careless server might put in an error message.
func echo(r *http.Request, req bedrocktest.Request) string {
	var b strings.Builder
	for k, vs := range r.Header {
		fmt.Fprintf(&b, "%s: %s; ", k, strings.Join(vs, ","))
	}
	b.Write(req.Raw)
	return b.String()
}

const sessionToken = "SESSIONTOKENsentinel/0123456789abcdefghij=="

// TestSecretsNeverInErrors plants sentinel credentials (an access key id,
// a secret key and a session token) and has servers echo everything they
// received in every kind of error; no error may show any of them.
func TestSecretsNeverInErrors(t *testing.T) {
	secrets := []string{testKeyID, testSecret, sessionToken}
	tests := []struct {
		name   string
		h      handler
		stream bool
	}{
		{"a JSON error", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteError(w, 403, "AccessDeniedException", "denied: "+echo(r, req))
		}, false},
		{"the exception type", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteError(w, 400, "Bad"+testKeyID, "x")
		}, false},
		{"an HTML page", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html>"+echo(r, req)+"</html>")
		}, false},
		{"a key id this call never sent", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteError(w, 500, "InternalServerException", "leaked AKIAOTHERKEY00000001 here")
		}, false},
		{"an answer Bedrock could not parse, with the key as request id", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteJSON(w, "req-"+testKeyID, bedrocktest.Answer("malformed_tool_use", bedrocktest.Usage{}, bedrocktest.Text("x")))
		}, false},
		{"a stream's JSON error", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			bedrocktest.WriteError(w, 429, "ThrottlingException", "slow down "+echo(r, req))
		}, true},
		{"a stream's exception event", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-"+testKeyID)
			_ = ev.MessageStart()
			_ = ev.Exception("modelStreamErrorException", "model failed for "+echo(r, req))
		}, true},
		{"a stream's unknown exception type", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-1")
			_ = ev.MessageStart()
			_ = ev.Exception(testKeyID+"Exception", "x")
		}, true},
		{"a stream cut short", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-"+testKeyID)
			_ = ev.MessageStart()
		}, true},
		{"a stream's undecodable event", func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			ev := bedrocktest.NewEvents(w, "req-1")
			var m eventstream.Message
			m.Headers.Set(":message-type", eventstream.StringValue(testKeyID))
			_ = ev.Message(m)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.h)
			srv.unsigned = true // signed with a session token; checked elsewhere
			cfg := aws.Config{
				Region:      testRegion,
				Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, sessionToken),
				HTTPClient:  srv.Client(),
			}
			p := bed.New(cfg, func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			req := providers.ChatRequest{Request: userRequest("Hi")}
			var err error
			if tt.stream {
				var st providers.Stream
				st, err = p.ChatStream(t.Context(), req)
				if err == nil {
					_, err = drain(t, st)
					_ = st.Close()
				}
			} else {
				_, err = p.Chat(t.Context(), req)
			}
			t.Logf("error: %v", err)
			assertNoSecret(t, err, secrets...)
			if _, ok := providers.AsError(err); !ok {
				t.Errorf("error %v (%T) is not a *providers.Error", err, err)
			}
		})
	}
}

// TestBearerTokenNeverInErrors: with a Bedrock API key
// (AWS_BEARER_TOKEN_BEDROCK, which the SDK prefers over SigV4) the token
// travels as a Bearer credential; a server echoing it must not put it in
// an error.
func TestBearerTokenNeverInErrors(t *testing.T) {
	const token = "ABSKQmVkcm9ja0FQSUtleSENTINELtoken0123456789"
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", token)
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("Authorization %q; want the bearer token", got)
		}
		bedrocktest.WriteError(w, 403, "AccessDeniedException", "bad key: "+echo(r, req))
	})
	srv.unsigned = true
	_, err := srv.provider(t).Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")})
	assertNoSecret(t, err, token, testKeyID, testSecret)
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q does not show where the token was removed", err)
	}
}

// TestProviderPrintsNoSecret: a Provider printed in any format shows no
// credential.
func TestProviderPrintsNoSecret(t *testing.T) {
	srv := newServer(t, answer("ok"))
	p := srv.provider(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		text := fmt.Sprintf(format, p)
		if strings.Contains(text, testKeyID) || strings.Contains(text, testSecret) {
			t.Errorf("Provider printed with %s shows a credential: %s", format, text)
		}
	}
}
