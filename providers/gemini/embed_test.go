package gemini_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
	gem "github.com/llmroute/llmroute/providers/gemini"
)

func embeddingsAnswer(vectors ...[]float32) obj {
	embs := make([]any, len(vectors))
	for i, v := range vectors {
		embs[i] = obj{"values": v}
	}
	return obj{"embeddings": embs}
}

// TestEmbed checks an embeddings call: one content per input in one
// batchEmbedContents request, dimensions as the output dimensionality,
// extra settings, and the vectors in order.
func TestEmbed(t *testing.T) {
	for _, format := range []openai.EmbeddingEncodingFormat{"", openai.EmbeddingEncodingFormatFloat, openai.EmbeddingEncodingFormatBase64} {
		t.Run("format "+string(format), func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				writeJSON(w, 200, embeddingsAnswer([]float32{0.25, -0.5}, []float32{1, 0}))
			})
			got, err := newProvider(t, srv).Embed(context.Background(), providers.EmbeddingRequest{
				Request: openai.EmbeddingRequest{Model: "gemini-embedding-001", Input: []string{"first", "second"}, Dimensions: 768,
					EncodingFormat: format, ExtraBody: map[string]any{"title": "Doc"}},
				Call: providers.Call{Extra: map[string]any{"task_type": "RETRIEVAL_DOCUMENT"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := openai.EmbeddingResponse{Object: "list", Model: "gemini-embedding-001", Data: []openai.Embedding{
				{Object: "embedding", Embedding: []float32{0.25, -0.5}, Index: 0},
				{Object: "embedding", Embedding: []float32{1, 0}, Index: 1},
			}}
			if diff := cmp.Diff(got, want, cmp.AllowUnexported(openai.EmbeddingResponse{})); diff != "" {
				t.Errorf("response (-got +want):\n%s", diff)
			}
			req := srv.only(t)
			if req.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
				t.Errorf("path %q, want batchEmbedContents", req.Path)
			}
			one := func(text string) obj {
				return obj{"model": "models/gemini-embedding-001", "content": obj{"role": "user", "parts": []any{obj{"text": text}}},
					"outputDimensionality": 768.0, "taskType": "RETRIEVAL_DOCUMENT", "title": "Doc"}
			}
			if diff := cmp.Diff(req.Body, map[string]any{"requests": []any{one("first"), one("second")}}); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

// TestEmbedInputs checks the input forms: a string or a list of strings
// goes; token arrays and empty input are refused before sending.
func TestEmbedInputs(t *testing.T) {
	tests := []struct {
		name      string
		input     any
		wantField string // "" when accepted
	}{
		{"a string", "hello", ""},
		{"strings decoded from JSON", []any{"a", "b"}, ""},
		{"token ids", []int{1, 2, 3}, "input"},
		{"lists of token ids", [][]int{{1, 2}}, "input"},
		{"token ids decoded from JSON", []any{1.0, 2.0}, "input[0]"},
		{"nothing", nil, "input"},
		{"no strings", []string{}, "input"},
		{"an empty string", []string{"a", ""}, "input[1]"},
		{"something else", 42, "input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
				n := len(body["requests"].([]any))
				vectors := make([][]float32, n)
				for i := range vectors {
					vectors[i] = []float32{1}
				}
				writeJSON(w, 200, embeddingsAnswer(vectors...))
			})
			_, err := newProvider(t, srv).Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "e", Input: tt.input}})
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ie *gem.InputError
			if !errors.As(err, &ie) || ie.Field != tt.wantField {
				t.Errorf("got %v, want an *InputError for %q", err, tt.wantField)
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("server saw %d requests, want 0", n)
			}
		})
	}
}

