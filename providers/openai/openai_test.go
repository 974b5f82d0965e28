package openai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
)

func TestChatSendsTheAttempt(t *testing.T) {
	tests := []struct {
		name       string
		call       providers.Call
		wantFields map[string]any    // top-level body fields, beyond the request's own
		wantHeader map[string]string // "" means absent
	}{
		{
			name: "no call data",
			wantHeader: map[string]string{
				"Authorization": "Bearer " + testKey,
				"Content-Type":  "application/json",
			},
		},
		{
			name: "extra fields at top level",
			call: providers.Call{Extra: map[string]any{
				"prompt_version_fqn": "chat-prompts/greeting:3",
				"metadata":           map[string]any{"tier": "gold"},
			}},
			wantFields: map[string]any{
				"prompt_version_fqn": "chat-prompts/greeting:3",
				"metadata":           map[string]any{"tier": "gold"},
			},
			wantHeader: map[string]string{"Authorization": "Bearer " + testKey},
		},
		{
			name: "extra replaces a field the request has",
			call: providers.Call{Extra: map[string]any{"temperature": 0.2}},
			wantFields: map[string]any{
				"temperature": 0.2,
			},
		},
		{
			name: "headers set, replaced and removed",
			call: providers.Call{
				Header: http.Header{
					"X-Api-Version": {"2"},
					"x-lower-case":  {"v"},
					"X-Debug":       {"1"},
					"Accept":        {"application/x-test"},
				},
				RemoveHeader: []string{"x-debug", "OpenAI-Beta"},
			},
			wantHeader: map[string]string{
				"X-Api-Version": "2",
				"X-Lower-Case":  "v",
				"X-Debug":       "",
				"Accept":        "application/x-test",
				"Authorization": "Bearer " + testKey,
			},
		},
		{
			name: "credential removed",
			call: providers.Call{RemoveHeader: []string{"Authorization"}},
			wantHeader: map[string]string{
				"Authorization": "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := newServer(t, reply{body: chatOK})
			p := newProvider(t, srv)

			_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest(), Call: tt.call})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			got := <-reqs

			if diff := cmp.Diff(got.Method+" "+got.Path, "POST /v1/chat/completions"); diff != "" {
				t.Errorf("request line (-got +want):\n%s", diff)
			}
			want := map[string]any{
				"model":       "gpt-4o",
				"temperature": 0.5,
				"messages":    []any{map[string]any{"role": "user", "content": "Hi"}},
				"stream":      false, // go-openai always sends it
			}
			for k, v := range tt.wantFields {
				want[k] = v
			}
			if diff := cmp.Diff(got.Body, want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			for k, want := range tt.wantHeader {
				if diff := cmp.Diff(got.Header.Get(k), want); diff != "" {
					t.Errorf("header %s (-got +want):\n%s", k, diff)
				}
			}
		})
	}
}

func TestChatLeavesCallerDataAlone(t *testing.T) {
	srv, reqs := newServer(t, reply{body: chatOK})
	p := newProvider(t, srv)
	req := providers.ChatRequest{
		Request: chatRequest(),
		Call: providers.Call{
			Header: http.Header{"X-A": {"1"}},
			Extra:  map[string]any{"prompt_version_fqn": "p"},
		},
	}
	req.Request.Stream = true // Chat decides the mode itself
	req.Request.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	before := fmt.Sprintf("%#v", req)

	if _, err := p.Chat(t.Context(), req); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	got := <-reqs
	if got.Body["stream"] != false {
		t.Errorf("body has stream: %v; want false", got.Body["stream"])
	}
	if _, ok := got.Body["stream_options"]; ok {
		t.Errorf("body has stream_options: %v", got.Body["stream_options"])
	}
	if diff := cmp.Diff(fmt.Sprintf("%#v", req), before); diff != "" {
		t.Errorf("caller's request changed (-got +want):\n%s", diff)
	}
}

func TestChatResponse(t *testing.T) {
	srv, _ := newServer(t, reply{body: chatOK, header: map[string]string{"X-Request-Id": "req-1"}})
	p := newProvider(t, srv)

	got, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := goopenai.ChatCompletionResponse{
		ID:                "chatcmpl-123",
		Object:            "chat.completion",
		Created:           1700000000,
		Model:             "gpt-4o-2024-08-06",
		SystemFingerprint: "fp_44709d6fcb",
		Choices: []goopenai.ChatCompletionChoice{{
			Message:      goopenai.ChatCompletionMessage{Role: "assistant", Content: "Hello there!"},
			FinishReason: goopenai.FinishReasonStop,
		}},
		Usage: goopenai.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12},
	}
	if diff := cmp.Diff(got, want, cmpopts.IgnoreUnexported(goopenai.ChatCompletionResponse{})); diff != "" {
		t.Errorf("response (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(got.Header().Get("X-Request-Id"), "req-1"); diff != "" {
		t.Errorf("response header (-got +want):\n%s", diff)
	}
}

