package routing_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// FuzzParseManifest: no input makes the parser panic, every error is a
// routing.FieldErrors, and whatever loads survives Marshal unchanged: parse →
// marshal → parse gives equal groups, and marshalling those again gives
// the same bytes.
func FuzzParseManifest(f *testing.F) {
	for _, data := range testdata(f) {
		f.Add(data)
	}
	f.Add([]byte(head + "      type: weight-based-routing\n      load_balance_targets:\n        - {target: a/b, weight: 1, override_params: {x: [1, 2.5, {y: null}]}}\n"))
	f.Add([]byte(`[{"name": "a-b", "type": "provider-account/virtual-model"}]`))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("---\n- name: x\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := routing.LoadManifest(data)
		_, all := routing.CheckManifest(data, nil, nil)
		if err != nil {
			var es routing.FieldErrors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Load error %v (%T) is not a non-empty routing.FieldErrors", err, err)
			}
			// Check reports what Load does and perhaps more, in line order.
			var cs routing.FieldErrors
			if !errors.As(all, &cs) {
				t.Fatalf("Check error %v (%T) is not a routing.FieldErrors", all, all)
			}
			seen := map[string]int{}
			for i, e := range cs {
				seen[e.Error()]++
				if i > 0 && e.Line < cs[i-1].Line {
					t.Fatalf("Check's problems are not in line order:\n%v", all)
				}
			}
			for _, e := range es {
				if seen[e.Error()]--; seen[e.Error()] < 0 {
					t.Fatalf("Check lacks Load's problem %q:\n%v", e, all)
				}
			}
			return
		}
		if got, want := fmt.Sprint(all), fmt.Sprint(m.Validate(nil, nil)); got != want {
			t.Fatalf("Check of a manifest Load reads = %s, want Validate's %s", got, want)
		}
		_ = m.Validate(routing.Accounts{}, nil)
		_ = m.Warnings()
		out, err := routing.MarshalManifest(m.Groups)
		if err != nil {
			t.Fatalf("Marshal of loaded groups: %v", err)
		}
		m2, err := routing.LoadManifest(out)
		if err != nil {
			t.Fatalf("Load(Marshal(groups)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(m2.Groups, m.Groups); diff != "" {
			t.Fatalf("parse → marshal → parse changed the groups (-got +want):\n%s\n%s", diff, out)
		}
		out2, err := routing.MarshalManifest(m2.Groups)
		if err != nil {
			t.Fatal(err)
		}
		if string(out2) != string(out) {
			t.Fatalf("Marshal is not stable:\n%s\n---- vs ----\n%s", out, out2)
		}
	})
}

// FuzzMarshal: values built in Go, with arbitrary strings and numbers
// where the format allows them, survive Marshal and Load exactly.
func FuzzMarshal(f *testing.F) {
	f.Add("x-session-id", "enterprise", "v1", "chat_prompt:a/b:1", 0.2, int64(512), 100, true)
	f.Add("", "\u2028", "\r\n", "'\"", 1e300, int64(-1), 0, false)
	f.Add("a: b", "- x", "#", "null", -0.0, int64(1)<<62, 5, true)
	types := []routing.RoutingType{routing.WeightBased, routing.LatencyBased, routing.PriorityBased}
	f.Fuzz(func(t *testing.T, key, value, header, param string, fl float64, i int64, ms int, fallback bool) {
		typ := types[uint64(i)%3]
		params := map[string]any{"f": fl, "i": i, "l": []any{value, fl, i}, "m": map[string]any{header: nil}}
		params[key] = param
		g := routing.Group{Name: key, Models: []routing.VirtualModel{{
			Name: param, Slug: header,
			Routing: routing.RoutingConfig{
				Type: typ,
				Sticky: &routing.Sticky{
					TTL:                time.Duration(i%100000) * time.Second,
					SessionIdentifiers: []routing.SessionIdentifier{{Source: routing.SessionSource(key), Key: value}},
				},
				Targets: []target.Target{{
					Ref:           param,
					Weight:        ms % 7,
					MetadataMatch: metadata.MD{key: value},
					Headers:       target.HeadersOverride{Set: map[string]string{key: header}, Remove: []string{header}},
					Params:        params,
					Retry:         &target.Retry{Attempts: ms % 12, Delay: time.Duration(ms) * time.Millisecond},
					NoFallback:    !fallback,
				}},
			},
		}}}
		if typ != routing.WeightBased {
			g.Models[0].Routing.Targets[0].Weight = 0
		}
		out, err := routing.MarshalManifest([]routing.Group{g})
		if err != nil {
			return // not valid UTF-8, a non-finite number, ...
		}
		m, err := routing.LoadManifest(out)
		if err != nil {
			return // a negative delay, ...
		}
		want := g
		want.Models[0].ModelTypes = []routing.ModelType{routing.Chat}
		tg := &want.Models[0].Routing.Targets[0]
		r := tg.RetryOrDefault()
		tg.Retry = &r
		tg.FallbackStatusCodes = target.DefaultFallbackCodes
		tg.Params = ints(params).(map[string]any)
		if diff := cmp.Diff(m.Groups, []routing.Group{want}); diff != "" {
			t.Fatalf("Load(Marshal(g)) (-got +want):\n%s\n%s", diff, out)
		}
	})
}

// ints turns int64 values into int, as a manifest reads them.
func ints(v any) any {
	switch x := v.(type) {
	case int64:
		return int(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ints(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = ints(e)
		}
		return out
	}
	return v
}