// TestEmbedFailures checks refused settings and answers that do not hold
// one vector per input.
func TestEmbedFailures(t *testing.T) {
	t.Run("refused before sending", func(t *testing.T) {
		for _, tt := range []struct {
			req       openai.EmbeddingRequest
			extra     map[string]any
			wantField string
		}{
			{openai.EmbeddingRequest{Model: "e", Input: "x", EncodingFormat: "int8"}, nil, "encoding_format"},
			{openai.EmbeddingRequest{Model: "e", Input: "x", Dimensions: -1}, nil, "dimensions"},
			{openai.EmbeddingRequest{Input: "x"}, nil, "model"},
			{openai.EmbeddingRequest{Model: "e", Input: "x"}, map[string]any{"top_k": 3}, "extra.top_k"},
			{openai.EmbeddingRequest{Model: "e", Input: "x", ExtraBody: map[string]any{"truncate": true}}, nil, "extra.truncate"},
		} {
			srv := newServer(t, nil)
			_, err := newProvider(t, srv).Embed(context.Background(), providers.EmbeddingRequest{Request: tt.req, Call: providers.Call{Extra: tt.extra}})
			var ie *gem.InputError
			if !errors.As(err, &ie) || ie.Field != tt.wantField {
				t.Errorf("got %v, want an *InputError for %q", err, tt.wantField)
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("%q: server saw %d requests, want 0", tt.wantField, n)
			}
		}
	})
	for _, tt := range []struct {
		name string
		body obj
	}{
		{"fewer vectors than inputs", embeddingsAnswer([]float32{1})},
		{"a null vector", obj{"embeddings": []any{nil, obj{"values": []float32{1}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) { writeJSON(w, 200, tt.body) })
			_, err := newProvider(t, srv).Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "e", Input: []string{"a", "b"}}})
			if pe := asProviderError(t, err); pe.Status != 502 || pe.Code != gem.CodeMalformedResponse {
				t.Errorf("got %v, want a 502 %s", err, gem.CodeMalformedResponse)
			}
		})
	}
	t.Run("an error answer", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			writeJSON(w, 429, apiErrorBody(429, "RESOURCE_EXHAUSTED", "quota", retryInfo("3s")))
		})
		_, err := newProvider(t, srv).Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "e", Input: "a"}})
		if pe := asProviderError(t, err); pe.Status != 429 || pe.RetryAfter.Seconds() != 3 {
			t.Errorf("got %v, want a 429 after 3s", err)
		}
	})
}

// TestEmbedVertex checks Vertex AI's embeddings: its predict method, and
// the token counts it reports summed into usage.
func TestEmbedVertex(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		writeJSON(w, 200, obj{"predictions": []any{
			obj{"embeddings": obj{"values": []float32{0.5}, "statistics": obj{"token_count": 3, "truncated": false}}},
			obj{"embeddings": obj{"values": []float32{0.25}, "statistics": obj{"token_count": 4, "truncated": false}}},
		}})
	})
	p := newProviderWith(t, &genai.ClientConfig{Backend: genai.BackendVertexAI, APIKey: testKey,
		HTTPClient: &http.Client{Transport: testTransport(t)}, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	got, err := p.Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "text-embedding-005", Input: []string{"a", "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Usage.PromptTokens != 7 || got.Usage.TotalTokens != 7 || len(got.Data) != 2 || got.Data[1].Embedding[0] != 0.25 {
		t.Errorf("got %+v, want two vectors and 7 prompt tokens", got)
	}
	if path := srv.only(t).Path; path != "/v1beta1/publishers/google/models/text-embedding-005:predict" {
		t.Errorf("path %q, want Vertex's predict", path)
	}
}

// TestEmbedVertexOneByOne checks the Vertex AI models genai embeds one
// input per call: several inputs are refused before sending, one goes.
func TestEmbedVertexOneByOne(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		writeJSON(w, 200, obj{"embedding": obj{"values": []float32{0.5}}})
	})
	p := newProviderWith(t, &genai.ClientConfig{Backend: genai.BackendVertexAI, APIKey: testKey,
		HTTPClient: &http.Client{Transport: testTransport(t)}, HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	_, err := p.Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "gemini-embedding-2", Input: []string{"a", "b"}}})
	var ie *gem.InputError
	if !errors.As(err, &ie) || ie.Field != "input" {
		t.Errorf("two inputs: %v, want an *InputError for input", err)
	}
	got, err := p.Embed(context.Background(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "gemini-embedding-2", Input: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 || got.Data[0].Embedding[0] != 0.5 {
		t.Errorf("got %+v, want one vector", got.Data)
	}
	if path := srv.only(t).Path; path != "/v1beta1/publishers/google/models/gemini-embedding-2:embedContent" {
		t.Errorf("path %q, want embedContent", path)
	}
}
