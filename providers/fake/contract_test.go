package fake_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/providers/providertest"
)

// TestContract runs the provider contract suite against the fake, each
// behaviour scripted as the one step its call takes.
func TestContract(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
			f := fake.New()
			f.Script(fake.AnyModel, step(t, b))
			return f
		},
		Model: "gpt-4o",
		// The fake names its answers "fake-N" and after the requested
		// model.
		Omits: providertest.Omits{ID: true, Model: true},
	})
}

// faultSteps are the fake's failures for each contract fault, with the
// codes and types a real provider sends.
var faultSteps = map[providertest.Fault]fake.Step{
	providertest.FaultRateLimited:   fake.Fail(http.StatusTooManyRequests).WithCode("rate_limit_exceeded").WithType("requests"),
	providertest.FaultServerError:   fake.Fail(http.StatusInternalServerError).WithType("server_error"),
	providertest.FaultBadRequest:    fake.Fail(http.StatusBadRequest).WithCode("invalid_value").WithType("invalid_request_error"),
	providertest.FaultContextLength: fake.Fail(http.StatusBadRequest).WithCode("context_length_exceeded").WithType("invalid_request_error"),
	providertest.FaultOverloaded:    fake.Fail(http.StatusServiceUnavailable).WithCode("server_is_overloaded").WithType("service_unavailable_error"),
}

// step scripts b for the fake.
func step(t *testing.T, b providertest.Behaviour) fake.Step {
	t.Helper()
	a := b.Answer
	switch {
	case b.Fault != 0 && b.Ending != providertest.EndError:
		s, ok := faultSteps[b.Fault]
		if !ok {
			t.Fatalf("no fake step for fault %v", b.Fault)
		}
		if b.RetryAfter != "" {
			d, ok := providers.ParseRetryAfter(b.RetryAfter, time.Now())
			if !ok {
				t.Fatalf("Retry-After %q does not parse", b.RetryAfter)
			}
			s = s.WithRetryAfter(d)
		}
		return s
	case b.Silent:
		return fake.Hang()
	case b.Embed:
		return fake.Reply(a.Text).WithVectors(b.Vectors...).WithUsage(a.PromptTokens, 0)
	case b.Stream:
		chunks := providertest.Chunks(b)
		s := fake.Stream(chunks...).WithUsage(a.PromptTokens, a.CompletionTokens)
		switch b.Ending {
		case providertest.EndCut:
			s = s.CutAfter(len(chunks))
		case providertest.EndStall:
			s = s.StallAfter(len(chunks))
		case providertest.EndMalformed:
			s = s.MalformedAfter(len(chunks))
		case providertest.EndError:
			f := faultSteps[b.Fault]
			s = s.ErrorAfter(len(chunks), f)
		}
		return s
	}
	return fake.Reply(a.Text).WithUsage(a.PromptTokens, a.CompletionTokens)
}
