package simulate_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/simulate"
)

const (
	primary = "azure-main/gpt-4o"
	backup  = "openai-main/gpt-4o"
)

// The outage of priority-outage.scenario.yaml.
const outageFrom, outageTo = 3 * time.Minute, 6 * time.Minute

// phase says where a bucket lies against the outage: before it, fully
// inside it, well after it (the primary has had time to be probed back),
// or none of these (it straddles an edge or the recovery).
func phase(from, to time.Duration) string {
	switch {
	case to <= outageFrom:
		return "before"
	case from >= outageFrom && to <= outageTo:
		return "during"
	case from >= outageTo+30*time.Second:
		// With health demotion the primary gets a probe at most a
		// cooldown (15 s) after it recovers; without it, at once.
		return "after"
	}
	return ""
}

func TestOutageTrafficLeavesAndReturns(t *testing.T) {
	res := runFiles(t, "priority-outage")
	pi, p := target(t, res, primary)
	_, b := target(t, res, backup)

	if res.Failed != 0 {
		t.Errorf("callers saw %d failures (%v), want none: the backup takes every call the primary fails", res.Failed, res.FailedBy)
	}
	if got := p.ErrorsBy[503]; got == 0 {
		t.Errorf("primary's 503s = 0, want the outage's failed tries counted (ErrorsBy %v)", p.ErrorsBy)
	}
	if b.Fallbacks == 0 || b.Served == 0 {
		t.Errorf("backup: %d fallbacks, %d served; want both > 0", b.Fallbacks, b.Served)
	}
	seen := map[string]int{}
	for _, bk := range res.Series {
		ph := phase(bk.From, bk.To)
		seen[ph]++
		share := bk.Share(pi)
		switch ph {
		case "before", "after":
			if share < 0.9 {
				t.Errorf("%s the outage, bucket %v–%v: primary share %.2f, want ≥ 0.9", ph, bk.From, bk.To, share)
			}
		case "during":
			if share > 0.05 {
				t.Errorf("during the outage, bucket %v–%v: primary share %.2f, want ~0", bk.From, bk.To, share)
			}
		}
	}
	for _, ph := range []string{"before", "during", "after"} {
		if seen[ph] < 3 {
			t.Fatalf("only %d buckets %s the outage; the scenario should have more", seen[ph], ph)
		}
	}

	// The chart shows the same: read it back as XML.
	var svg bytes.Buffer
	if err := res.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	cells, windows := readSVG(t, svg.Bytes())
	wantWindows := []svgWindow{{Kind: "outage", Target: primary, From: outageFrom, To: outageTo}}
	if diff := cmp.Diff(windows, wantWindows); diff != "" {
		t.Errorf("SVG windows (-got +want):\n%s", diff)
	}
	checked := map[string]int{}
	for _, c := range cells {
		if c.Series != primary {
			continue
		}
		ph := phase(c.From, c.To)
		checked[ph]++
		switch ph {
		case "before", "after":
			if c.Share < 0.9 || c.Calls == 0 {
				t.Errorf("SVG %s the outage, bucket %d (%v–%v): primary share %.4f of %d calls, want ≥ 0.9", ph, c.Bucket, c.From, c.To, c.Share, c.Calls)
			}
		case "during":
			if c.Share > 0.05 || c.Calls == 0 {
				t.Errorf("SVG during the outage, bucket %d (%v–%v): primary share %.4f of %d calls, want ~0", c.Bucket, c.From, c.To, c.Share, c.Calls)
			}
		}
	}
	if diff := cmp.Diff(checked, seen); diff != "" {
		t.Errorf("SVG primary cells per phase differ from the time series (-got +want):\n%s", diff)
	}
	if !strings.Contains(svg.String(), "<title>"+primary+", 4m–4m15s: 0 of 15 calls (0.0%)</title>") {
		t.Errorf("SVG lacks the tooltip of the primary's bucket at 4m")
	}
}

func TestCanaryShare(t *testing.T) {
	res := runFiles(t, "canary")
	_, cand := target(t, res, "openai-main/gpt-4.1")
	_, cur := target(t, res, "openai-main/gpt-4o")
	if cand.Share < 0.07 || cand.Share > 0.13 {
		t.Errorf("canary share = %.3f, want 0.10 ± 0.03", cand.Share)
	}
	if got := cand.Served + cur.Served; got != res.Calls-res.Failed {
		t.Errorf("served %d, want every successful call (%d) served by one target", got, res.Calls-res.Failed)
	}
	if res.Calls != 2000 {
		t.Errorf("calls = %d, want 2000", res.Calls)
	}
}

