package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

const unevenWeights = `name: grp
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      load_balance_targets:
        - {target: acct/a, weight: 60}
        - {target: acct/b, weight: 30}
`

func TestConfigWarningsReachObservers(t *testing.T) {
	var warnings []error
	obs := routing.WithObserver(routing.ObserverFunc(func(_ context.Context, e routing.Event) {
		if e.Kind == routing.EventConfigWarning {
			warnings = append(warnings, e.Err)
		}
	}))
	c, err := routing.New(routing.WithProvider("acct", fake.New()), routing.WithManifest([]byte(unevenWeights)), obs)
	if err != nil {
		t.Fatalf("weights that do not sum to 100 are a warning, not an error: %v", err)
	}
	if len(warnings) != 1 {
		t.Fatalf("got %d warnings from New, want 1", len(warnings))
	}
	var fe *routing.FieldError
	if !errors.As(warnings[0], &fe) || fe.Line == 0 || !strings.Contains(fe.Path, "load_balance_targets") {
		t.Errorf("warning = %#v, want a located FieldError on the targets", warnings[0])
	}
	// Applying the same manifest again warns again, for the new config.
	if err := c.ApplyManifest(t.Context(), []byte(strings.Replace(unevenWeights, "weight: 30", "weight: 20", 1))); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 {
		t.Errorf("got %d warnings after ApplyManifest, want 2", len(warnings))
	}
	// A model whose weights sum to 100 has nothing to say.
	if err := c.ApplyManifest(t.Context(), []byte(strings.Replace(unevenWeights, "weight: 30", "weight: 40", 1))); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 {
		t.Errorf("got %d warnings after a clean manifest, want still 2", len(warnings))
	}
}
