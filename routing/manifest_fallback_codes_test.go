package routing_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
)

const errorCodesManifest = `
name: docs-app
type: provider-account/virtual-model
integrations:
  - name: summarise
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: openai-main/gpt-4o-mini
          priority: 0
          fallback_error_codes: [context_length_exceeded]
        - target: openai-main/gpt-4.1
          priority: 1
`

func TestFallbackErrorCodesRoundTrip(t *testing.T) {
	groups, err := routing.ParseManifest([]byte(errorCodesManifest))
	if err != nil {
		t.Fatal(err)
	}
	targets := groups[0].Models[0].Routing.Targets
	if diff := cmp.Diff(targets[0].FallbackErrorCodes, []string{"context_length_exceeded"}); diff != "" {
		t.Errorf("fallback_error_codes (-got +want):\n%s", diff)
	}
	if targets[1].FallbackErrorCodes != nil {
		t.Errorf("second target's codes = %v, want none", targets[1].FallbackErrorCodes)
	}
	out := roundTrip(t, groups)
	if n := strings.Count(string(out), "fallback_error_codes"); n != 1 {
		t.Errorf("marshalled manifest has %d fallback_error_codes keys, want 1 (none where there are none):\n%s", n, out)
	}
}

func TestFallbackErrorCodesRejectsBadCodes(t *testing.T) {
	for _, bad := range []string{`[""]`, `["context length"]`, `[429]`, `context_length_exceeded`} {
		data := strings.Replace(errorCodesManifest, "[context_length_exceeded]", bad, 1)
		_, err := routing.ParseManifest([]byte(data))
		var fe *routing.FieldError
		if !errors.As(err, &fe) || !strings.Contains(fe.Path, "load_balance_targets[0].fallback_error_codes") {
			t.Errorf("fallback_error_codes: %s gave %v, want an error at its path", bad, err)
		}
	}
}