func TestSameSeedSameOutput(t *testing.T) {
	out := func(seed uint64) (string, string) {
		sc, err := simulate.ParseScenario(read(t, "canary.scenario.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		sc.Seed = seed
		res := run(t, read(t, "canary.manifest.yaml"), sc)
		var table, svg bytes.Buffer
		if err := res.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteSeries(&table); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteSVG(&svg); err != nil {
			t.Fatal(err)
		}
		return table.String(), svg.String()
	}
	t1, s1 := out(42)
	t2, s2 := out(42)
	if diff := cmp.Diff(t1, t2); diff != "" {
		t.Errorf("same seed, different tables (-got +want):\n%s", diff)
	}
	if s1 != s2 {
		t.Errorf("same seed, different SVGs")
	}
	if t3, _ := out(43); t3 == t1 {
		t.Errorf("seeds 42 and 43 gave the same table; the seed is not used")
	}
}

func TestConcurrentRunsAreIndependent(t *testing.T) {
	sc, err := simulate.ParseScenario(read(t, "priority-outage.scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := read(t, "priority-outage.manifest.yaml")
	tables := make([]string, 4)
	done := make(chan struct{})
	for i := range tables {
		go func() {
			defer func() { done <- struct{}{} }()
			res, err := simulate.Run(context.Background(), manifest, sc)
			if err != nil {
				t.Error(err)
				return
			}
			var b bytes.Buffer
			res.WriteTable(&b)
			tables[i] = b.String()
		}()
	}
	for range tables {
		<-done
	}
	for i := 1; i < len(tables); i++ {
		if tables[i] != tables[0] {
			t.Errorf("concurrent run %d differs from run 0:\n%s\n---\n%s", i, tables[i], tables[0])
		}
	}
}

func TestTimeoutIsA408AndFallsBack(t *testing.T) {
	manifest := []byte(`
name: app
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: slow/m, priority: 0, request_timeout_ms: 1000}
        - {target: fast/m, priority: 1}
`)
	res := run(t, manifest, parse(t, `
requests: 20
interval: 10s
targets:
  slow/m: {latency: {fixed_ms: 4000}}
  fast/m: {latency: {fixed_ms: 200}}
`))
	_, slow := target(t, res, "slow/m")
	_, fast := target(t, res, "fast/m")
	if slow.Served != 0 || fast.Served != 20 {
		t.Errorf("served slow %d, fast %d; want 0 and 20", slow.Served, fast.Served)
	}
	if diff := cmp.Diff(slow.ErrorsBy, map[int]int{408: slow.Attempts}); diff != "" || slow.Attempts == 0 {
		t.Errorf("slow target's failed tries by status (-got +want):\n%s", diff)
	}
	if slow.P50 != time.Second || slow.P99 != time.Second {
		t.Errorf("slow target's tries took p50 %v, p99 %v; want the 1s timeout", slow.P50, slow.P99)
	}
	// The first call waits out the timeout, then the fast target serves.
	if res.P99 != 1200*time.Millisecond {
		t.Errorf("end-to-end p99 = %v, want 1.2s (timeout + fallback)", res.P99)
	}
}

func TestRetryAfterIsWaitedInVirtualTime(t *testing.T) {
	manifest := []byte(`
name: app
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: only/m, priority: 0, retry_config: {attempts: 2, delay: 100}}
`)
	start := time.Now()
	res := run(t, manifest, parse(t, `
requests: 5
interval: 1m
targets:
  only/m:
    latency: {fixed_ms: 100}
    error_latency_ms: 10
    windows:
      - {kind: rate_limit, retry_after: 3s}
`))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("the run took %v of real time; waits must be virtual", elapsed)
	}
	if diff := cmp.Diff(res.FailedBy, map[string]int{"429": 5}); diff != "" {
		t.Errorf("callers' failures (-got +want):\n%s", diff)
	}
	// Three tries of 10 ms with two Retry-After waits of 3 s between.
	// (Once the target is known to be failing, routing may give it a
	// single try per call; the first call at least retries in full.)
	if want := 6030 * time.Millisecond; res.P99 != want {
		t.Errorf("end-to-end p99 %v, want %v: Retry-After replaces the shorter backoff", res.P99, want)
	}
	_, only := target(t, res, "only/m")
	if only.Retries < 2 || only.ErrorsBy[429] != only.Attempts {
		t.Errorf("retries %d, failed tries %v of %d; want at least 2 retries, every try a 429", only.Retries, only.ErrorsBy, only.Attempts)
	}
}

func TestProfilesRouteByMetadata(t *testing.T) {
	res := runFiles(t, "region")
	_, us := target(t, res, "azure-us/gpt-4o")
	_, eu := target(t, res, "azure-eu/gpt-4o")
	_, other := target(t, res, "openai-main/gpt-4o")
	// Profiles us:eu:other are weighted 3:2:1.
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{{"US", us.Share, 0.5}, {"EU", eu.Share + ratio(res.Failed, res.Calls), 1.0 / 3}, {"other", other.Share, 1.0 / 6}} {
		if c.got < c.want-0.08 || c.got > c.want+0.08 {
			t.Errorf("%s share = %.3f, want %.3f ± 0.08", c.name, c.got, c.want)
		}
	}
	if eu.Errors == 0 {
		t.Errorf("EU errors = 0, want the error window's failures")
	}
	if eu.Fallbacks != 0 || us.Fallbacks != 0 {
		t.Errorf("fallbacks into the regional targets: US %d, EU %d; want none", us.Fallbacks, eu.Fallbacks)
	}
}

func ratio(a, b int) float64 { return float64(a) / float64(b) }

func TestPoissonAndSessions(t *testing.T) {
	manifest := []byte(`
name: assistant
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      sticky_routing:
        ttl_seconds: 3600
        session_identifiers: [{source: headers, key: x-session-id}]
      load_balance_targets:
        - {target: azure-us/gpt-4o, weight: 50}
        - {target: azure-eu/gpt-4o, weight: 50}
`)
	// One session: every call after the first sticks to where it went.
	res := run(t, manifest, parse(t, `
requests: 200
rate: 0.5
arrivals: poisson
seed: 9
profiles:
  - session: {source: headers, key: x-session-id, count: 1}
`))
	_, us := target(t, res, "azure-us/gpt-4o")
	_, eu := target(t, res, "azure-eu/gpt-4o")
	if us.Served != 200 && eu.Served != 200 {
		t.Errorf("served US %d, EU %d; want one session pinned to one target", us.Served, eu.Served)
	}
	if res.Duration < 200*time.Second || res.Duration > 600*time.Second {
		t.Errorf("200 Poisson arrivals with a mean gap of 2s spanned %v, want about 400s", res.Duration)
	}
}

func TestLatencyRaceLeavesTheSlowTarget(t *testing.T) {
	res := runFiles(t, "latency-race")
	us, _ := target(t, res, "azure-us/gpt-4o-mini")
	var before, during int
	for _, bk := range res.Series {
		switch {
		case bk.From >= time.Minute && bk.To <= 3*time.Minute:
			// Fastest while it is fast.
			before++
			if s := bk.Share(us); s < 0.5 {
				t.Errorf("bucket %v–%v, before the slowdown: US share %.2f, want ≥ 0.5", bk.From, bk.To, s)
			}
		case bk.From >= 4*time.Minute && bk.To <= 6*time.Minute:
			during++
			if s := bk.Share(us); s > 0.25 {
				t.Errorf("bucket %v–%v, during the slowdown: US share %.2f, want ≤ 0.25", bk.From, bk.To, s)
			}
		}
	}
	if before == 0 || during == 0 {
		t.Fatalf("buckets before %d, during %d; want some of each", before, during)
	}
}

func TestLatencyRaceTrafficReturnsAfterRecovery(t *testing.T) {
	// The US deployment is slow from 3m to 6m. While it stays slow it
	// gets at most 5% of the calls (its recheck share, once the first
	// slow calls have moved it out of the fast band), and once it has
	// recovered it is the main target again within 3 minutes, not after
	// its slow samples leave the 20-minute window.
	res := runFiles(t, "latency-race")
	us, _ := target(t, res, "azure-us/gpt-4o-mini")
	var calls, onUS int
	back := time.Duration(-1)
	for _, bk := range res.Series {
		if bk.From >= 3*time.Minute+30*time.Second && bk.To <= 6*time.Minute {
			calls += bk.Calls
			onUS += bk.Served[us]
		}
		if bk.From >= 6*time.Minute && back < 0 && bk.Share(us) >= 0.5 {
			back = bk.From - 6*time.Minute
		}
	}
	t.Logf("while slow: %d of %d calls on the US deployment; its share back over 50%% %v after it recovered", onUS, calls, back)
	if calls == 0 || float64(onUS)/float64(calls) > 0.05 {
		t.Errorf("the slow US deployment served %d of %d calls while slow, want at most 5%%", onUS, calls)
	}
	if back < 0 || back > 3*time.Minute {
		t.Errorf("US share back over 50%% %v after recovery, want within 3m", back)
	}
}

func TestEveryTestdataScenarioRuns(t *testing.T) {
	files, err := filepath.Glob("testdata/*.scenario.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("scenarios: %v, %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".scenario.yaml")
		t.Run(name, func(t *testing.T) {
			res := runFiles(t, name)
			if res.Calls == 0 || len(res.Series) == 0 || len(res.Series) > 60 {
				t.Errorf("calls %d, buckets %d; want calls and 1 to 60 buckets", res.Calls, len(res.Series))
			}
			served := 0
			for _, ts := range res.Targets {
				served += ts.Served
			}
			if served+res.Failed != res.Calls {
				t.Errorf("served %d + failed %d != calls %d", served, res.Failed, res.Calls)
			}
			var svg bytes.Buffer
			if err := res.WriteSVG(&svg); err != nil {
				t.Fatal(err)
			}
			cells, _ := readSVG(t, svg.Bytes())
			if want := len(res.Series) * (len(res.Targets) + 1); len(cells) != want {
				t.Errorf("SVG has %d cells, want %d (a bucket × series)", len(cells), want)
			}
		})
	}
}

func TestRunStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sc, err := simulate.ParseScenario(read(t, "canary.scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = simulate.Run(ctx, read(t, "canary.manifest.yaml"), sc)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled ctx: %v, want context.Canceled", err)
	}
}
