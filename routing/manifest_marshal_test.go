package routing_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// Groups built in Go come back from Marshal and Load with their defaults
// filled in, and Marshal leaves its argument alone.
func TestMarshalGo(t *testing.T) {
	awkward := []string{"", " x", "x ", "yes", "no", "null", "~", "123", "1e3", "0x1F", "- x", "a: b", "#x", "x #y", "'", `"`,
		"\\", "{", "[a]", "*a", "&a", "!x", "%x", "@x", "`x", "é", "\u2028", "\u0085", "\ufeff", "\t", "x\ty", "日本"}
	params := map[string]any{"i": 7, "f": 1.0, "big": 1e21, "small": 1e-7, "neg": -0.5, "b": false, "nil": nil,
		"list": []any{}, "map": map[string]any{}, "strs": []string{"a", "b"}, "i8": int8(-3), "u": uint(4)}
	md := metadata.MD{}
	set := map[string]string{}
	for i, s := range awkward {
		params["s"+string(rune('a'+i))] = s
		md["k"+string(rune('a'+i))] = s
		set["x-"+string(rune('a'+i))] = s
	}
	in := []routing.Group{{
		Name:          "booking-app",
		Collaborators: []routing.Collaborator{{Subject: "user:a@example.com", Role: routing.RoleManager}},
		Models: []routing.VirtualModel{{
			Name: "gpt-prod",
			Slug: "gpt",
			Routing: routing.RoutingConfig{
				Type:              routing.WeightBased,
				Sticky:            &routing.Sticky{TTL: time.Hour, SessionIdentifiers: []routing.SessionIdentifier{{Source: routing.FromHeaders, Key: "x-session-id"}}},
				StreamIdleTimeout: 2 * time.Second,
				Targets: []target.Target{{
					Ref: "azure-main/gpt-4o", Weight: 0, NoFallback: true,
					MetadataMatch: md, Headers: target.HeadersOverride{Set: set, Remove: []string{"x-debug"}},
					Params: params, TTFTTimeout: time.Second,
				}, {
					Ref: "openai-main/gpt-4o", Weight: 10, Retry: &target.Retry{Attempts: 1},
				}},
			},
		}},
	}, {Name: "empty-app"}}
	out, err := routing.MarshalManifest(in)
	if err != nil {
		t.Fatal(err)
	}
	if in[0].Models[0].ModelTypes != nil || in[0].Models[0].Routing.Targets[0].Retry != nil {
		t.Errorf("Marshal changed its argument")
	}
	m, err := routing.LoadManifest(out)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, out)
	}
	want := in
	want[0].Models[0].ModelTypes = []routing.ModelType{routing.Chat}
	tg := want[0].Models[0].Routing.Targets
	tg[0].Retry = &target.Retry{Attempts: 2, Delay: 100 * time.Millisecond, OnStatusCodes: []int{429, 500, 502, 503}}
	tg[0].FallbackStatusCodes = []int{401, 403, 404, 429, 500, 502, 503}
	// Types the format has no word for come back as the ones it has.
	tg[0].Params["strs"] = []any{"a", "b"}
	tg[0].Params["i8"] = -3
	tg[0].Params["u"] = 4
	tg[1].Retry = &target.Retry{Attempts: 1, Delay: 100 * time.Millisecond, OnStatusCodes: []int{429, 500, 502, 503}}
	tg[1].FallbackStatusCodes = []int{401, 403, 404, 429, 500, 502, 503}
	if diff := cmp.Diff(m.Groups, want); diff != "" {
		t.Errorf("Load(Marshal(groups)) (-got +want):\n%s\n%s", diff, out)
	}
	again, err := routing.MarshalManifest(m.Groups)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(again), string(out)); diff != "" {
		t.Errorf("Marshal is not stable (-second +first):\n%s", diff)
	}
}

func TestMarshalErrors(t *testing.T) {
	g := group(routing.RoutingConfig{
		Type:           routing.PriorityBased,
		Sticky:         &routing.Sticky{TTL: 1500 * time.Millisecond},
		RequestTimeout: 1500 * time.Microsecond,
		Targets: []target.Target{{
			Ref:    "azure-main/\xff",
			Params: map[string]any{"nan": math.NaN(), "ch": make(chan int), "deep": map[int]int{1: 2}},
		}},
	})
	_, err := routing.MarshalManifest([]routing.Group{g})
	p := "integrations[0].routing_config"
	want := []loc{
		{"booking-app", p + ".sticky_routing.ttl_seconds", 0, "1.5s is not a whole number of s"},
		{"booking-app", p + ".load_balance_targets[0].override_params.ch", 0, "a chan int cannot be written in a manifest"},
		{"booking-app", p + ".load_balance_targets[0].override_params.deep", 0, "a map[int]int cannot be written"},
		{"booking-app", p + ".load_balance_targets[0].override_params.nan", 0, "NaN is not a finite number"},
		{"booking-app", p + ".load_balance_targets[0].target", 0, "not valid UTF-8"},
		{"booking-app", p + ".request_timeout_ms", 0, "1.5ms is not a whole number of ms"},
	}
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("problems (-got +want):\n%s\nerror: %v", diff, err)
	}
	if out, err := routing.MarshalManifest(nil); err != nil || len(out) != 0 {
		t.Errorf("Marshal(nil) = %q, %v", out, err)
	}
	if !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("error text %q", err)
	}
}
