package stores_test

import (
	"context"
	"testing"
	"time"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/stores/storetest"
)

func TestMemoryHealthContract(t *testing.T) {
	storetest.RunHealth(t, func(t *testing.T) stores.HealthStore { return stores.NewMemory() })
}

func TestZeroMemoryHealthContract(t *testing.T) {
	storetest.RunHealth(t, func(t *testing.T) stores.HealthStore { return new(stores.Memory) })
}

// TestMemoryHealthExpires moves the times it gives the Memory: a record
// lasts its window unless renewed, and a probe lock its cooldown.
func TestMemoryHealthExpires(t *testing.T) {
	ctx := context.Background()
	m := stores.NewMemory()
	report := func(at time.Duration, failed bool) stores.HealthResult {
		t.Helper()
		got, err := m.ReportHealth(ctx, stores.HealthReport{Model: "g/m", Target: "a/x", Failed: failed,
			Start: epoch.Add(at), End: epoch.Add(at), Failures: 2, Window: time.Minute, Cooldown: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	down := func(at time.Duration) bool {
		t.Helper()
		got, err := m.LoadHealth(ctx, stores.HealthQuery{Model: "g/m", Targets: []string{"a/x"}, Now: epoch.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		return got.Records[0].Down(epoch.Add(at))
	}
	claim := func(at time.Duration) bool {
		t.Helper()
		got, err := m.ClaimProbe(ctx, stores.ProbeClaim{Model: "g/m", Target: "a/x", Cooldown: 15 * time.Second, Now: epoch.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		return got.Claimed
	}
	report(0, true)
	if !report(time.Second, true).Demoted {
		t.Fatal("second failure did not demote")
	}
	for _, tc := range []struct {
		at        time.Duration
		wantDown  bool
		wantClaim bool
	}{
		{10 * time.Second, true, false}, // within the cooldown
		{16 * time.Second, true, true},  // the cooldown is over: one claim
		{20 * time.Second, true, false}, // locked by that claim
		{32 * time.Second, true, true},
		{61 * time.Second, false, false}, // the record expired
	} {
		if got := down(tc.at); got != tc.wantDown {
			t.Errorf("at %v: down = %t, want %t", tc.at, got, tc.wantDown)
		}
		if got := claim(tc.at); got != tc.wantClaim {
			t.Errorf("at %v: claim = %t, want %t", tc.at, got, tc.wantClaim)
		}
	}
	// Expired, the record starts afresh: one failure is not enough.
	if report(62*time.Second, true).Demoted {
		t.Error("one failure after the record expired demoted the target")
	}
}
