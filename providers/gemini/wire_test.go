package gemini_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/llmroute/llmroute/providers/providertest"
)

// geminiWire writes the Gemini API's wire format for the contract suite:
// generateContent and batchEmbedContents answers, error objects with
// google.rpc details, and streamGenerateContent's server-sent events
// (each event "data: <chunk>" and a blank line, CRLF as Gemini sends
// them; no end marker: a stream ends with a chunk carrying a finish
// reason).
type geminiWire struct{}

var _ providertest.EmbedWire = geminiWire{}

// textChunk is a response chunk holding text, as Gemini sends every
// chunk of a stream but the last: with the response id and model version.
func textChunk(text string, a providertest.Answer) obj {
	return obj{
		"candidates":   []any{obj{"content": obj{"role": "model", "parts": []any{obj{"text": text}}}, "index": 0}},
		"modelVersion": a.Model,
		"responseId":   a.ID,
	}
}

// chunkOf is a response chunk holding text; with a, the last chunk of an
// answer, carrying a's finish reason, usage, id and model.
func chunkOf(text string, a *providertest.Answer) obj {
	if a == nil {
		return textChunk(text, providertest.Answer{})
	}
	c := textChunk(text, *a)
	c["candidates"].([]any)[0].(obj)["finishReason"] = "STOP"
	c["usageMetadata"] = obj{
		"promptTokenCount":     a.PromptTokens,
		"candidatesTokenCount": a.CompletionTokens,
		"totalTokenCount":      a.PromptTokens + a.CompletionTokens,
	}
	return c
}

func (geminiWire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	writeJSON(w, http.StatusOK, chunkOf(a.Text, &a))
}

// faultBody is Gemini's error object for f, in its own words.
func faultBody(f providertest.Fault, retryAfter string) (int, obj) {
	switch f {
	case providertest.FaultRateLimited:
		details := []any{obj{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
			"violations": []any{obj{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}}}}
		if secs, err := strconv.Atoi(retryAfter); err == nil {
			details = append(details, retryInfo(strconv.Itoa(secs)+"s"))
		}
		return 429, apiErrorBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", details...)
	case providertest.FaultServerError:
		return 500, apiErrorBody(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
	case providertest.FaultBadRequest:
		return 400, apiErrorBody(400, "INVALID_ARGUMENT", `Invalid JSON payload received. Unknown name "foo": Cannot find field.`)
	case providertest.FaultContextLength:
		return 400, apiErrorBody(400, "INVALID_ARGUMENT", "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).")
	case providertest.FaultOverloaded:
		return 503, apiErrorBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	}
	return 500, apiErrorBody(500, "UNKNOWN", "unknown fault "+f.String())
}

// Fail writes the error response. Gemini gives a rate limit's delay in a
// RetryInfo detail, not a header; a proxy in front of it may add the
// header, so both are written, and a date (which RetryInfo cannot say)
// only as the header.
//
// The message of a bad request quotes the request's key back, as some
// servers do, for the suite's check that it never reaches an error.
func (geminiWire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	status, body := faultBody(f, retryAfter)
	if f == providertest.FaultBadRequest {
		body["error"].(obj)["message"] = "API key not valid: " + r.Header.Get("X-Goog-Api-Key") + ". Please pass a valid API key."
	}
	writeJSON(w, status, body)
}

func (geminiWire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flush(w)
}

// event writes one server-sent event.
func event(w io.Writer, v any) {
	raw, _ := json.Marshal(v)
	fmt.Fprintf(w, "data: %s\r\n\r\n", raw)
	flush(w)
}

func flush(w io.Writer) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (geminiWire) StreamText(w http.ResponseWriter, text string) {
	a, _ := providertest.AnswerOf(w)
	event(w, textChunk(text, a))
}

func (geminiWire) StreamEnd(w http.ResponseWriter, a providertest.Answer) { event(w, chunkOf("", &a)) }

func (geminiWire) StreamError(w http.ResponseWriter, f providertest.Fault) {
	_, body := faultBody(f, "")
	event(w, body)
}

func (geminiWire) StreamMalformed(w http.ResponseWriter) {
	_, _ = io.WriteString(w, "data: {\"candidates\": [{\"content\": \r\n\r\n")
	flush(w)
}

func (geminiWire) Embeddings(w http.ResponseWriter, r *http.Request, vectors [][]float32, promptTokens int) {
	// The Gemini API reports no token usage for embeddings.
	embs := make([]any, len(vectors))
	for i, v := range vectors {
		embs[i] = obj{"values": v}
	}
	writeJSON(w, http.StatusOK, obj{"embeddings": embs})
}

// vertexWire is geminiWire with Vertex AI's embeddings answer (the predict
// method's), which reports each input's token count.
type vertexWire struct{ geminiWire }

func (vertexWire) Embeddings(w http.ResponseWriter, r *http.Request, vectors [][]float32, promptTokens int) {
	preds := make([]any, len(vectors))
	for i, v := range vectors {
		tokens := promptTokens / len(vectors)
		if i == 0 {
			tokens += promptTokens % len(vectors)
		}
		preds[i] = obj{"embeddings": obj{"values": v, "statistics": obj{"token_count": tokens, "truncated": false}}}
	}
	writeJSON(w, http.StatusOK, obj{"predictions": preds})
}
