package simulate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/simulate"
)

func TestParseScenario(t *testing.T) {
	got := parse(t, `
model: search/rerank
requests: 10
rate: 4
arrivals: poisson
seed: 18446744073709551615
bucket: 30s
profiles:
  - name: eu
    weight: 2
    metadata: {tfy_gateway_region: EU, tier: 1}
    headers: {x-client: web}
    session: {source: metadata, key: user_id, count: 7}
targets:
  openai-main/gpt-4.1:
    latency: {p50_ms: 100, p99_ms: 900}
    output_tokens: 5
    error_rate: 0.5
    error_status: "502"
    error_latency_ms: 20
    windows:
      - {kind: outage, from: 1m, to: 2m, status: 500}
      - {kind: rate_limit, from: 0, rate: 0.5, retry_after: 2s}
      - {kind: errors, from: 10s, to: 20s, rate: 1, retry_after: 1s}
      - {kind: latency, from: 3m, factor: 1.5, add_ms: 10, latency: {fixed_ms: 50}}
  other/m: {}
`)
	want := &simulate.Scenario{
		Model: "search/rerank", Requests: 10, Interval: 250 * time.Millisecond, Arrivals: simulate.Poisson,
		Seed: 1<<64 - 1, Bucket: 30 * time.Second,
		Profiles: []simulate.Profile{{
			Name: "eu", Weight: 2,
			Metadata: map[string]string{"tfy_gateway_region": "EU", "tier": "1"},
			Headers:  map[string]string{"x-client": "web"},
			Session:  &simulate.Session{Source: "metadata", Key: "user_id", Count: 7},
		}},
		Targets: map[string]simulate.Behavior{
			"openai-main/gpt-4.1": {
				Latency:      simulate.Latency{P50: 100 * time.Millisecond, P99: 900 * time.Millisecond},
				OutputTokens: 5, ErrorRate: 0.5, ErrorStatus: 502, ErrorLatency: 20 * time.Millisecond,
				Windows: []simulate.Window{
					{Kind: simulate.Outage, From: time.Minute, To: 2 * time.Minute, Status: 500},
					{Kind: simulate.RateLimit, Rate: 0.5, RetryAfter: 2 * time.Second},
					{Kind: simulate.Errors, From: 10 * time.Second, To: 20 * time.Second, Rate: 1, RetryAfter: time.Second},
					{Kind: simulate.Slow, From: 3 * time.Minute, Factor: 1.5, Add: 10 * time.Millisecond, Latency: simulate.Latency{Fixed: 50 * time.Millisecond}},
				},
			},
			"other/m": {},
		},
	}
	if diff := cmp.Diff(got, want, cmp.AllowUnexported(simulate.Scenario{}), ignoreLines); diff != "" {
		t.Errorf("ParseScenario (-got +want):\n%s", diff)
	}
}

// ignoreLines ignores a Scenario's record of its lines.
var ignoreLines = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && sf.Name() == "lines"
}, cmp.Ignore())

func TestParseScenarioErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // each problem, as "line N: path: message" prefixes
	}{
		{"empty", "", []string{"the scenario is empty"}},
		{"null", "~\n", []string{"the scenario is empty"}},
		{"not a mapping", "- 1\n", []string{"line 1: want a mapping, got a list"}},
		{"syntax", "requests: [1\n", []string{"line 1: invalid YAML: "}},
		{"two documents", "requests: 1\n---\nrequests: 2\n", []string{"line 3: a scenario file holds one document"}},
		{"requests missing", "seed: 1\n", []string{"line 1: requests: required"}},
		{"unknown key", "requests: 1\nrequets: 2\n", []string{`line 2: requets: unknown key "requets" (did you mean "requests"?)`}},
		{"duplicate key", "requests: 1\nrequests: 2\n", []string{`line 2: requests: duplicate key "requests"`}},
		{"requests zero", "requests: 0\n", []string{"line 1: requests: want at least 1 call"}},
		{"requests too many", "requests: 2000000\n", []string{"line 1: requests: want 1 to 1000000 calls, got 2000000"}},
		{"requests string", "requests: many\n", []string{`line 1: requests: want a whole number from 0 to 2147483647, got the string "many"`}},
		{"interval and rate", "requests: 1\ninterval: 1s\nrate: 2\n", []string{"line 3: rate: set interval or rate, not both"}},
		{"interval bare number", "requests: 1\ninterval: 5\n", []string{`line 2: interval: want a duration such as "90s" or "2m30s", got 5`}},
		{"interval negative", "requests: 1\ninterval: -1s\n", []string{"line 2: interval: must not be negative, got -1s"}},
		{"rate zero", "requests: 1\nrate: 0\n", []string{"line 2: rate: want calls per second above 0, got 0"}},
		{"arrivals", "requests: 1\narrivals: burst\n", []string{`line 2: arrivals: want "fixed" or "poisson", got "burst"`}},
		{"seed negative", "requests: 1\nseed: -1\n", []string{"line 2: seed: want a whole number from 0 to"}},
		{"bucket", "requests: 1\nbucket: 10us\n", []string{"line 2: bucket: want at least 1ms, got 10µs"}},
		{"replicas zero", "requests: 1\nreplicas: 0\n", []string{"line 2: replicas: want at least 1 replica"}},
		{"replicas too many", "requests: 1\nreplicas: 5000\n", []string{"line 2: replicas: want 1 to 1000 replicas, got 5000"}},
		{"shared_state", "requests: 1\nshared_state: yes please\n", []string{`line 2: shared_state: want true or false, got the string "yes please"`}},
		{"profile weight", "requests: 1\nprofiles:\n  - weight: 0\n", []string{"line 3: profiles[0].weight: must be at least 1"}},
		{"profile key", "requests: 1\nprofiles:\n  - metdata: {a: b}\n", []string{`line 3: profiles[0].metdata: unknown key "metdata" (did you mean "metadata"?)`}},
		{"profile header", "requests: 1\nprofiles:\n  - headers: {\"bad header\": x}\n", []string{`line 3: profiles[0].headers: invalid header name "bad header"`}},
		{"profile header value", "requests: 1\nprofiles:\n  - headers: {x-a: \"v\\r\\nx-b: w\"}\n", []string{"line 3: profiles[0].headers.x-a: a header value must not hold CR, LF or NUL"}},
		{"session source", "requests: 1\nprofiles:\n  - session: {source: cookie, key: k}\n", []string{`line 3: profiles[0].session.source: want "headers" or "metadata", got "cookie"`}},
		{"session key", "requests: 1\nprofiles:\n  - session: {source: headers}\n", []string{"line 3: profiles[0].session.key: required"}},
		{"profiles not a list", "requests: 1\nprofiles: {a: 1}\n", []string{"line 2: profiles: want a list, got a mapping"}},
		{"target ref", "requests: 1\ntargets:\n  nomodel: {}\n", []string{`line 3: targets.nomodel: not a target reference "account/model"`}},
		{"target key", "requests: 1\ntargets:\n  a/b: {latncy: {fixed_ms: 1}}\n", []string{`line 3: targets["a/b"].latncy: unknown key "latncy" (did you mean "latency"?)`}},
		{"latency order", "requests: 1\ntargets:\n  a/b:\n    latency: {p50_ms: 900, p99_ms: 100}\n", []string{`line 4: targets["a/b"].latency.p99_ms: must be at least p50_ms (900ms), got 100ms`}},
		{"latency half", "requests: 1\ntargets:\n  a/b:\n    latency: {p50_ms: 900}\n", []string{`line 4: targets["a/b"].latency.p99_ms: required with p50_ms`}},
		{"latency both", "requests: 1\ntargets:\n  a/b:\n    latency: {fixed_ms: 1, p50_ms: 2, p99_ms: 3}\n", []string{`line 4: targets["a/b"].latency: set fixed_ms or p50_ms and p99_ms, not both`}},
		{"latency zero", "requests: 1\ntargets:\n  a/b:\n    latency: {fixed_ms: 0}\n", []string{`line 4: targets["a/b"].latency.fixed_ms: must be positive`}},
		{"error rate", "requests: 1\ntargets:\n  a/b:\n    error_rate: 1.5\n", []string{`line 4: targets["a/b"].error_rate: want a probability from 0 to 1, got 1.5`}},
		{"error status", "requests: 1\ntargets:\n  a/b:\n    error_status: 200\n", []string{`line 4: targets["a/b"].error_status: want a failure status from 400 to 599, got 200`}},
		{"window kind missing", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {from: 1m}\n", []string{`line 5: targets["a/b"].windows[0].kind: required: one of "outage", "rate_limit", "errors", "latency"`}},
		{"window kind", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: flood}\n", []string{`line 5: targets["a/b"].windows[0].kind: want one of "outage", "rate_limit", "errors", "latency", got "flood"`}},
		{"window order", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: outage, from: 2m, to: 1m}\n", []string{`line 5: targets["a/b"].windows[0].to: must be after from (2m0s), got 1m0s`}},
		{"window field for another kind", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: outage, rate: 0.5, factor: 2}\n", []string{
			`line 5: targets["a/b"].windows[0].rate: not used by kind "outage"`,
			`line 5: targets["a/b"].windows[0].factor: not used by kind "outage"`,
		}},
		{"window unknown key", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: outage, until: 2m}\n", []string{`line 5: targets["a/b"].windows[0].until: unknown key "until"`}},
		{"errors window rate", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: errors}\n", []string{`line 5: targets["a/b"].windows[0].rate: required for kind "errors"`}},
		{"latency window empty", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: latency}\n", []string{`line 5: targets["a/b"].windows[0]: kind "latency" needs factor, add_ms or latency`}},
		{"status text", "requests: 1\ntargets:\n  a/b:\n    windows:\n      - {kind: outage, status: bad}\n", []string{`line 5: targets["a/b"].windows[0].status: want a status code such as 503, got the string "bad"`}},
		{"dotted model name", "requests: 1\ntargets:\n  openai/gpt-4.1:\n    windows:\n      - kind: outage\n        to: 0\n", []string{`line 6: targets["openai/gpt-4.1"].windows[0].to: must be after from`}},
		{"every problem at once", "requests: 0\nseed: x\narrivals: burst\n", []string{
			"line 1: requests: want at least 1 call",
			`line 2: seed: want a whole number, got the string "x"`,
			`line 3: arrivals: want "fixed" or "poisson", got "burst"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulate.ParseScenario([]byte(tc.yaml))
			wantProblems(t, err, tc.want)
			if !strings.HasPrefix(err.Error(), "simulate: scenario: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestValidateGoScenario(t *testing.T) {
	sc := &simulate.Scenario{
		Requests: 1,
		Targets: map[string]simulate.Behavior{
			"a/b": {Windows: []simulate.Window{{Kind: simulate.Outage, From: -time.Second}}},
		},
	}
	err := sc.Validate()
	want := `simulate: scenario: targets["a/b"].windows[0].from: must not be negative, got -1s`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	if err := (&simulate.Scenario{Requests: 1}).Validate(); err != nil {
		t.Errorf("Validate of a minimal scenario: %v", err)
	}
}

// oneModel is a manifest whose only virtual model a scenario may leave
// unnamed; its target is a/b, as in the fuzz seeds.
var oneModel = []byte(`
name: app
type: provider-account/virtual-model
integrations:
  - name: one
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets: [{target: a/b, priority: 0}, {target: a/c, priority: 1}]
`)

// twoModels is a manifest with two virtual models, one of them with a
// slug.
var twoModels = []byte(`
name: app
type: provider-account/virtual-model
integrations:
  - name: one
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets: [{target: acct/m1, priority: 0}]
  - name: two
    type: integration/model/virtual
    slug: second
    routing_config:
      type: priority-based-routing
      load_balance_targets: [{target: acct/m2, priority: 0}]
`)

func TestRunChecksScenarioAgainstManifest(t *testing.T) {
	for _, tc := range []struct {
		name, scenario string
		manifest       []byte
		want           string
	}{
		{"model required", "requests: 1\n", twoModels,
			`simulate: scenario: line 1: model: required: the manifest has 2 virtual models (app/one, app/two)`},
		{"unknown model", "model: app/three\nrequests: 1\n", twoModels,
			`simulate: scenario: line 1: model: "app/three" is not a virtual model of the manifest (it has app/one, app/two)`},
		{"foreign target", "model: second\nrequests: 1\ntargets:\n  acct/m1: {}\n", twoModels,
			`simulate: scenario: line 4: targets["acct/m1"]: not a target of app/two (its targets: acct/m2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simulate.Run(context.Background(), tc.manifest, parse(t, tc.scenario))
			var el simulate.ErrorList
			if !errors.As(err, &el) || err.Error() != tc.want {
				t.Errorf("Run = %v\nwant %s", err, tc.want)
			}
		})
	}

	t.Run("bad manifest", func(t *testing.T) {
		_, err := simulate.Run(context.Background(), []byte("name: x\n"), parse(t, "requests: 1\n"))
		var ce routing.FieldErrors
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "simulate: manifest: config: ") {
			t.Errorf("Run = %v, want the manifest's routing.FieldErrors, wrapped", err)
		}
	})
	t.Run("nil scenario", func(t *testing.T) {
		if _, err := simulate.Run(context.Background(), twoModels, nil); err == nil {
			t.Error("Run(nil scenario) succeeded")
		}
	})
	t.Run("slug", func(t *testing.T) {
		res := run(t, twoModels, parse(t, "model: second\nrequests: 3\n"))
		if res.Model != "app/two" || res.Targets[0].Served != 3 {
			t.Errorf("model %q, served %d; want app/two serving 3", res.Model, res.Targets[0].Served)
		}
	})
	t.Run("too many buckets", func(t *testing.T) {
		_, err := simulate.Run(context.Background(), twoModels, parse(t, "model: second\nrequests: 100\ninterval: 1m\nbucket: 1ms\n"))
		if err == nil || !strings.Contains(err.Error(), "line 4: bucket: 1ms makes") {
			t.Errorf("Run = %v, want a bucket problem", err)
		}
	})
}

