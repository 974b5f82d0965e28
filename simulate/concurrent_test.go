package simulate_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/llmroute/llmroute/simulate"
)

// Calls arrive on schedule whatever the calls before them are doing: a
// call of 1 s every 100 ms keeps 10 in flight, and each still takes its
// own 1 s.
func TestCallsOverlap(t *testing.T) {
	manifest := []byte(`name: grp
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: acct/m, priority: 0}
`)
	res := run(t, manifest, parse(t, "requests: 100\ninterval: 100ms\ntargets: {acct/m: {latency: {fixed_ms: 1000}}}\n"))
	if res.MaxInFlight != 10 {
		t.Errorf("at most %d calls at once, want 10 (1 s calls every 100 ms)", res.MaxInFlight)
	}
	if res.P50 != time.Second || res.P99 != time.Second {
		t.Errorf("end-to-end p50 %v, p99 %v; want every call its own 1s", res.P50, res.P99)
	}
	if want := 99*100*time.Millisecond + time.Second; res.Duration != want {
		t.Errorf("the run spans %v, want %v: the last call starts at 9.9s", res.Duration, want)
	}
	if res.Tries != 100 || res.Late != 0 {
		t.Errorf("tries %d, late %d; want 100 and 0", res.Tries, res.Late)
	}
}

// heavyTail runs the shipped heavy-tail scenario with its manifest, or
// with the hedge taken out.
func heavyTail(t *testing.T, hedge bool) *simulate.Result {
	t.Helper()
	if !hedge {
		line := "      hedge: {after_percentile: 92}\n"
		return runEdited(t, "heavy-tail", line, "")
	}
	return runFiles(t, "heavy-tail")
}

// Hedging a target with a heavy tail: the slowest calls end far sooner,
// for a few more upstream calls, and the typical call is unchanged.
func TestHedgingCutsTheHeavyTail(t *testing.T) {
	plain, hedged := heavyTail(t, false), heavyTail(t, true)
	t.Logf("without hedging: p50 %v, p99 %v, %d tries; hedged: p50 %v, p99 %v, %d tries (%d hedges, %d cancelled)",
		plain.P50, plain.P99, plain.Tries, hedged.P50, hedged.P99, hedged.Tries, hedged.Targets[1].Hedges, hedged.Targets[0].Cancelled+hedged.Targets[1].Cancelled)
	if plain.Tries != plain.Calls || plain.Targets[1].Attempts != 0 {
		t.Fatalf("without hedging: %d tries for %d calls, %d on the backup; want one try a call, all on the primary", plain.Tries, plain.Calls, plain.Targets[1].Attempts)
	}
	if cut := 1 - hedged.P99.Seconds()/plain.P99.Seconds(); cut < 0.40 {
		t.Errorf("hedging cut p99 by %.0f%% (%v → %v), want at least 40%%", 100*cut, plain.P99, hedged.P99)
	}
	if grow := float64(hedged.Tries)/float64(plain.Tries) - 1; grow > 0.10 || grow <= 0 {
		t.Errorf("hedging grew upstream tries by %.1f%% (%d → %d), want more than 0 and at most 10%%", 100*grow, plain.Tries, hedged.Tries)
	}
	if d := hedged.P50.Seconds()/plain.P50.Seconds() - 1; d > 0.05 || d < -0.05 {
		t.Errorf("p50 moved %.1f%% (%v → %v), want within 5%%", 100*d, plain.P50, hedged.P50)
	}
	if hedged.Failed != 0 {
		t.Errorf("%d hedged calls failed, want none", hedged.Failed)
	}
	// Every hedge started one try on the backup; every hedged call has
	// exactly one winner and one cancelled loser.
	backup, primary := hedged.Targets[1], hedged.Targets[0]
	if backup.Hedges != backup.Attempts || backup.Hedges == 0 {
		t.Errorf("backup: %d hedges of %d tries, want every try a hedge", backup.Hedges, backup.Attempts)
	}
	if primary.Cancelled+backup.Cancelled != backup.Hedges {
		t.Errorf("cancelled %d+%d tries for %d hedges, want one loser a hedge", primary.Cancelled, backup.Cancelled, backup.Hedges)
	}
	if primary.Cancelled != backup.Served {
		t.Errorf("the backup served %d calls, but %d primary tries were cancelled: want one for one", backup.Served, primary.Cancelled)
	}
}