// errFields compares a *providers.Error without its cause.
var errFields = cmpopts.IgnoreFields(providers.Error{}, "Err")

// asProviderError returns err's *providers.Error or fails the test.
func asProviderError(t *testing.T, err error) *providers.Error {
	t.Helper()
	pe, ok := providers.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	return pe
}

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		want  providers.Error
	}{
		{
			name: "429 with Retry-After seconds",
			reply: reply{
				status: 429,
				header: map[string]string{"Retry-After": "2"},
				body:   apiError("Rate limit reached for gpt-4o on requests per min (RPM): Limit 3.", "requests", "rate_limit_exceeded"),
			},
			want: providers.Error{
				Status: 429, RetryAfter: 2e9, Code: "rate_limit_exceeded", Type: "requests",
				Message: "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3.",
			},
		},
		{
			name: "429 with retry-after-ms preferred to Retry-After",
			reply: reply{
				status: 429,
				header: map[string]string{"Retry-After": "1", "retry-after-ms": "250.5"},
				body:   apiError("Rate limit reached", "tokens", "rate_limit_exceeded"),
			},
			want: providers.Error{
				Status: 429, RetryAfter: 250500e3, Code: "rate_limit_exceeded", Type: "tokens",
				Message: "Rate limit reached",
			},
		},
		{
			name: "429 with malformed retry-after-ms falls back to Retry-After",
			reply: reply{
				status: 429,
				header: map[string]string{"Retry-After": "3", "retry-after-ms": "soon"},
				body:   apiError("Rate limit reached", "tokens", "rate_limit_exceeded"),
			},
			want: providers.Error{
				Status: 429, RetryAfter: 3e9, Code: "rate_limit_exceeded", Type: "tokens",
				Message: "Rate limit reached",
			},
		},
		{
			name:  "500 server_error",
			reply: reply{status: 500, body: apiError("The server had an error while processing your request.", "server_error", nil)},
			want: providers.Error{
				Status: 500, Type: "server_error",
				Message: "The server had an error while processing your request.",
			},
		},
		{
			name:  "502 JSON body",
			reply: reply{status: 502, body: apiError("Bad gateway.", "cf_bad_gateway", "502")},
			want:  providers.Error{Status: 502, Code: "502", Type: "cf_bad_gateway", Message: "Bad gateway."},
		},
		{
			name: "503 overloaded with Retry-After",
			reply: reply{
				status: 503,
				header: map[string]string{"Retry-After": "10"},
				body:   apiError("The engine is currently overloaded, please try again later.", "server_error", "overloaded"),
			},
			want: providers.Error{
				Status: 503, RetryAfter: 10e9, Code: "overloaded", Type: "server_error",
				Message: "The engine is currently overloaded, please try again later.",
			},
		},
		{
			name: "400 context_length_exceeded",
			reply: reply{status: 400, body: apiError(
				"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
				"invalid_request_error", "context_length_exceeded")},
			want: providers.Error{
				Status: 400, Code: "context_length_exceeded", Type: "invalid_request_error",
				Message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
			},
		},
		{
			name:  "numeric code",
			reply: reply{status: 400, body: `{"error":{"message":"bad","type":"BadRequestError","param":null,"code":400}}`},
			want:  providers.Error{Status: 400, Code: "400", Type: "BadRequestError", Message: "bad"},
		},
		{
			name:  "message as a list",
			reply: reply{status: 400, body: `{"error":{"message":["a","b"],"type":"invalid_request_error"}}`},
			want:  providers.Error{Status: 400, Type: "invalid_request_error", Message: "a, b"},
		},
		{
			name: "HTML 502 from a proxy",
			reply: reply{
				status: 502,
				header: map[string]string{"Content-Type": "text/html"},
				body:   "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
			},
			want: providers.Error{
				Status:  502,
				Message: "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>",
			},
		},
		{
			name:  "empty 504",
			reply: reply{status: 504},
			want:  providers.Error{Status: 504, Message: "Gateway Timeout"},
		},
		{
			name:  "long non-JSON body is cut",
			reply: reply{status: 500, header: map[string]string{"Content-Type": "text/plain"}, body: strings.Repeat("é", 300)},
			want:  providers.Error{Status: 500, Message: strings.Repeat("é", 100) + "…"},
		},
		{
			name:  "3xx is no answer",
			reply: reply{status: 304},
			want:  providers.Error{Status: 502, Code: oai.CodeUnexpectedStatus, Message: "unexpected status 304 Not Modified"},
		},
		{
			name:  "JSON body that is no error object",
			reply: reply{status: 500, body: `{"detail":"Internal Server Error"}`},
			want:  providers.Error{Status: 500, Message: `{"detail":"Internal Server Error"}`},
		},
		{
			name:  "undecodable success body",
			reply: reply{status: 200, body: `{"id": "chatcmpl-1", "choi`},
			want:  providers.Error{Status: 502},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, tt.reply)
			p := newProvider(t, srv)

			_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
			got := asProviderError(t, err)
			if diff := cmp.Diff(*got, tt.want, errFields); diff != "" {
				t.Errorf("error (-got +want):\n%s", diff)
			}
			var sc interface{ StatusCode() int }
			if !errors.As(err, &sc) || sc.StatusCode() != tt.want.Status {
				t.Errorf("StatusCode() of %v: want %d", err, tt.want.Status)
			}
		})
	}
}

