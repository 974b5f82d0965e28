package routing_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// head is a manifest's first six lines; routing_config's body, indented
// by six spaces, starts on line 7.
const head = `name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
`

// lbt is the path of the i-th target of the first virtual model.
func lbt(i int, rest string) string {
	return "integrations[0].routing_config.load_balance_targets[" + string(rune('0'+i)) + "]" + rest
}

func TestParseManifestErrors(t *testing.T) {
	const g = "booking-app"
	tests := []struct {
		name string
		in   string
		want []loc
	}{{
		name: "weight required on every weight-based target",
		in: head + `      type: weight-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          weight: 90
        - target: openai-main/gpt-4o
          priority: 1
`,
		want: []loc{
			{g, lbt(1, ".weight"), 11, "required for weight-based-routing"},
			{g, lbt(1, ".priority"), 12, "applies only to priority-based-routing"},
		},
	}, {
		name: "weight 0 on priority-based",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          weight: 0
`,
		want: []loc{{g, lbt(0, ".weight"), 10, "applies only to weight-based-routing"}},
	}, {
		name: "sla_cutoff on latency-based",
		in: head + `      type: latency-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          sla_cutoff: {time_per_output_token_ms: 50}
`,
		want: []loc{{g, lbt(0, ".sla_cutoff"), 10, "applies only to priority-based-routing"}},
	}, {
		name: "unknown key with a suggestion",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          fallback_status_code: ["429"]
`,
		want: []loc{{g, lbt(0, ".fallback_status_code"), 10, `unknown key "fallback_status_code" (did you mean "fallback_status_codes"?)`}},
	}, {
		name: "unknown key without a suggestion",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
      circuit_breaker: {}
`,
		want: []loc{{g, "integrations[0].routing_config.circuit_breaker", 10, `unknown key "circuit_breaker"`}},
	}, {
		name: "retry delay must be positive",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          retry_config: {attempts: 1, delay: 0}
`,
		want: []loc{{g, lbt(0, ".retry_config.delay"), 10, "must be positive, got 0"}},
	}, {
		name: "timeouts must be positive",
		in: head + `      type: priority-based-routing
      request_timeout_ms: -5
      load_balance_targets:
        - target: azure-main/gpt-4o
          ttft_timeout_ms: 0
          stream_idle_timeout_ms: 99999999999999999
`,
		want: []loc{
			{g, "integrations[0].routing_config.request_timeout_ms", 8, "must be positive, got -5"},
			{g, lbt(0, ".ttft_timeout_ms"), 11, "must be positive, got 0"},
			{g, lbt(0, ".stream_idle_timeout_ms"), 12, "is too large"},
		},
	}, {
		name: "status codes",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          fallback_status_codes: ["429", "4xx", 700, 5.5, " 500"]
`,
		want: []loc{
			{g, lbt(0, ".fallback_status_codes[1]"), 10, `"4xx" is not an HTTP status code`},
			{g, lbt(0, ".fallback_status_codes[2]"), 10, "700 is not an HTTP status code"},
			{g, lbt(0, ".fallback_status_codes[3]"), 10, `want an HTTP status code such as "429", got 5.5`},
			{g, lbt(0, ".fallback_status_codes[4]"), 10, `" 500" is not an HTTP status code`},
		},
	}, {
		name: "wrong value types",
		in: head + `      type: weight-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          weight: "80"
          fallback_candidate: "no"
          metadata_match: [tier]
          headers_override:
            remove: x-debug
        - target: [openai-main/gpt-4o]
          weight: 1.5
`,
		want: []loc{
			{g, lbt(0, ".weight"), 10, `want an integer, got the string "80"`},
			{g, lbt(0, ".fallback_candidate"), 11, `want true or false, got the string "no"`},
			{g, lbt(0, ".metadata_match"), 12, "want a mapping, got a list"},
			{g, lbt(0, ".headers_override.remove"), 14, `want a list, got the string "x-debug"`},
			{g, lbt(1, ".target"), 15, "want a string, got a list"},
			{g, lbt(1, ".weight"), 16, "want an integer, got 1.5"},
		},
	}, {
		name: "duplicate key",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          priority: 0
          priority: 1
`,
		want: []loc{{g, lbt(0, ".priority"), 11, `duplicate key "priority"`}},
	}, {
		name: "type required on group and integration",
		in: `name: booking-app
integrations:
  - name: gpt-prod
    routing_config: {type: latency-based-routing, load_balance_targets: [{target: a/b}]}
`,
		want: []loc{
			{g, "type", 1, "required (provider-account/virtual-model)"},
			{g, "integrations[0].type", 3, "required (integration/model/virtual)"},
		},
	}, {
		name: "unsupported types",
		in: `name: booking-app
type: provider-account/openai
integrations:
  - name: gpt-prod
    type: integration/model
    routing_config: {type: latency-based-routing, load_balance_targets: [{target: a/b}]}
`,
		want: []loc{
			{g, "type", 2, `unsupported type "provider-account/openai" (want provider-account/virtual-model)`},
			{g, "integrations[0].type", 5, `unsupported type "integration/model"`},
		},
	}, {
		name: "required keys",
		in: `name: booking-app
type: provider-account/virtual-model
collaborators:
  - {role_id: provider-account-access}
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    routing_config:
      sticky_routing: {session_identifiers: [{key: x}]}
      load_balance_targets:
        - weight: 1
  - type: integration/model/virtual
`,
		want: []loc{
			{g, "collaborators[0].subject", 4, "required"},
			{g, "integrations[0].routing_config.type", 9, "required"},
			{g, "integrations[0].routing_config.sticky_routing.ttl_seconds", 9, "required"},
			{g, "integrations[0].routing_config.sticky_routing.session_identifiers[0].source", 9, "required"},
			{g, lbt(0, ".target"), 11, "required"},
			{g, "integrations[1].name", 12, "required"},
			{g, "integrations[1].routing_config", 12, "required"},
		},
	}, {
		name: "empty values that would mean something else",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          sla_cutoff: {}
  - name: gpt-dev
    type: integration/model/virtual
    slug: ""
    model_types: []
    routing_config: {type: priority-based-routing, load_balance_targets: [{target: a/b}]}
`,
		want: []loc{
			{g, lbt(0, ".sla_cutoff"), 10, "set time_per_output_token_ms, time_to_first_token_ms or both"},
			{g, "integrations[1].slug", 13, "empty; leave the key out"},
			{g, "integrations[1].model_types", 14, "empty; leave the key out"},
		},
	}, {
		name: "override_params values",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          override_params:
            temperature: .nan
            logit_bias: !!binary aGVsbG8=
            extra: {a: 1, a: 2}
`,
		want: []loc{
			{g, lbt(0, ".override_params.temperature"), 11, ".nan is not a finite number"},
			{g, lbt(0, ".override_params.logit_bias"), 12, "unsupported value: a value tagged !!binary"},
			{g, lbt(0, ".override_params.extra.a"), 13, `duplicate key "a"`},
		},
	}, {
		name: "YAML syntax",
		in:   "name: booking-app\ntype: provider-account/virtual-model\nintegrations: [\n",
		want: []loc{{"", "", 3, "invalid YAML: did not find expected node content"}},
	}, {
		name: "JSON syntax",
		in:   "{\"name\": \"booking-app\",\n \"type\": }\n",
		want: []loc{{"", "", 2, "invalid JSON: invalid character '}'"}},
	}, {
		name: "JSON trailing data",
		in:   "{\"name\": \"booking-app\"}\n{}",
		want: []loc{{"", "", 2, "unexpected data after the top-level value"}},
	}, {
		name: "JSON lines",
		in: `{"name": "booking-app", "type": "provider-account/virtual-model",
 "integrations": [{"name": "gpt-prod", "type": "integration/model/virtual",
   "routing_config": {"type": "weight-based-routing",
     "load_balance_targets": [
       {"target": "a/b", "wieght": 1}]}}]}`,
		want: []loc{
			{g, lbt(0, ".wieght"), 5, `unknown key "wieght"`},
			{g, lbt(0, ".weight"), 5, "required for weight-based-routing"},
		},
	}, {
		name: "empty manifest",
		in:   "# nothing here\n---\n---\n",
		want: []loc{{"", "", 0, "the manifest holds no groups"}},
	}, {
		name: "empty JSON array",
		in:   " [ ] ",
		want: []loc{{"", "", 0, "the manifest holds no groups"}},
	}, {
		name: "a document that is not a group",
		in:   "just some text\n",
		want: []loc{{"", "", 1, "a document must be a group (a mapping) or a list of groups, got the string"}},
	}, {
		name: "lines count across documents",
		in: `name: first-app
type: provider-account/virtual-model
---
name: second-app
type: provider-account/virtual-model
colaborators: []
`,
		want: []loc{{"second-app", "colaborators", 6, `unknown key "colaborators" (did you mean "collaborators"?)`}},
	}, {
		// The rules below are Validate's; ParseManifest applies them
		// with the lines from the manifest.
		name: "names and slugs",
		in: `name: Booking
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    slug: gpt
    routing_config: {type: priority-based-routing, load_balance_targets: [{target: a/b}]}
  - name: gpt-prod
    type: integration/model/virtual
    slug: gpt
    routing_config: {type: priority-based-routing, load_balance_targets: [{target: a/b}]}
  - name: x
    type: integration/model/virtual
    slug: -x
    routing_config: {type: priority-based-routing, load_balance_targets: [{target: a/b}]}
`,
		want: []loc{
			{"Booking", "name", 1, "must start with a lowercase letter"},
			{"Booking", "integrations[1].name", 8, `duplicate virtual model name "gpt-prod"`},
			{"Booking", "integrations[1].slug", 10, `slug "gpt" collides with the slug of Booking/gpt-prod`},
			{"Booking", "integrations[2].name", 12, "too short"},
			{"Booking", "integrations[2].slug", 14, "must start with a letter"},
		},
	}, {
		name: "sticky routing",
		in: head + `      type: priority-based-routing
      sticky_routing:
        ttl_seconds: 60
        session_identifiers: [{source: cookie, key: sid}]
      load_balance_targets:
        - target: azure-main/gpt-4o
`,
		want: []loc{
			{g, "integrations[0].routing_config.sticky_routing", 8, "applies only to weight-based-routing"},
			{g, "integrations[0].routing_config.sticky_routing.ttl_seconds", 9, "60 is out of range 1800..86400"},
			{g, "integrations[0].routing_config.sticky_routing.session_identifiers[0].source", 10, `unknown source "cookie"`},
		},
	}, {
		name: "targets",
		in: `name: booking-app
type: provider-account/virtual-model
integrations:
  - name: gpt-prod
    type: integration/model/virtual
    model_types: [chat, image]
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: booking-app/gpt-dev
        - target: azure-main/gpt-4o
          priority: -1
          retry_config: {attempts: 11}
        - target: azure-main/gpt-4o
        - target: gpt-4o
  - name: gpt-dev
    type: integration/model/virtual
    routing_config: {type: latency-based-routing, load_balance_targets: [{target: a/b}]}
`,
		want: []loc{
			{g, "integrations[0].model_types[1]", 6, `unknown model type "image"`},
			{g, "integrations[0].routing_config.load_balance_targets[0].target", 10, `"booking-app/gpt-dev" is a virtual model`},
			{g, "integrations[0].routing_config.load_balance_targets[1].priority", 12, "must be 0 or more, got -1"},
			{g, "integrations[0].routing_config.load_balance_targets[1].retry_config.attempts", 13, "must be 0..10, got 11"},
			{g, "integrations[0].routing_config.load_balance_targets[2].target", 14, `duplicate target "azure-main/gpt-4o"`},
			{g, "integrations[0].routing_config.load_balance_targets[3].target", 15, `has no '/'`},
		},
	}, {
		name: "headers, metadata and params",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          headers_override:
            set:
              x-a: "a\r\nb"
              bad name: v
              X-Api-Version: "1"
              x-api-version: "2"
            remove: ["x:y"]
          metadata_match:
            tier: ` + strings.Repeat("x", metadata.MaxValueLen+1) + `
          override_params:
            temperature: hot
            max_tokens: 1.5
            stop: [1]
`,
		want: []loc{
			{g, lbt(0, ".headers_override.set"), 11, `"bad name" is not a valid header name`},
			{g, lbt(0, ".headers_override.set.x-a"), 12, "control character"},
			{g, lbt(0, ".headers_override.set.x-api-version"), 15, `same header as "X-Api-Version"`},
			{g, lbt(0, ".headers_override.remove[0]"), 16, `"x:y" is not a valid header name`},
			{g, lbt(0, ".metadata_match.tier"), 18, "value longer than 128 characters"},
			{g, lbt(0, ".override_params.temperature"), 20, `want a number, got the string "hot"`},
			{g, lbt(0, ".override_params.max_tokens"), 21, "want a whole number, got 1.5"},
			{g, lbt(0, ".override_params.stop"), 22, "want a string or a list of strings, got a list"},
		},
	}, {
		name: "collaborators",
		in: `name: booking-app
type: provider-account/virtual-model
collaborators:
  - {subject: alice, role_id: provider-account-manager}
  - {subject: group:x, role_id: owner}
`,
		want: []loc{
			{g, "collaborators[0].subject", 4, `"alice" must look like user:<email>`},
			{g, "collaborators[1].subject", 5, `unknown subject kind "group"`},
			{g, "collaborators[1].role_id", 5, `unknown role "owner"`},
		},
	}, {
		name: "duplicate groups",
		in: `[{"name": "booking-app", "type": "provider-account/virtual-model"},
 {"name": "booking-app", "type": "provider-account/virtual-model"}]`,
		want: []loc{{g, "name", 2, `duplicate group name "booking-app"`}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			groups, err := routing.ParseManifest([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseManifest succeeded: %+v", groups)
			}
			if groups != nil {
				t.Errorf("ParseManifest returned groups with an error")
			}
			got := locs(t, err, tc.want)
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// Lines from a manifest reach the problems Validate finds once the
// provider accounts are known, and those a Client finds (Annotate).
func TestManifestLines(t *testing.T) {
	in := head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
        - target: onprem/llama
          priority: 1
`
	m, err := routing.LoadManifest([]byte(strings.Replace(in, "model/virtual\n", "model/virtual\n    model_types: [chat, embedding]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Validate(routing.Accounts{"azure-main": chatOnly{}}, nil)
	want := []loc{
		{"booking-app", lbt(0, ".target"), 10, `provider account "azure-main" cannot serve model type "embedding"`},
		{"booking-app", lbt(1, ".target"), 11, `unknown provider account "onprem"`},
	}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("Validate (-got +want):\n%s", diff)
	}

	// Validated elsewhere, together with other groups, the problems are
	// located by group and path only; Annotate adds the lines.
	other := routing.Group{Name: "other-app"}
	all := append([]routing.Group{other}, m.Groups...)
	err = routing.ValidateGroups(all, routing.Accounts{"azure-main": full{}}, nil)
	wrapped := errors.Join(errors.New("routing: bad configuration"), err)
	if got := m.Annotate(wrapped); got != wrapped {
		t.Errorf("Annotate returned a different error")
	}
	want = []loc{{"booking-app", lbt(1, ".target"), 11, `unknown provider account "onprem"`}}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("Annotate (-got +want):\n%s", diff)
	}
	if got := m.Annotate(nil); got != nil {
		t.Errorf("Annotate(nil) = %v", got)
	}
}

func TestWarnings(t *testing.T) {
	m, err := routing.LoadManifest([]byte(head + `      type: weight-based-routing
      load_balance_targets:
        - {target: a/b, weight: 30}
        - {target: a/c, weight: 30}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Warnings()
	want := []*routing.FieldError{{
		Group: "booking-app", Path: "integrations[0].routing_config.load_balance_targets", Line: 8,
		Msg: "weights sum to 60, not 100; they are taken as relative shares",
	}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Warnings (-got +want):\n%s", diff)
	}
}

// What a manifest leaves out comes back filled in.
func TestLoadDefaults(t *testing.T) {
	in := head + `      type: priority-based-routing
      request_timeout_ms: 1500
      load_balance_targets:
        - target: azure-main/gpt-4o
          retry_config: {delay: 250}
          fallback_status_codes: []
          fallback_candidate: false
          metadata_match: {}
          sla_cutoff: {time_to_first_token_ms: 900}
          override_params: {temperature: 0.5, max_tokens: 10, stop: [a], extra: {n: null, l: [1, 2.5, true]}}
        - target: openai-main/gpt-4o
          priority: 1
          retry_config: {attempts: 0, on_status_codes: []}
          headers_override: {set: {x-a: 1}}
`
	groups, err := routing.ParseManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []routing.Group{{
		Name: "booking-app",
		Models: []routing.VirtualModel{{
			Name:       "gpt-prod",
			ModelTypes: []routing.ModelType{routing.Chat},
			Routing: routing.RoutingConfig{
				Type:           routing.PriorityBased,
				RequestTimeout: 1500 * time.Millisecond,
				Targets: []target.Target{{
					Ref:                 "azure-main/gpt-4o",
					Retry:               &target.Retry{Attempts: 2, Delay: 250 * time.Millisecond, OnStatusCodes: []int{429, 500, 502, 503}},
					FallbackStatusCodes: []int{},
					NoFallback:          true,
					SLA:                 target.SLACutoff{TimeToFirstToken: 900 * time.Millisecond},
					Params: map[string]any{
						"temperature": 0.5, "max_tokens": 10, "stop": []any{"a"},
						"extra": map[string]any{"n": nil, "l": []any{1, 2.5, true}},
					},
				}, {
					Ref:                 "openai-main/gpt-4o",
					Priority:            1,
					Retry:               &target.Retry{Attempts: 0, Delay: 100 * time.Millisecond, OnStatusCodes: []int{}},
					FallbackStatusCodes: []int{401, 403, 404, 429, 500, 502, 503},
					Headers:             target.HeadersOverride{Set: map[string]string{"x-a": "1"}},
				}},
			},
		}},
	}}
	if diff := cmp.Diff(groups, want); diff != "" {
		t.Errorf("ParseManifest (-got +want):\n%s", diff)
	}
}

// The JSON and YAML forms of a manifest are the same groups.
func TestJSONEqualsYAML(t *testing.T) {
	data := testdata(t)
	y, err := routing.ParseManifest(data["priority-rate-limit.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	j, err := routing.ParseManifest(data["priority-rate-limit.json"])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, y); diff != "" {
		t.Errorf("JSON vs YAML (-json +yaml):\n%s", diff)
	}
}

// Hostile YAML: alias cycles and alias bombs end in an error, not a hang
// or a crash.
func TestAliases(t *testing.T) {
	ok := head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          retry_config: &retry {attempts: 1, delay: 200}
        - target: openai-main/gpt-4o
          priority: 1
          retry_config: *retry
`
	groups, err := routing.ParseManifest([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if r := groups[0].Models[0].Routing.Targets[1].Retry; r.Attempts != 1 || r.Delay != 200*time.Millisecond {
		t.Errorf("aliased retry_config = %+v", r)
	}
	if groups[0].Models[0].Routing.Targets[0].Retry == groups[0].Models[0].Routing.Targets[1].Retry {
		t.Errorf("aliased values share storage")
	}

	cycle := head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          override_params: &p {a: *p}
`
	_, err = routing.ParseManifest([]byte(cycle))
	want := []loc{{"booking-app", lbt(0, ".override_params.a"), 10, "nested more than 100 levels deep"}}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("alias cycle (-got +want):\n%s", diff)
	}
	_, err = routing.ParseManifest([]byte(strings.Repeat("---\n", 20_000)))
	want = []loc{{"", "", 0, "more than 10000 YAML documents"}}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("too many documents (-got +want):\n%s", diff)
	}

	var b strings.Builder
	b.WriteString(head + "      type: priority-based-routing\n      load_balance_targets:\n        - target: a/b\n          override_params:\n")
	b.WriteString("            l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("            l" + string(rune('a'+i)) + ": &l" + string(rune('a'+i)) + " [")
		prev := "l0"
		if i > 1 {
			prev = "l" + string(rune('a'+i-1))
		}
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
	}
	if _, err := routing.ParseManifest([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "too large once its aliases are expanded") {
		t.Errorf("alias bomb: got %v", err)
	}
}