// A hedged run, with goroutines racing inside each call, gives the same
// result every time.
func TestHedgedRunsAreReproducible(t *testing.T) {
	out := func() string {
		res := heavyTail(t, true)
		var b bytes.Buffer
		if err := res.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteSeries(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first := out()
	for i := range 2 {
		if again := out(); again != first {
			t.Fatalf("run %d differs from the first:\n%s\n---\n%s", i+2, again, first)
		}
	}
}

// outage runs the shipped total-outage scenario, with the retry budget
// on (the default) or off.
func outage(t *testing.T, budget bool) (res *simulate.Result, during float64) {
	t.Helper()
	if budget {
		res = runFiles(t, "total-outage")
	} else {
		at := "      type: priority-based-routing\n"
		res = runEdited(t, "total-outage", at, at+"      retry_budget: {disabled: true}\n")
	}
	calls, tries := 0, 0
	for _, b := range res.Series {
		if b.From >= time.Minute && b.To <= 3*time.Minute {
			calls += b.Calls
			tries += b.Tries
		}
	}
	if calls == 0 {
		t.Fatal("no calls started during the outage")
	}
	return res, float64(tries) / float64(calls)
}

// Every target down, calls arriving steadily: the retry budget keeps the
// load on the providers near one try a call, where retries alone would
// multiply it as each call in flight retries.
func TestRetryBudgetInTotalOutage(t *testing.T) {
	on, withBudget := outage(t, true)
	off, without := outage(t, false)
	t.Logf("tries per call started during the outage: %.2f with the budget, %.2f without; at most %d and %d calls in flight", withBudget, without, on.MaxInFlight, off.MaxInFlight)
	if withBudget > 1.3 {
		t.Errorf("with the budget: %.2f tries per call during the outage, want at most 1.3", withBudget)
	}
	if without < withBudget+0.2 {
		t.Errorf("without the budget: %.2f tries per call, want clearly more than with it (%.2f)", without, withBudget)
	}
	for _, res := range []*simulate.Result{on, off} {
		if res.Calls != 6000 {
			t.Errorf("%d calls, want all 6000 accounted for", res.Calls)
		}
		// Every call outside the outage is served.
		for _, b := range res.Series {
			if (b.To <= time.Minute || b.From >= 3*time.Minute) && b.Failed > 0 {
				t.Errorf("bucket %v–%v: %d calls failed outside the outage", b.From, b.To, b.Failed)
			}
		}
	}
}

// The chart has a latency panel and a tries panel, one point per bucket
// with calls, carrying the bucket's numbers.
func TestSVGPanels(t *testing.T) {
	res := runFiles(t, "total-outage")
	var svg bytes.Buffer
	if err := res.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	type key struct{ panel, series string }
	points := map[key]map[int]float64{}
	for _, a := range svgElements(t, svg.Bytes(), "circle") {
		k := key{a["data-panel"], a["data-series"]}
		if points[k] == nil {
			points[k] = map[int]float64{}
		}
		points[k][atoi(t, a["data-bucket"])] = atof(t, a["data-value"])
	}
	withCalls := 0
	for _, b := range res.Series {
		if b.Calls > 0 {
			withCalls++
		}
	}
	for _, k := range []key{{"latency", "p50"}, {"latency", "p99"}, {"tries", "tries per call"}} {
		if len(points[k]) != withCalls {
			t.Errorf("%v: %d points, want one per bucket with calls (%d)", k, len(points[k]), withCalls)
		}
	}
	for i, b := range res.Series {
		if b.Calls == 0 {
			if _, ok := points[key{"tries", "tries per call"}][i]; ok {
				t.Errorf("bucket %d has no calls but a point", i)
			}
			continue
		}
		if got, want := points[key{"tries", "tries per call"}][i], float64(b.Tries)/float64(b.Calls); got < want-1e-4 || got > want+1e-4 {
			t.Errorf("bucket %d: tries point %.4f, want %.4f", i, got, want)
		}
		if got, want := points[key{"latency", "p99"}][i], b.P99.Seconds(); got < want-1e-4 || got > want+1e-4 {
			t.Errorf("bucket %d: p99 point %.4f, want %.4f", i, got, want)
		}
	}
}
