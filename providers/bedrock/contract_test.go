package bedrock_test

import (
	"net/http"
	"testing"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
	"github.com/llmroute/llmroute/providers/providertest"
)

// TestContract runs the provider contract suite against the adapter and a
// loopback server speaking Bedrock's wire format.
func TestContract(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			srv := providertest.Serve(t, wire{}, b)
			return newProvider(t, srv.URL, srv.Client())
		},
		Key:   testKeyID,
		Model: "anthropic.claude-3-5-haiku-20241022-v1:0",
		// Converse answers name no model: the adapter reports the one
		// asked for. The id is Bedrock's request id, which the wire
		// sends.
		Omits: providertest.Omits{Model: true},
	})
}

// wire is Bedrock's wire format for the contract suite.
type wire struct{}

var _ providertest.Wire = wire{}

// faults are the exceptions Bedrock answers each fault with, over HTTP
// and in a stream, in Bedrock's words.
var faults = map[providertest.Fault]struct {
	status            int
	exception, member string
	message           string
}{
	providertest.FaultRateLimited:   {429, "ThrottlingException", "throttlingException", "Too many requests, please wait before trying again."},
	providertest.FaultServerError:   {500, "InternalServerException", "internalServerException", "The server encountered an internal error."},
	providertest.FaultBadRequest:    {400, "ValidationException", "validationException", "The provided model identifier is invalid."},
	providertest.FaultContextLength: {400, "ValidationException", "validationException", "Input is too long for requested model."},
	providertest.FaultOverloaded:    {503, "ServiceUnavailableException", "serviceUnavailableException", "Bedrock is unable to process your request."},
}

func (wire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	bedrocktest.WriteJSON(w, a.ID, bedrocktest.Answer("end_turn",
		bedrocktest.Usage{InputTokens: a.PromptTokens, OutputTokens: a.CompletionTokens}, bedrocktest.Text(a.Text)))
}

func (wire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	ft := faults[f]
	msg := ft.message
	if f == providertest.FaultBadRequest {
		// Quote the credential back, as a careless server might: the
		// suite checks that it reaches no error.
		msg += " Request was signed with " + r.Header.Get("Authorization")
	}
	bedrocktest.WriteError(w, ft.status, ft.exception, msg)
}

func (wire) StreamStart(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
	_ = bedrocktest.NewEvents(w, a.ID).MessageStart()
}

func (wire) StreamText(w http.ResponseWriter, text string) {
	_ = bedrocktest.Continue(w).Text(0, text)
}

func (wire) StreamEnd(w http.ResponseWriter, a providertest.Answer) {
	ev := bedrocktest.Continue(w)
	_ = ev.BlockStop(0)
	_ = ev.MessageStop("end_turn")
	_ = ev.Metadata(bedrocktest.Usage{InputTokens: a.PromptTokens, OutputTokens: a.CompletionTokens})
}

func (wire) StreamError(w http.ResponseWriter, f providertest.Fault) {
	ft := faults[f]
	_ = bedrocktest.Continue(w).Exception(ft.member, ft.message)
}

func (wire) StreamMalformed(w http.ResponseWriter) {
	_ = bedrocktest.Continue(w).Malformed()
}
