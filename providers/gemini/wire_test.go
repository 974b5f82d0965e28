package gemini_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

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

// chunkOf is a response chunk holding text, with a finish reason and usage
// when a is the end of an answer.
func chunkOf(text string, a *providertest.Answer) obj {
	cand := obj{"content": obj{"role": "model", "parts": []any{obj{"text": text}}}, "index": 0}
	c := obj{"candidates": []any{cand}}
	if a != nil {
		cand["finishReason"] = "STOP"
		c["usageMetadata"] = obj{
			"promptTokenCount":     a.PromptTokens,
			"candidatesTokenCount": a.CompletionTokens,
			"totalTokenCount":      a.PromptTokens + a.CompletionTokens,
		}
		c["modelVersion"] = a.Model
		c["responseId"] = a.ID
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
func (geminiWire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	status, body := faultBody(f, retryAfter)
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

func (geminiWire) StreamText(w http.ResponseWriter, text string) { event(w, chunkOf(text, nil)) }

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

// serveBehaviour is a loopback server acting out b for every request with
// w, for this package's own tests of the behaviours the contract suite
// names.
func serveBehaviour(t testing.TB, w providertest.Wire, b providertest.Behaviour) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		wait := func() {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
		switch {
		case b.Silent:
			wait()
		case b.Fault != 0 && !(b.Stream && b.Ending == providertest.EndError):
			w.Fail(rw, r, b.Fault, b.RetryAfter)
		case b.Embed:
			w.(providertest.EmbedWire).Embeddings(rw, r, b.Vectors, b.Answer.PromptTokens)
		case !b.Stream:
			w.Answer(rw, r, b.Answer)
		default:
			w.StreamStart(rw, r, b.Answer)
			for _, piece := range split(b.Answer.Text, b.Chunks) {
				w.StreamText(rw, piece)
			}
			switch b.Ending {
			case providertest.EndComplete:
				w.StreamEnd(rw, b.Answer)
			case providertest.EndCut:
			case providertest.EndStall:
				wait()
			case providertest.EndMalformed:
				w.StreamMalformed(rw)
			case providertest.EndError:
				w.StreamError(rw, b.Fault)
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv
}

// split cuts s into n pieces as evenly as it goes.
func split(s string, n int) []string {
	if n <= 0 {
		return nil
	}
	pieces := make([]string, 0, n)
	for i := range n {
		pieces = append(pieces, s[len(s)*i/n:len(s)*(i+1)/n])
	}
	return pieces
}
