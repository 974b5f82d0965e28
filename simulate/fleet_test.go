package simulate_test

import (
	"testing"

	"github.com/llmroute/llmroute/simulate"
)

// 20 replicas, the primary down 60 s: with shared health the fleet sends
// it 2 requests to find the outage and then one probe per 15 s cooldown;
// each replica on its own finds the outage for itself, and probes it on
// its own cooldown.
func TestFleetSharedHealth(t *testing.T) {
	manifest := read(t, "fleet-outage.manifest.yaml")
	for _, tc := range []struct {
		shared bool
		check  func(t *testing.T, failed int)
	}{
		{true, func(t *testing.T, failed int) {
			if failed > 2+4 {
				t.Errorf("shared: the primary failed %d requests in its 60s outage; want at most 2 to detect and 4 probes", failed)
			}
		}},
		{false, func(t *testing.T, failed int) {
			if failed < 2*20 {
				t.Errorf("each on its own: the primary failed %d requests; want at least 2 for each of the 20 replicas", failed)
			}
		}},
	} {
		sc, err := simulate.ParseScenario(read(t, "fleet-outage.scenario.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		sc.SharedState = tc.shared
		res := run(t, manifest, sc)
		primary := res.Targets[0]
		t.Logf("shared %t: primary failed %d requests, %d probes; %d calls failed", tc.shared, primary.Errors, primary.Probes, res.Failed)
		tc.check(t, primary.Errors)
		if res.Failed != 0 {
			t.Errorf("shared %t: %d calls failed; want the backup to serve every call the primary could not", tc.shared, res.Failed)
		}
		if res.Replicas != 20 || res.SharedState != tc.shared {
			t.Errorf("result says %d replicas, shared %t", res.Replicas, res.SharedState)
		}
		// The primary serves again once the outage is over.
		last := res.Series[len(res.Series)-1]
		if last.Share(0) < 0.9 {
			t.Errorf("shared %t: the primary's share of the last bucket is %.2f; want it back", tc.shared, last.Share(0))
		}
	}
}

// A fleet sharing rate limits: 20 replicas together send the primary no
// more than its budget; the rest spills to the backup.
func TestFleetSharedRateLimit(t *testing.T) {
	manifest := []byte(`name: grp
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - {target: acct/primary, priority: 0, rate_limit: {requests_per_minute: 60}}
        - {target: acct/backup, priority: 1}
`)
	const scenario = "requests: 600\ninterval: 200ms\nreplicas: 20\n" +
		"targets: {acct/primary: {latency: {fixed_ms: 100}}, acct/backup: {latency: {fixed_ms: 100}}}\n"
	for _, tc := range []struct {
		shared   bool
		min, max int // calls the primary serves in the run's 2 minutes
	}{
		// The shared budget: 60 at once, then one a second.
		{true, 60 + 100, 60 + 120},
		// Each replica's own budget of 60 a minute takes all of its 30
		// calls.
		{false, 600, 600},
	} {
		sc := parse(t, scenario)
		sc.SharedState = tc.shared
		res := run(t, manifest, sc)
		p, b := res.Targets[0], res.Targets[1]
		t.Logf("shared %t: primary served %d, skipped %d times; backup served %d", tc.shared, p.Served, p.Skips, b.Served)
		if p.Served < tc.min || p.Served > tc.max {
			t.Errorf("shared %t: primary served %d; want %d to %d", tc.shared, p.Served, tc.min, tc.max)
		}
		if p.Served+b.Served != 600 || p.Skips != b.Served {
			t.Errorf("shared %t: %d + %d served, %d skips; want every call served, the backup's calls being the primary's skips", tc.shared, p.Served, b.Served, p.Skips)
		}
	}
}
