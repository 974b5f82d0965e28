package routing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/internal/overrides"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// group returns a valid group with one virtual model whose routing is r.
func group(r routing.RoutingConfig, types ...routing.ModelType) routing.Group {
	return routing.Group{Name: "booking-app", Models: []routing.VirtualModel{{Name: "gpt-prod", ModelTypes: types, Routing: r}}}
}

func TestValidateGo(t *testing.T) {
	const g = "booking-app"
	accounts := routing.Accounts{"azure-main": full{}, "chat-only": chatOnly{}}
	tests := []struct {
		name   string
		groups []routing.Group
		known  map[string]bool
		want   []loc
	}{{
		name: "valid",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.WeightBased, Targets: []target.Target{
			{Ref: "azure-main/gpt-4o", Weight: 1}, {Ref: "chat-only/gpt-4o"},
		}})},
	}, {
		name: "an invalid routing type is reported once",
		groups: []routing.Group{group(routing.RoutingConfig{Type: "round-robin", Targets: []target.Target{
			{Ref: "azure-main/gpt-4o", Weight: 1, Priority: 2},
		}})},
		want: []loc{{g, "integrations[0].routing_config.type", 0, `unknown routing type "round-robin"`}},
	}, {
		name: "weights",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.WeightBased, Targets: []target.Target{
			{Ref: "azure-main/a", Weight: routing.MaxWeight + 1}, {Ref: "azure-main/b", Weight: -1},
		}})},
		want: []loc{
			{g, "integrations[0].routing_config.load_balance_targets[0].weight", 0, "must be 0..16777216, got 16777217"},
			{g, "integrations[0].routing_config.load_balance_targets[1].weight", 0, "must be 0..16777216, got -1"},
		},
	}, {
		name: "no positive weight",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.WeightBased, Targets: []target.Target{
			{Ref: "azure-main/a"},
		}})},
		want: []loc{{g, "integrations[0].routing_config.load_balance_targets", 0, "at least one target with a positive weight"}},
	}, {
		name: "model types an account cannot serve",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.LatencyBased, Targets: []target.Target{
			{Ref: "azure-main/a"}, {Ref: "chat-only/b"}, {Ref: "nowhere/c"},
		}}, routing.Chat, routing.Completion, routing.Chat)},
		want: []loc{
			{g, "integrations[0].model_types[2]", 0, `duplicate model type "chat"`},
			{g, "integrations[0].routing_config.load_balance_targets[1].target", 0, `provider account "chat-only" cannot serve model type "completion"`},
			{g, "integrations[0].routing_config.load_balance_targets[2].target", 0, `unknown provider account "nowhere"`},
		},
	}, {
		name: "slugs and targets collide with existing virtual models",
		groups: []routing.Group{func() routing.Group {
			g := group(routing.RoutingConfig{Type: routing.LatencyBased, Targets: []target.Target{{Ref: "other-app/chat"}}})
			g.Models[0].Slug = "chat"
			return g
		}()},
		known: map[string]bool{"other-app/chat": true, "chat": true},
		want: []loc{
			{g, "integrations[0].slug", 0, `slug "chat" is already taken`},
			{g, "integrations[0].routing_config.load_balance_targets[0].target", 0, `unknown provider account "other-app"`},
		},
	}, {
		// Problems that involve another group do not tell what it holds.
		name: "another group's names stay private",
		groups: []routing.Group{
			func() routing.Group {
				g := group(routing.RoutingConfig{Type: routing.LatencyBased, Targets: []target.Target{{Ref: "azure-main/a"}}})
				g.Name, g.Models[0].Name, g.Models[0].Slug = "payroll", "secret-model", "hidden"
				return g
			}(),
			func() routing.Group {
				g := group(routing.RoutingConfig{Type: routing.LatencyBased, Targets: []target.Target{{Ref: "payroll/secret-model"}}})
				g.Models[0].Slug = "hidden"
				return g
			}(),
		},
		want: []loc{
			{g, "integrations[0].slug", 0, `slug "hidden" is already taken by another group`},
			{g, "integrations[0].routing_config.load_balance_targets[0].target", 0, `unknown provider account "payroll"`},
		},
	}, {
		name: "sticky identifiers",
		groups: []routing.Group{group(routing.RoutingConfig{
			Type: routing.WeightBased,
			Sticky: &routing.Sticky{TTL: time.Hour, SessionIdentifiers: []routing.SessionIdentifier{
				{Source: routing.FromHeaders, Key: "x-session-id"},
				{Source: routing.FromHeaders, Key: "X-Session-Id"},
				{Source: routing.FromMetadata, Key: strings.Repeat("k", metadata.MaxKeyLen+1)},
				{Source: routing.FromMetadata},
			}},
			Targets: []target.Target{{Ref: "azure-main/a", Weight: 1}},
		})},
		want: []loc{
			{g, "integrations[0].routing_config.sticky_routing.session_identifiers[1]", 0, `duplicate session identifier headers "X-Session-Id"`},
			{g, "integrations[0].routing_config.sticky_routing.session_identifiers[2].key", 0, "metadata key of 129 characters, at most 128"},
			{g, "integrations[0].routing_config.sticky_routing.session_identifiers[3].key", 0, "required"},
		},
	}, {
		name: "override_params built in Go",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{
			Ref: "azure-main/a",
			Params: map[string]any{
				"temperature": 1e300, "n": int64(1 << 40), "stop": []string{"\n"},
				"prompt_version_fqn": 3, "callback": func() {}, "": 1,
			},
		}}})},
		want: []loc{
			{g, "integrations[0].routing_config.load_balance_targets[0].override_params", 0, "empty key"},
			{g, "integrations[0].routing_config.load_balance_targets[0].override_params.callback", 0, "cannot be sent as JSON"},
			{g, "integrations[0].routing_config.load_balance_targets[0].override_params.n", 0, "want a whole number"},
			{g, "integrations[0].routing_config.load_balance_targets[0].override_params.prompt_version_fqn", 0, "want a string, got 3"},
			{g, "integrations[0].routing_config.load_balance_targets[0].override_params.temperature", 0, "is not a finite number"},
		},
	}, {
		name: "metadata_match keys",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{
			Ref:           "azure-main/a",
			MetadataMatch: metadata.MD{"": "x", strings.Repeat("é", metadata.MaxKeyLen+1): "y", "ok": strings.Repeat("é", metadata.MaxValueLen)},
		}}})},
		want: []loc{
			{g, "integrations[0].routing_config.load_balance_targets[0].metadata_match", 0, "empty key"},
			{g, "integrations[0].routing_config.load_balance_targets[0].metadata_match", 0, "is longer than 128 characters"},
		},
	}, {
		// Durations built in Go are shown with their unit, and one under
		// a millisecond is negative all the same.
		name: "durations",
		groups: []routing.Group{group(routing.RoutingConfig{Type: routing.PriorityBased, RequestTimeout: -time.Second, StreamIdleTimeout: -time.Microsecond, Targets: []target.Target{{
			Ref: "azure-main/a", Retry: &target.Retry{Delay: -time.Second, OnStatusCodes: []int{99}},
			SLA: target.SLACutoff{TimeToFirstToken: -time.Millisecond},
		}}})},
		want: []loc{
			{g, "integrations[0].routing_config.request_timeout_ms", 0, "must not be negative, got -1s"},
			{g, "integrations[0].routing_config.stream_idle_timeout_ms", 0, "must not be negative, got -1µs"},
			{g, "integrations[0].routing_config.load_balance_targets[0].sla_cutoff.time_to_first_token_ms", 0, "must not be negative, got -1ms"},
			{g, "integrations[0].routing_config.load_balance_targets[0].retry_config.delay", 0, "must not be negative, got -1s"},
			{g, "integrations[0].routing_config.load_balance_targets[0].retry_config.on_status_codes[0]", 0, "99 is not an HTTP status code"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := routing.ValidateGroups(tc.groups, accounts, tc.known)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if diff := cmp.Diff(locs(t, err, tc.want), tc.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// Without the accounts, Validate checks everything else.
func TestValidateWithoutAccounts(t *testing.T) {
	g := group(routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "anything/at-all"}}}, routing.Embedding)
	if err := routing.ValidateGroups([]routing.Group{g}, nil, nil); err != nil {
		t.Errorf("Validate(nil accounts) = %v", err)
	}
	if err := routing.ValidateGroups([]routing.Group{g}, routing.Accounts{}, nil); err == nil {
		t.Errorf("Validate(no accounts) succeeded")
	}
}

// Validate rejects an override_params value exactly when routing could
// not send it: both read the one table of typed parameters.
func TestOverrideParamsFollowTheTable(t *testing.T) {
	values := []any{"text", 3, 0.5, 1.5, []any{"a"}, []any{1}, map[string]any{}, nil, true, func() {}}
	for _, k := range append(overrides.Keys(), "logit_bias") {
		for _, v := range values {
			g := routing.Group{Name: "booking-app", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type: routing.PriorityBased, Targets: []target.Target{{Ref: "a/b", Params: map[string]any{k: v}}},
			}}}}
			err := routing.ValidateGroups([]routing.Group{g}, nil, nil)
			if sendable := overrides.Check(k, v) == nil; sendable != (err == nil) {
				t.Errorf("%s = %#v: Validate says %v, but sending %s", k, v, err, map[bool]string{true: "can", false: "cannot"}[sendable])
			}
			if err != nil && !strings.Contains(err.Error(), "override_params."+k+": ") {
				t.Errorf("%s = %#v: problem %v does not name the key", k, v, err)
			}
		}
	}
}