func TestChatErrorKeepsAPIError(t *testing.T) {
	srv, _ := newServer(t, reply{status: 400, body: apiError("too long", "invalid_request_error", "context_length_exceeded")})
	p := newProvider(t, srv)

	_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
	var apiErr *goopenai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("errors.As(%v, *APIError) = false", err)
	}
	if diff := cmp.Diff(apiErr.Code, any("context_length_exceeded")); diff != "" {
		t.Errorf("APIError.Code (-got +want):\n%s", diff)
	}
}

func TestChatTransportFailures(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := newHandlerServer(t, func(http.ResponseWriter, *http.Request) {})
		p := newProvider(t, srv)
		srv.Close() // nothing listens at its address now

		_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
		if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTransport); diff != "" {
			t.Errorf("status of %v (-got +want):\n%s", err, diff)
		}
	})
	t.Run("EOF before headers", func(t *testing.T) {
		srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler) // closes the connection, no response
		})
		p := newProvider(t, srv)

		_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
		if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTransport); diff != "" {
			t.Errorf("status of %v (-got +want):\n%s", err, diff)
		}
	})
}

func TestChatTimeout(t *testing.T) {
	hung := make(chan struct{})
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		hang(r)
		close(hung)
		<-r.Context().Done() // never answers; ends when the client gives up
	})
	p := newProvider(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 50e6)
	defer cancel()

	_, err := p.Chat(ctx, providers.ChatRequest{Request: chatRequest()})
	<-hung
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, DeadlineExceeded) = false", err)
	}
	if diff := cmp.Diff(asProviderError(t, err).Status, providers.StatusTimeout); diff != "" {
		t.Errorf("status (-got +want):\n%s", diff)
	}
}

func TestChatCanceled(t *testing.T) {
	check := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(%v, Canceled) = false", err)
		}
		if _, ok := providers.AsError(err); ok {
			t.Errorf("cancellation %v is a *providers.Error; want ctx.Err() itself", err)
		}
	}
	t.Run("while the server works", func(t *testing.T) {
		arrived := make(chan struct{})
		srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
			hang(r)
			close(arrived)
			<-r.Context().Done()
		})
		p := newProvider(t, srv)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-arrived
			cancel()
		}()

		_, err := p.Chat(ctx, providers.ChatRequest{Request: chatRequest()})
		check(t, err)
	})
	t.Run("before the call", func(t *testing.T) {
		srv, _ := newServer(t, reply{body: chatOK})
		p := newProvider(t, srv)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_, err := p.Chat(ctx, providers.ChatRequest{Request: chatRequest()})
		check(t, err)
	})
}

