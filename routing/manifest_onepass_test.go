package routing_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
)

// A manifest's problems are all reported at once, in line order: those
// found reading it (unknown keys, types, durations, required keys) and
// those Validate finds, wherever they are in the file. A field that could
// not be read is reported once, not again by the rules it then breaks.
func TestEveryProblemInOnePass(t *testing.T) {
	const g = "booking-app"
	in := `name: booking-app
type: provider-account/virtual-model
collaborators:
  - {subject: alice, role_id: provider-account-access}
integrations:
  - name: chat
    type: integration/model/virtual
    colour: blue
    routing_config:
      type: weight-based-routing
      request_timeout_ms: -5
      sticky_routing:
        ttl_seconds: 10
        session_identifiers: [{source: cookie, key: sid}]
      hedge: {after_ms: soon}
      load_balance_targets:
        - target: azure/gpt-4o
          weight: fifty
        - weight: 50
          retry_config: {attempts: 40}
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets: [{target: a/b, priority: -1}]
`
	want := []loc{
		{g, "collaborators[0].subject", 4, `"alice" must look like user:<email>`},
		{g, "integrations[0].colour", 8, `unknown key "colour"`},
		{g, "integrations[0].routing_config.request_timeout_ms", 11, "must be positive, got -5"},
		{g, "integrations[0].routing_config.sticky_routing.ttl_seconds", 13, "10 is out of range 1800..86400"},
		{g, "integrations[0].routing_config.sticky_routing.session_identifiers[0].source", 14, `unknown source "cookie"`},
		{g, "integrations[0].routing_config.hedge.after_ms", 15, `want an integer, got the string "soon"`},
		{g, lbt(0, ".weight"), 18, `want an integer, got the string "fifty"`},
		{g, lbt(1, ".target"), 19, "required (account/model)"},
		{g, lbt(1, ".retry_config.attempts"), 20, "must be 0..10, got 40"},
		{g, "integrations[1].name", 21, `duplicate virtual model name "chat"`},
		{g, "integrations[1].routing_config.load_balance_targets[0].priority", 25, "must be 0 or more, got -1"},
	}
	check := func(name string, err error) {
		t.Helper()
		if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
			t.Errorf("%s (-got +want):\n%s\nerror: %v", name, diff, err)
		}
	}
	_, err := routing.ParseManifest([]byte(in))
	check("ParseManifest", err)
	m, err := routing.CheckManifest([]byte(in), routing.Accounts{"azure": full{}, "a": full{}}, nil)
	if m != nil {
		t.Error("Check returned a manifest with an error")
	}
	check("Check", err)

	// Load still reports only what reading finds, in line order too.
	_, err = routing.LoadManifest([]byte(in))
	var read []loc
	for _, w := range want {
		if w.Line == 8 || w.Line == 11 || w.Line == 15 || w.Line == 18 || w.Line == 19 {
			read = append(read, w)
		}
	}
	if diff := cmp.Diff(locs(t, err, read), read); diff != "" {
		t.Errorf("Load (-got +want):\n%s", diff)
	}
}

// A problem about a field the reader could not take as written is not
// followed by the rules that field then seems to break: a weight that is
// not a number is not also "no target with a positive weight", a hedge
// whose after_ms is not a number does not also lack after_ms, and a sticky
// routing under a routing type that is not one does not also apply "only
// to weight-based-routing".
func TestNoEchoOfUnreadFields(t *testing.T) {
	const g = "booking-app"
	in := head + `      type: weighted
      sticky_routing: {ttl_seconds: 3600, session_identifiers: [{source: headers, key: x-s}]}
      load_balance_targets:
        - {target: a/b, weight: "50"}
    hedge: {after_ms: soon}
`
	in = strings.Replace(in, "    hedge:", "      hedge:", 1)
	want := []loc{
		{g, "integrations[0].routing_config.type", 7, `unknown routing type "weighted"`},
		{g, lbt(0, ".weight"), 10, "want an integer"},
		{g, "integrations[0].routing_config.hedge.after_ms", 11, "want an integer"},
	}
	_, err := routing.ParseManifest([]byte(in))
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("(-got +want):\n%s\nerror: %v", diff, err)
	}
}

// Keys that are not plain words are quoted in a problem's path, and the
// path leads to the key's line however the key was written.
func TestQuotedKeys(t *testing.T) {
	const g = "booking-app"
	long := strings.Repeat("v", 200)
	in := head + `      type: weight-based-routing
      load_balance_targets:
        - target: a/b
          weight: 100
          metadata_match:
            "tenant.id": ` + long + `
            'tier': ` + long + `
            "x[0]": ` + long + `
          headers_override:
            set:
              "X.Trace": "a\nb"
          override_params:
            "logit.bias": .nan
`
	want := []loc{
		{g, lbt(0, `.metadata_match["tenant.id"]`), 12, "value longer than 128 characters"},
		{g, lbt(0, ".metadata_match.tier"), 13, "value longer than 128 characters"},
		{g, lbt(0, `.metadata_match["x[0]"]`), 14, "value longer than 128 characters"},
		{g, lbt(0, `.headers_override.set["X.Trace"]`), 17, "control character"},
		{g, lbt(0, `.override_params["logit.bias"]`), 19, "not a finite number"},
	}
	_, err := routing.ParseManifest([]byte(in))
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("(-got +want):\n%s\nerror: %v", diff, err)
	}
	// User input in a message is cut at a character boundary.
	_, err = routing.ParseManifest([]byte(head + "      type: " + strings.Repeat("é", 100) + "\n      load_balance_targets: [{target: a/b}]\n"))
	if err == nil || !strings.Contains(err.Error(), strings.Repeat("é", 64)+"…\"") || strings.Contains(err.Error(), strings.Repeat("é", 65)) {
		t.Errorf("a long routing type is not clipped to 64 characters: %v", err)
	}
}
