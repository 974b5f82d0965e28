package bedrock_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// Sentinel credentials: neither may ever appear in an error. The access
// key id travels in every request's Authorization header; the secret key
// never leaves the process.
const (
	testKeyID  = "AKIASENTINEL0KEY1234"
	testSecret = "SENTINELsecretKEY/abcdefghijklmnopqrstuv+0"
	testRegion = "us-east-1"
	testModel  = "anthropic.claude-3-5-haiku-20241022-v1:0"
)

var testCreds = aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

// newProvider returns a Provider for the Bedrock-wire server at url,
// signing with the sentinel credentials.
func newProvider(t testing.TB, url string, client *http.Client, optFns ...func(*bedrockruntime.Options)) *bed.Provider {
	t.Helper()
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:  client,
	}
	fns := append([]func(*bedrockruntime.Options){func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(url) }}, optFns...)
	return bed.New(cfg, fns...)
}

// handler answers one request the server has read and checked.
type handler func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request)

// server is a loopback server speaking Bedrock's wire format. It checks
// the SigV4 signature of every request against the sentinel credentials
// (unless unsigned is set) and records what it received.
type server struct {
	*httptest.Server
	unsigned bool

	mu   sync.Mutex
	reqs []bedrocktest.Request
}

func newServer(t testing.TB, h handler) *server {
	t.Helper()
	return startServer(t, h, false)
}

// newTLSServer is newServer over HTTPS.
func newTLSServer(t testing.TB, h handler) *server {
	t.Helper()
	return startServer(t, h, true)
}

func startServer(t testing.TB, h handler, tls bool) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away
		}
		if !s.unsigned {
			if err := bedrocktest.CheckSignature(r, raw, testCreds, testRegion); err != nil {
				t.Errorf("server: %s %s: %v", r.Method, r.URL.Path, err)
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		req, err := bedrocktest.ReadRequest(r)
		if err != nil {
			t.Errorf("server: %v", err)
			bedrocktest.WriteError(w, http.StatusBadRequest, "ValidationException", err.Error())
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		h(w, r, req)
	}))
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// requests returns what the server has received so far.
func (s *server) requests() []bedrocktest.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bedrocktest.Request(nil), s.reqs...)
}

// provider returns a Provider calling s.
func (s *server) provider(t testing.TB, optFns ...func(*bedrockruntime.Options)) *bed.Provider {
	t.Helper()
	return newProvider(t, s.URL, s.Client(), optFns...)
}

// answer is a handler that answers every Converse call with text.
func answer(text string) handler {
	return func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
		bedrocktest.WriteJSON(w, "req-1", bedrocktest.Answer("end_turn", bedrocktest.Usage{InputTokens: 5, OutputTokens: 2}, bedrocktest.Text(text)))
	}
}

// userRequest is a request with one user message.
func userRequest(text string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: text}},
	}
}

// asProviderError returns err's *providers.Error or fails the test.
func asProviderError(t *testing.T, err error) *providers.Error {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	return pe
}

// jsonObject parses a JSON object literal of a test's expectations.
func jsonObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

// drain reads st to its end and returns its chunks and final error.
func drain(t *testing.T, st providers.Stream) ([]openai.ChatCompletionStreamResponse, error) {
	t.Helper()
	var chunks []openai.ChatCompletionStreamResponse
	for range 1000 {
		c, err := st.Recv()
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
	t.Fatal("stream did not end after 1000 chunks")
	return nil, nil
}
