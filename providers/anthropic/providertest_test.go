package anthropic_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/llmroute/llmroute/providers"
	anth "github.com/llmroute/llmroute/providers/anthropic"
	"github.com/llmroute/llmroute/providers/providertest"
)

// wire writes Anthropic's Messages API wire format for the contract
// suite: JSON messages, error bodies
// {"type":"error","error":{"type","message"},"request_id"} with a
// request-id header, and server-sent events with event: lines.
type wire struct{}

var _ providertest.Wire = wire{}

func (wire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	text, _ := json.Marshal(a.Text)
	w.Header().Set("Request-Id", "req_suite")
	writeJSON(w, http.StatusOK, fmt.Sprintf(
		`{"id":%q,"type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":%s}],`+
			`"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`,
		a.ID, a.Model, text, a.PromptTokens, a.CompletionTokens))
}

// faultError is the status and error body Anthropic answers each fault
// with.
func faultError(f providertest.Fault) (int, string, string) {
	switch f {
	case providertest.FaultRateLimited:
		return http.StatusTooManyRequests, "rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."
	case providertest.FaultServerError:
		return http.StatusInternalServerError, "api_error", "Internal server error"
	case providertest.FaultBadRequest:
		return http.StatusBadRequest, "invalid_request_error", "messages.0.content: Field required"
	case providertest.FaultContextLength:
		return http.StatusBadRequest, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"
	case providertest.FaultOverloaded:
		return 529, "overloaded_error", "Overloaded"
	}
	return http.StatusInternalServerError, "api_error", "unknown fault"
}

func (wire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	status, typ, msg := faultError(f)
	if f == providertest.FaultBadRequest {
		// Quoted back, as a proxy in front of the API may do: the suite
		// checks the key never reaches an error.
		msg += " (request sent with " + r.Header.Get("Authorization") + ")"
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Request-Id", "req_suite")
	writeJSON(w, status, errorJSON(typ, msg))
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func event(w http.ResponseWriter, name, data string) {
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
	flush(w)
}

func (wire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Request-Id", "req_suite")
	w.WriteHeader(http.StatusOK)
	event(w, "message_start", fmt.Sprintf(
		`{"type":"message_start","message":{"id":%q,"type":"message","role":"assistant","model":%q,"content":[],`+
			`"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}`,
		a.ID, a.Model, a.PromptTokens))
	event(w, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	event(w, "ping", `{"type": "ping"}`)
}

func (wire) StreamText(w http.ResponseWriter, text string) {
	t, _ := json.Marshal(text)
	event(w, "content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}`, t))
}

func (wire) StreamEnd(w http.ResponseWriter, a providertest.Answer) {
	event(w, "content_block_stop", `{"type":"content_block_stop","index":0}`)
	event(w, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, a.CompletionTokens))
	event(w, "message_stop", `{"type":"message_stop"}`)
}

func (wire) StreamError(w http.ResponseWriter, f providertest.Fault) {
	_, typ, msg := faultError(f)
	event(w, "error", errorJSON(typ, msg))
}

func (wire) StreamMalformed(w http.ResponseWriter) {
	_, _ = io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"unterminated\n\n")
	flush(w)
}

func TestContractSuite(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			srv := providertest.Serve(t, wire{}, b)
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			return anth.New(
				option.WithAPIKey(testKey),
				option.WithBaseURL(srv.URL),
				option.WithHTTPClient(&http.Client{Transport: tr}),
			)
		},
		Key:   testKey,
		Model: "claude-sonnet-4-5",
	})
}
