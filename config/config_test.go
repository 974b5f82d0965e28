package config_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/config"
	"github.com/llmroute/llmroute/routing"
)

const manifest = `
name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      load_balance_targets:
        - {target: azure-main/gpt-4o, weight: 70}
        - {target: openai-main/gpt-4o, weight: 20}
`

// Code written against package config keeps working: its functions give
// what the routing ones give, and its names are routing's types.
func TestFacade(t *testing.T) {
	groups, err := config.ParseManifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	want, err := routing.ParseManifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(groups, want); diff != "" {
		t.Errorf("config.ParseManifest (-got +want):\n%s", diff)
	}
	var g routing.Group = groups[0] // config.Group is routing.Group
	if g.Models[0].Routing.Type != config.WeightBased {
		t.Errorf("routing type = %q, want %q", g.Models[0].Routing.Type, config.WeightBased)
	}

	out, err := config.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := routing.MarshalManifest(groups); string(out) != string(want) {
		t.Errorf("config.Marshal =\n%s\nwant\n%s", out, want)
	}

	m, err := config.Load([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Validate(config.Accounts{}, nil)
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Line != 10 {
		t.Errorf("Validate with no accounts = %v, want 2 problems, the first on line 10", err)
	}
	if _, err := config.Check([]byte(manifest), config.Accounts{}, nil); !errors.As(err, new(*routing.FieldError)) {
		t.Errorf("Check with no accounts = %v, want a *routing.FieldError", err)
	}
	if err := config.Validate(groups, nil, nil); err != nil {
		t.Errorf("Validate without accounts = %v", err)
	}
	if ws := config.Warnings(groups); len(ws) != 1 {
		t.Errorf("Warnings = %v, want the weights that sum to 90", ws)
	}
	if !config.ValidHeaderName("X-Session-Id") || config.ValidHeaderName("X Session") {
		t.Error("ValidHeaderName does not tell a token from a name with a space")
	}
	if !config.ValidHeaderValue("v1") || config.ValidHeaderValue("a\r\nb") {
		t.Error("ValidHeaderValue does not refuse CR LF")
	}
}