func FuzzParseScenario(f *testing.F) {
	for _, s := range []string{
		"requests: 1\n",
		"requests: 10\nrate: 2\ntargets:\n  a/b: {latency: {p50_ms: 1, p99_ms: 2}, windows: [{kind: outage, from: 1s}]}\n",
		"a: &a [*a, *a]\n",
		"requests: 1\nprofiles: [{session: {source: headers, key: k}}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := simulate.ParseScenario(data)
		if err != nil {
			var el simulate.ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error %v is not a non-empty ErrorList", err)
			}
			for i := 1; i < len(el); i++ {
				if el[i].Line < el[i-1].Line {
					t.Fatalf("problems are not in line order:\n%v", err)
				}
			}
			return
		}
		// A scenario that parses also runs: against a fixed manifest it
		// either names what does not fit, or replays every call it
		// asked for and accounts for each one.
		if sc.Requests > 200 {
			sc.Requests = 200
		}
		res, err := simulate.Run(context.Background(), oneModel, sc)
		if err != nil {
			return
		}
		served := 0
		for _, ts := range res.Targets {
			served += ts.Served
		}
		if res.Calls != sc.Requests || served+res.Failed != res.Calls {
			t.Fatalf("%d requests: %d calls, %d served, %d failed; want every call served or failed once", sc.Requests, res.Calls, served, res.Failed)
		}
	})
}

