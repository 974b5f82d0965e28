package routing_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

const rateLimitManifest = head + `      type: priority-based-routing
      rate_limit: {requests_per_minute: 600, tokens_per_minute: 90000}
      load_balance_targets:
        - target: azure-main/gpt-4o
          priority: 0
          rate_limit:
            requests_per_minute: 60
        - target: openai-main/gpt-4o
          priority: 1
`

func TestRateLimitRoundTrip(t *testing.T) {
	groups, err := routing.ParseManifest([]byte(rateLimitManifest))
	if err != nil {
		t.Fatal(err)
	}
	rc := groups[0].Models[0].Routing
	type limits struct {
		Routing target.RateLimit
		Targets []target.RateLimit
	}
	got := limits{Routing: rc.RateLimit}
	for _, tg := range rc.Targets {
		got.Targets = append(got.Targets, tg.RateLimit)
	}
	want := limits{
		Routing: target.RateLimit{RequestsPerMinute: 600, TokensPerMinute: 90000},
		// The target's own rate_limit replaces the default whole; the
		// routing layer applies the default to the second.
		Targets: []target.RateLimit{{RequestsPerMinute: 60}, {}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("rate limits (-got +want):\n%s", diff)
	}
	out := roundTrip(t, groups)
	if n := strings.Count(string(out), "rate_limit:"); n != 2 {
		t.Errorf("marshalled manifest has %d rate_limit keys, want 2 (none where there is none):\n%s", n, out)
	}
}

func TestRateLimitErrors(t *testing.T) {
	const g = "booking-app"
	rl := "integrations[0].routing_config.rate_limit"
	for _, tc := range []struct {
		name string
		in   string
		want []loc
	}{{
		name: "empty",
		in: head + `      type: priority-based-routing
      rate_limit: {}
      load_balance_targets:
        - target: azure-main/gpt-4o
`,
		want: []loc{{g, rl, 8, "set requests_per_minute, tokens_per_minute or both"}},
	}, {
		name: "not positive",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          rate_limit:
            requests_per_minute: 0
            tokens_per_minute: -10
`,
		want: []loc{
			{g, lbt(0, ".rate_limit.requests_per_minute"), 11, "must be positive, got 0"},
			{g, lbt(0, ".rate_limit.tokens_per_minute"), 12, "must be positive, got -10"},
		},
	}, {
		name: "misspelt key",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          rate_limit: {request_per_minute: 5}
`,
		want: []loc{
			{g, lbt(0, ".rate_limit.request_per_minute"), 10, `unknown key "request_per_minute" (did you mean "requests_per_minute"?)`},
			{g, lbt(0, ".rate_limit"), 10, "set requests_per_minute, tokens_per_minute or both"},
		},
	}, {
		name: "wrong types",
		in: head + `      type: priority-based-routing
      rate_limit: 60
      load_balance_targets:
        - target: azure-main/gpt-4o
          rate_limit: {requests_per_minute: "60", tokens_per_minute: 1.5}
`,
		want: []loc{
			{g, rl, 8, "want a mapping, got"},
			{g, lbt(0, ".rate_limit.requests_per_minute"), 11, "want an integer, got"},
			{g, lbt(0, ".rate_limit.tokens_per_minute"), 11, "want an integer, got"},
		},
	}, {
		name: "too large",
		in: head + `      type: priority-based-routing
      load_balance_targets:
        - target: azure-main/gpt-4o
          rate_limit: {tokens_per_minute: 99999999999999}
`,
		want: []loc{{g, lbt(0, ".rate_limit.tokens_per_minute"), 10, "must be 0..1099511627776, got 99999999999999"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routing.ParseManifest([]byte(tc.in))
			if err == nil {
				t.Fatal("ParseManifest accepted the manifest")
			}
			if diff := cmp.Diff(locs(t, err, tc.want), tc.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
		})
	}
}

func TestRateLimitValidateGo(t *testing.T) {
	g := routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
		Type:      routing.PriorityBased,
		RateLimit: target.RateLimit{RequestsPerMinute: -1},
		Targets:   []target.Target{{Ref: "acct/m", RateLimit: target.RateLimit{TokensPerMinute: -5}}},
	}}}}
	err := routing.ValidateGroups([]routing.Group{g}, nil, nil)
	want := []loc{
		{"grp", "integrations[0].routing_config.rate_limit.requests_per_minute", 0, "must be 0..1099511627776, got -1"},
		{"grp", "integrations[0].routing_config.load_balance_targets[0].rate_limit.tokens_per_minute", 0, "must be 0..1099511627776, got -5"},
	}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("problems (-got +want):\n%s", diff)
	}
}
