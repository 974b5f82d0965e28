package openai_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/providers/providertest"
)

func TestContract(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			srv := providertest.Serve(t, wire{}, b)
			cfg := goopenai.DefaultConfig(testKey)
			cfg.BaseURL = srv.URL + "/v1"
			cfg.HTTPClient = srv.Client()
			return oai.New(cfg)
		},
		Key:   testKey,
		Model: "gpt-4o",
	})
}

// wire speaks OpenAI's HTTP API: chat completions, their server-sent
// events, embeddings and error bodies, as api.openai.com sends them.
type wire struct{}

// The error bodies OpenAI answers each fault with.
var faults = map[providertest.Fault]struct {
	status int
	body   string
}{
	providertest.FaultRateLimited: {http.StatusTooManyRequests, apiError(
		"Rate limit reached for gpt-4o in organization org-abc123 on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s.",
		"tokens", "rate_limit_exceeded")},
	providertest.FaultServerError: {http.StatusInternalServerError, apiError(
		"The server had an error while processing your request. Sorry about that!", "server_error", nil)},
	providertest.FaultBadRequest: {http.StatusBadRequest, ""}, // see Fail
	providertest.FaultContextLength: {http.StatusBadRequest, apiErrorParam(
		"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
		"invalid_request_error", "messages", "context_length_exceeded")},
	providertest.FaultOverloaded: {http.StatusServiceUnavailable, apiError(
		"Our servers are currently overloaded. Please try again later.", "service_unavailable_error", "server_is_overloaded")},
}

func apiErrorParam(message, typ, param string, code any) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": param, "code": code,
	}})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (wire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": a.ID, "object": "chat.completion", "created": 1700000000, "model": a.Model,
		"system_fingerprint": "fp_44709d6fcb",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": a.Text, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": "stop",
		}},
		"usage": map[string]any{
			"prompt_tokens": a.PromptTokens, "completion_tokens": a.CompletionTokens,
			"total_tokens": a.PromptTokens + a.CompletionTokens,
		},
	})
}

func (wire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	ft, ok := faults[f]
	if !ok {
		ft.status, ft.body = http.StatusInternalServerError, apiError("unknown fault", "server_error", nil)
	}
	if f == providertest.FaultBadRequest {
		// Some OpenAI-compatible servers quote the request back,
		// credential and all: the suite's planted key must not reach
		// the caller's error through them.
		ft.body = apiErrorParam("Invalid value for 'temperature' in request with "+r.Header.Get("Authorization"),
			"invalid_request_error", "temperature", "invalid_value")
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ft.status)
	_, _ = w.Write([]byte(ft.body))
}

// chunk renders a chat.completion.chunk event of the stream written to
// w, with the given choices and usage (JSON, "" for none).
func chunk(w http.ResponseWriter, choices, usage string) string {
	a, _ := providertest.AnswerOf(w)
	id, _ := json.Marshal(a.ID)
	model, _ := json.Marshal(a.Model)
	out := `{"id":` + string(id) + `,"object":"chat.completion.chunk","created":1700000000,"model":` + string(model) +
		`,"system_fingerprint":"fp_44709d6fcb","choices":` + choices
	if usage != "" {
		out += `,"usage":` + usage
	}
	return out + "}"
}

// event writes one server-sent event and flushes it.
func event(w http.ResponseWriter, data string) {
	_, _ = io.WriteString(w, "data: "+data+"\n\n")
	_ = http.NewResponseController(w).Flush()
}

func (wire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	event(w, chunk(w, `[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`, ""))
}

func (wire) StreamText(w http.ResponseWriter, text string) {
	content, _ := json.Marshal(text)
	event(w, chunk(w, `[{"index":0,"delta":{"content":`+string(content)+`},"logprobs":null,"finish_reason":null}]`, ""))
}

func (wire) StreamEnd(w http.ResponseWriter, a providertest.Answer) {
	event(w, chunk(w, `[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`, ""))
	u, _ := json.Marshal(map[string]int{
		"prompt_tokens": a.PromptTokens, "completion_tokens": a.CompletionTokens,
		"total_tokens": a.PromptTokens + a.CompletionTokens,
	})
	event(w, chunk(w, `[]`, string(u)))
	event(w, "[DONE]")
}

func (wire) StreamError(w http.ResponseWriter, f providertest.Fault) {
	// In a stream OpenAI sends the error object alone, with no status.
	event(w, faults[f].body)
}

func (wire) StreamMalformed(w http.ResponseWriter) {
	event(w, `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tru`)
}

func (wire) Embeddings(w http.ResponseWriter, r *http.Request, vectors [][]float32, promptTokens int) {
	data := make([]any, len(vectors))
	for i, v := range vectors {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": "text-embedding-3-small",
		"usage": map[string]int{"prompt_tokens": promptTokens, "total_tokens": promptTokens},
	})
}