// A scenario's problems are all reported at once, in line order: those
// found reading it and those its rules find, wherever they are. A field
// that could not be read is reported once, not again by the rules it then
// seems to break (a window's factor that is not a number does not also
// leave the window "needing factor, add_ms or latency"). Keys that are not
// plain words are quoted in the path, which still leads to their line.
func TestParseScenarioEveryProblemInOnePass(t *testing.T) {
	in := `requests: 0
profiles:
  - weight: 1
    metadata:
      "tenant.id": ` + strings.Repeat("v", 200) + `
      'tier': ` + strings.Repeat("v", 200) + `
    sesion: {}
targets:
  a/b:
    error_rate: 2
    windows:
      - {kind: latency, factor: fast}
      - {kind: outage, from: 2m, to: 1m}
  nomodel:
    latency: {p50_ms: 900}
arrivals: burst
seed: x
`
	want := []string{
		"line 1: requests: want at least 1 call",
		`line 5: profiles[0].metadata["tenant.id"]: values are at most 128 characters`,
		`line 6: profiles[0].metadata.tier: values are at most 128 characters`,
		`line 7: profiles[0].sesion: unknown key "sesion" (did you mean "session"?)`,
		`line 10: targets["a/b"].error_rate: want a probability from 0 to 1, got 2`,
		`line 12: targets["a/b"].windows[0].factor: want a number, got the string "fast"`,
		`line 13: targets["a/b"].windows[1].to: must be after from (2m0s), got 1m0s`,
		`line 14: targets.nomodel: not a target reference "account/model"`,
		`line 15: targets.nomodel.latency.p99_ms: required with p50_ms`,
		`line 16: arrivals: want "fixed" or "poisson", got "burst"`,
		`line 17: seed: want a whole number, got the string "x"`,
	}
	_, err := simulate.ParseScenario([]byte(in))
	wantProblems(t, err, want)
}

// wantProblems checks that err is an ErrorList of exactly the problems
// want, in order, each given by the start of its message.
func wantProblems(t *testing.T, err error, want []string) {
	t.Helper()
	var el simulate.ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("ParseScenario: %v, want an ErrorList", err)
	}
	var got []string
	for _, e := range el {
		got = append(got, e.Error())
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n\t%s\nwant %d:\n\t%s", strings.Join(got, "\n\t"), len(want), strings.Join(want, "\n\t"))
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
}