func TestChatClientValidation(t *testing.T) {
	tests := []struct {
		name string
		req  providers.ChatRequest
	}{
		{
			name: "go-openai refuses max_tokens on a reasoning model",
			req: providers.ChatRequest{Request: goopenai.ChatCompletionRequest{
				Model: "o3-mini", MaxTokens: 10,
				Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "Hi"}},
			}},
		},
		{
			name: "extra field that does not encode",
			req: providers.ChatRequest{
				Request: chatRequest(),
				Call:    providers.Call{Extra: map[string]any{"bad": func() {}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := newServer(t, reply{body: chatOK})
			p := newProvider(t, srv)

			_, err := p.Chat(t.Context(), tt.req)
			got := asProviderError(t, err)
			if diff := cmp.Diff([]any{got.Status, got.Code}, []any{400, oai.CodeClientValidation}); diff != "" {
				t.Errorf("status, code of %v (-got +want):\n%s", err, diff)
			}
			if len(reqs) != 0 {
				t.Errorf("the server got %d requests; want none", len(reqs))
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		srv, reqs := newServer(t, reply{body: completionOK})
		p := newProvider(t, srv)

		got, err := p.Completion(t.Context(), providers.CompletionRequest{
			Request: goopenai.CompletionRequest{Model: "gpt-3.5-turbo-instruct", Prompt: "Hello", MaxTokens: 5},
			Call:    providers.Call{Extra: map[string]any{"prompt_version_fqn": "p:1"}},
		})
		if err != nil {
			t.Fatalf("Completion: %v", err)
		}
		if diff := cmp.Diff(got.Choices[0].Text, " world"); diff != "" {
			t.Errorf("text (-got +want):\n%s", diff)
		}
		r := <-reqs
		if diff := cmp.Diff(
			[]any{r.Path, r.Body["model"], r.Body["prompt"], r.Body["prompt_version_fqn"]},
			[]any{"/v1/completions", "gpt-3.5-turbo-instruct", "Hello", "p:1"},
		); diff != "" {
			t.Errorf("request (-got +want):\n%s", diff)
		}
	})
	t.Run("error", func(t *testing.T) {
		srv, _ := newServer(t, reply{status: 404, body: apiError("The model `nope` does not exist", "invalid_request_error", "model_not_found")})
		p := newProvider(t, srv)

		_, err := p.Completion(t.Context(), providers.CompletionRequest{
			Request: goopenai.CompletionRequest{Model: "nope", Prompt: "Hello"},
		})
		want := providers.Error{Status: 404, Code: "model_not_found", Type: "invalid_request_error", Message: "The model `nope` does not exist"}
		if diff := cmp.Diff(*asProviderError(t, err), want, errFields); diff != "" {
			t.Errorf("error (-got +want):\n%s", diff)
		}
	})
}

func TestEmbed(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		srv, reqs := newServer(t, reply{body: embeddingOK})
		p := newProvider(t, srv)

		got, err := p.Embed(t.Context(), providers.EmbeddingRequest{
			Request: goopenai.EmbeddingRequest{Model: goopenai.SmallEmbedding3, Input: []string{"hi"}},
			Call:    providers.Call{Header: http.Header{"X-Team": {"search"}}, Extra: map[string]any{"dimensions": 2}},
		})
		if err != nil {
			t.Fatalf("Embed: %v", err)
		}
		if diff := cmp.Diff(got.Data[0].Embedding, []float32{0.25, -0.5}); diff != "" {
			t.Errorf("embedding (-got +want):\n%s", diff)
		}
		r := <-reqs
		if diff := cmp.Diff(
			[]any{r.Path, r.Body["model"], r.Body["input"], r.Body["dimensions"], r.Header.Get("X-Team")},
			[]any{"/v1/embeddings", "text-embedding-3-small", []any{"hi"}, 2.0, "search"},
		); diff != "" {
			t.Errorf("request (-got +want):\n%s", diff)
		}
	})
	t.Run("error", func(t *testing.T) {
		srv, _ := newServer(t, reply{
			status: 429,
			header: map[string]string{"Retry-After": "7"},
			body:   apiError("You exceeded your current quota.", "insufficient_quota", "insufficient_quota"),
		})
		p := newProvider(t, srv)

		_, err := p.Embed(t.Context(), providers.EmbeddingRequest{
			Request: goopenai.EmbeddingRequest{Model: goopenai.SmallEmbedding3, Input: "hi"},
		})
		want := providers.Error{
			Status: 429, RetryAfter: 7e9, Code: "insufficient_quota", Type: "insufficient_quota",
			Message: "You exceeded your current quota.",
		}
		if diff := cmp.Diff(*asProviderError(t, err), want, errFields); diff != "" {
			t.Errorf("error (-got +want):\n%s", diff)
		}
	})
}

func TestAzure(t *testing.T) {
	const azureKey = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		reply   reply
		wantErr *providers.Error
	}{
		{name: "success", reply: reply{body: chatOK}},
		{
			name:  "content filter",
			reply: reply{status: 400, body: apiError("The response was filtered (key "+azureKey+")", "", "content_filter")},
			wantErr: &providers.Error{
				Status: 400, Code: "content_filter", Message: "The response was filtered (key [REDACTED])",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := newServer(t, tt.reply)
			cfg := goopenai.DefaultAzureConfig(azureKey, srv.URL)
			cfg.HTTPClient = srv.Client()
			p := oai.New(cfg)

			_, err := p.Chat(t.Context(), providers.ChatRequest{Request: chatRequest()})
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if tt.wantErr != nil {
				if diff := cmp.Diff(*asProviderError(t, err), *tt.wantErr, errFields); diff != "" {
					t.Errorf("error (-got +want):\n%s", diff)
				}
				if strings.Contains(fmt.Sprintf("%+v", err), azureKey) {
					t.Errorf("error %+v contains the api-key", err)
				}
			}
			r := <-reqs
			got := []string{r.Path, r.Query, r.Header.Get("Api-Key"), r.Header.Get("Authorization")}
			want := []string{"/openai/deployments/gpt-4o/chat/completions", "api-version=2023-05-15", azureKey, ""}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("path, query, api-key, authorization (-got +want):\n%s", diff)
			}
		})
	}
}

// TestConcurrentCallsKeepTheirOwnCall shows that per-attempt data travels
// with each request, never through the shared client.
func TestConcurrentCallsKeepTheirOwnCall(t *testing.T) {
	const n = 32
	srv, reqs := newServer(t, reply{body: chatOK})
	p := newProvider(t, srv)

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := p.Chat(t.Context(), providers.ChatRequest{
				Request: chatRequest(),
				Call: providers.Call{
					Header: http.Header{"X-Attempt": {fmt.Sprint(i)}},
					Extra:  map[string]any{"attempt": fmt.Sprint(i)},
				},
			})
			if err != nil {
				t.Errorf("Chat %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range n {
		r := <-reqs
		h, b := r.Header.Get("X-Attempt"), r.Body["attempt"]
		if h != b {
			t.Errorf("request with header X-Attempt %q has body attempt %v", h, b)
		}
		seen[h] = true
	}
	if len(seen) != n {
		t.Errorf("saw %d distinct attempts; want %d", len(seen), n)
	}
}

func TestZeroProvider(t *testing.T) {
	for _, p := range []*oai.Provider{nil, new(oai.Provider)} {
		if _, err := p.Chat(t.Context(), providers.ChatRequest{}); err == nil {
			t.Errorf("%v.Chat: nil error", p)
		}
		if _, err := p.Completion(t.Context(), providers.CompletionRequest{}); err == nil {
			t.Errorf("%v.Completion: nil error", p)
		}
		if _, err := p.Embed(t.Context(), providers.EmbeddingRequest{}); err == nil {
			t.Errorf("%v.Embed: nil error", p)
		}
		if _, err := p.ChatStream(t.Context(), providers.ChatRequest{}); err == nil {
			t.Errorf("%v.ChatStream: nil error", p)
		}
	}
}

func TestNilContext(t *testing.T) {
	srv, _ := newServer(t, reply{body: chatOK})
	p := newProvider(t, srv)
	var ctx context.Context // a caller's bug must not panic
	if _, err := p.Chat(ctx, providers.ChatRequest{Request: chatRequest()}); err != nil {
		t.Errorf("Chat: %v", err)
	}
}

func TestProviderStringHidesKey(t *testing.T) {
	p := oai.New(goopenai.DefaultConfig(testKey))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(format, p); strings.Contains(got, testKey) {
			t.Errorf("Sprintf(%q, p) = %q contains the key", format, got)
		}
	}
	if diff := cmp.Diff(p.String(), "openai.Provider(OPEN_AI https://api.openai.com/v1)"); diff != "" {
		t.Errorf("String() (-got +want):\n%s", diff)
	}
}

// TestRedirectResendsExtra shows the rewritten body survives a 307, which
// the HTTP client follows by asking the request for its body again.
func TestRedirectResendsExtra(t *testing.T) {
	got := make(chan received, 1)
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/chat/completions" {
			hang(r)
			http.Redirect(w, r, "/moved/chat/completions", http.StatusTemporaryRedirect)
			return
		}
		got <- readRequest(t, r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatOK)
	})
	p := newProvider(t, srv)

	_, err := p.Chat(t.Context(), providers.ChatRequest{
		Request: chatRequest(),
		Call:    providers.Call{Extra: map[string]any{"prompt_version_fqn": "p:1"}},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	r := <-got
	if diff := cmp.Diff([]any{r.Path, r.Body["prompt_version_fqn"], r.Body["model"]}, []any{"/moved/chat/completions", "p:1", "gpt-4o"}); diff != "" {
		t.Errorf("redirected request (-got +want):\n%s", diff)
	}
}
