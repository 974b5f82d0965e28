package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmroute/llmroute/stores"
)

// RunHealth runs the contract suite for [stores.HealthStore], one subtest
// each, on stores made by newStore. Each call of newStore must return a
// HealthStore that shares no records with those of other calls.
//
// The suite works at the wall clock's present with windows of an hour, so
// that nothing expires while it runs whether a store compares the times
// it is given or keeps time itself (Redis key expiry). It checks
// demotion after enough failures and not before, failures outside the
// window, failures while unhealthy, recovery only by a call that started
// after the demotion, stale failures after a recovery, probe claims,
// targets and models kept apart, invalid input, and concurrent reports
// and claims. Expiry in time is each implementation's own test.
func RunHealth(t *testing.T, newStore func(t *testing.T) stores.HealthStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s stores.HealthStore)
	}{
		{"Healthy", testHealthy},
		{"Demote", testDemote},
		{"Window", testWindow},
		{"FailWhileDown", testFailWhileDown},
		{"Recover", testRecover},
		{"StaleFailures", testStaleFailures},
		{"Probe", testProbe},
		{"KeysApart", testHealthKeysApart},
		{"InvalidInput", testHealthInvalidInput},
		{"Concurrent", testHealthConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newStore(t))
		})
	}
}

const (
	model  = "grp/chat"
	window = time.Hour
)

// base is the suite's present, truncated to whole milliseconds, the
// resolution every store keeps.
func base() time.Time { return time.Now().Truncate(time.Millisecond) }

// fail reports a failure of target that started at start and took 10 ms.
func fail(t *testing.T, s stores.HealthStore, target string, start time.Time, cooldown time.Duration) stores.HealthResult {
	t.Helper()
	return report(t, s, stores.HealthReport{Model: model, Target: target, Failed: true,
		Start: start, End: start.Add(10 * time.Millisecond), Failures: 2, Window: window, Cooldown: cooldown})
}

// succeed reports a success of target that started at start.
func succeed(t *testing.T, s stores.HealthStore, target string, start time.Time) stores.HealthResult {
	t.Helper()
	return report(t, s, stores.HealthReport{Model: model, Target: target,
		Start: start, End: start.Add(10 * time.Millisecond), Failures: 2, Window: window, Cooldown: time.Hour})
}

func report(t *testing.T, s stores.HealthStore, r stores.HealthReport) stores.HealthResult {
	t.Helper()
	got, err := s.ReportHealth(context.Background(), r)
	if err != nil {
		t.Fatalf("ReportHealth(%+v) error = %v", r, err)
	}
	return got
}

// load returns the records of targets at now.
func load(t *testing.T, s stores.HealthStore, now time.Time, targets ...string) []stores.HealthRecord {
	t.Helper()
	got, err := s.LoadHealth(context.Background(), stores.HealthQuery{Model: model, Targets: targets, Now: now})
	if err != nil {
		t.Fatalf("LoadHealth(%v) error = %v", targets, err)
	}
	if len(got.Records) != len(targets) {
		t.Fatalf("LoadHealth(%v) gave %d records, want one per target", targets, len(got.Records))
	}
	return got.Records
}

func claim(t *testing.T, s stores.HealthStore, target string, now time.Time) bool {
	t.Helper()
	got, err := s.ClaimProbe(context.Background(), stores.ProbeClaim{Model: model, Target: target, Cooldown: time.Hour, Now: now})
	if err != nil {
		t.Fatalf("ClaimProbe(%q) error = %v", target, err)
	}
	return got.Claimed
}

// wantRecord checks a record to the millisecond.
func wantRecord(t *testing.T, what string, got stores.HealthRecord, since, until time.Time) {
	t.Helper()
	if !got.Since.Equal(since) || !got.Until.Equal(until) {
		t.Errorf("%s = {Since: %v, Until: %v}; want {Since: %v, Until: %v}", what, got.Since, got.Until, since, until)
	}
}

func testHealthy(t *testing.T, s stores.HealthStore) {
	now := base()
	for i, r := range load(t, s, now, "acct/a", "acct/b") {
		if r != (stores.HealthRecord{}) {
			t.Errorf("record %d of a store never told anything = %+v; want the zero record", i, r)
		}
	}
	if got := load(t, s, now); len(got) != 0 {
		t.Errorf("LoadHealth of no targets = %v; want none", got)
	}
	// A success of a healthy target changes nothing.
	if got := succeed(t, s, "acct/a", now); got != (stores.HealthResult{}) {
		t.Errorf("success of a healthy target = %+v; want nothing changed", got)
	}
	if claim(t, s, "acct/a", now) {
		t.Error("ClaimProbe of a healthy target succeeded")
	}
}

func testDemote(t *testing.T, s stores.HealthStore) {
	now := base()
	if got := fail(t, s, "acct/a", now, time.Hour); got.Demoted || got.Record != (stores.HealthRecord{}) {
		t.Fatalf("first failure = %+v; want the target still healthy", got)
	}
	got := fail(t, s, "acct/a", now.Add(time.Second), time.Hour)
	if !got.Demoted {
		t.Fatalf("second failure = %+v; want Demoted", got)
	}
	end := now.Add(time.Second + 10*time.Millisecond)
	wantRecord(t, "record after the demotion", got.Record, end, end.Add(window))
	recs := load(t, s, end, "acct/b", "acct/a")
	if recs[0] != (stores.HealthRecord{}) {
		t.Errorf("other target's record = %+v; want healthy", recs[0])
	}
	wantRecord(t, "loaded record", recs[1], end, end.Add(window))
	if !recs[1].Down(end) || recs[1].Down(end.Add(window)) {
		t.Errorf("Down(%v) of %+v is wrong", end, recs[1])
	}
}

func testWindow(t *testing.T, s stores.HealthStore) {
	now := base().Add(-2 * window)
	// Two failures more than a window apart do not demote.
	fail(t, s, "acct/a", now, time.Hour)
	if got := fail(t, s, "acct/a", now.Add(window+time.Second), time.Hour); got.Demoted {
		t.Errorf("failures more than a window apart = %+v; want no demotion", got)
	}
}

func testFailWhileDown(t *testing.T, s stores.HealthStore) {
	now := base()
	fail(t, s, "acct/a", now, 0)
	fail(t, s, "acct/a", now, 0) // demoted, its probe free at once
	got := fail(t, s, "acct/a", now.Add(time.Minute), time.Hour)
	if got.Demoted {
		t.Errorf("failure while unhealthy = %+v; want no second demotion", got)
	}
	end := now.Add(10 * time.Millisecond)
	wantRecord(t, "record after a failure while unhealthy", got.Record, end, now.Add(time.Minute+10*time.Millisecond).Add(window))
	// The failure locked the probe for its cooldown again.
	if claim(t, s, "acct/a", now.Add(time.Minute)) {
		t.Error("ClaimProbe right after a failed probe succeeded; want the cooldown to start again")
	}
}

func testRecover(t *testing.T, s stores.HealthStore) {
	now := base()
	fail(t, s, "acct/a", now, time.Hour)
	since := fail(t, s, "acct/a", now.Add(time.Second), time.Hour).Record.Since
	// A call that started before the demotion proves nothing.
	if got := succeed(t, s, "acct/a", since.Add(-time.Millisecond)); got.Recovered || !got.Record.Down(since) {
		t.Fatalf("success of a call started before the demotion = %+v; want the target still unhealthy", got)
	}
	got := succeed(t, s, "acct/a", since)
	if !got.Recovered || got.Record != (stores.HealthRecord{}) {
		t.Fatalf("success of a call started at the demotion = %+v; want Recovered and a healthy record", got)
	}
	if got := succeed(t, s, "acct/a", since.Add(time.Second)); got.Recovered {
		t.Errorf("second success = %+v; want Recovered only once", got)
	}
	if r := load(t, s, since, "acct/a")[0]; r != (stores.HealthRecord{}) {
		t.Errorf("record after recovery = %+v; want healthy", r)
	}
	// The failures before the demotion are gone: one new one is not
	// enough.
	if got := fail(t, s, "acct/a", since.Add(2*time.Second), time.Hour); got.Demoted {
		t.Errorf("one failure after a recovery = %+v; want the target still healthy", got)
	}
	if claim(t, s, "acct/a", since.Add(2*time.Second)) {
		t.Error("ClaimProbe of a recovered target succeeded")
	}
}

func testStaleFailures(t *testing.T, s stores.HealthStore) {
	now := base()
	fail(t, s, "acct/a", now, time.Hour)
	since := fail(t, s, "acct/a", now, time.Hour).Record.Since
	healed := since.Add(time.Second)
	succeed(t, s, "acct/a", healed)
	// Calls that were in flight when the target recovered fail late:
	// they say nothing about it now.
	for range 3 {
		if got := fail(t, s, "acct/a", healed.Add(-time.Millisecond), time.Hour); got.Demoted || got.Record != (stores.HealthRecord{}) {
			t.Fatalf("failure of a call started before the recovery = %+v; want it ignored", got)
		}
	}
}

func testProbe(t *testing.T, s stores.HealthStore) {
	now := base()
	fail(t, s, "acct/a", now, time.Hour)
	fail(t, s, "acct/a", now, time.Hour)
	if claim(t, s, "acct/a", now) {
		t.Fatal("ClaimProbe within the cooldown after a demotion succeeded")
	}
	fail(t, s, "acct/b", now, 0)
	fail(t, s, "acct/b", now, 0)
	if !claim(t, s, "acct/b", now) {
		t.Fatal("ClaimProbe of an unhealthy target with no lock failed")
	}
	if claim(t, s, "acct/b", now) {
		t.Error("a second ClaimProbe within the claim's cooldown succeeded")
	}
}

func testHealthKeysApart(t *testing.T, s stores.HealthStore) {
	now := base()
	fail(t, s, "acct/a", now, 0)
	fail(t, s, "acct/a", now, 0)
	// Another model with the same target, and a target whose name
	// extends this one's.
	other := stores.HealthReport{Model: "grp/chat2", Target: "acct/a", Failed: true, Start: now, End: now, Failures: 2, Window: window}
	if got := report(t, s, other); got.Demoted {
		t.Errorf("first failure of another model's target = %+v; want it counted apart", got)
	}
	recs := load(t, s, now, "acct/a", "acct/a2", "acct")
	if !recs[0].Down(now) || recs[1].Down(now) || recs[2].Down(now) {
		t.Errorf("records = %+v; want only acct/a unhealthy", recs)
	}
	got, err := s.LoadHealth(context.Background(), stores.HealthQuery{Model: "grp/chat2", Targets: []string{"acct/a"}, Now: now})
	if err != nil || got.Records[0].Down(now) {
		t.Errorf("another model's record = %+v, %v; want healthy", got, err)
	}
	if claim(t, s, "acct/a2", now) {
		t.Error("ClaimProbe of a healthy target succeeded")
	}
}

func testHealthInvalidInput(t *testing.T, s stores.HealthStore) {
	ctx := context.Background()
	now := base()
	ok := stores.HealthReport{Model: model, Target: "acct/a", Failed: true, Start: now, End: now, Failures: 1, Window: window}
	for _, r := range []stores.HealthReport{
		func() stores.HealthReport { r := ok; r.Model = ""; return r }(),
		func() stores.HealthReport { r := ok; r.Target = ""; return r }(),
		func() stores.HealthReport { r := ok; r.Failures = 0; return r }(),
		func() stores.HealthReport { r := ok; r.Window = 0; return r }(),
		func() stores.HealthReport { r := ok; r.Cooldown = -time.Second; return r }(),
	} {
		if got, err := s.ReportHealth(ctx, r); err == nil {
			t.Errorf("ReportHealth(%+v) = %+v, nil; want an error", r, got)
		}
	}
	for _, c := range []stores.ProbeClaim{
		{Target: "acct/a", Cooldown: time.Second, Now: now},
		{Model: model, Cooldown: time.Second, Now: now},
		{Model: model, Target: "acct/a", Now: now},
	} {
		if got, err := s.ClaimProbe(ctx, c); err == nil {
			t.Errorf("ClaimProbe(%+v) = %+v, nil; want an error", c, got)
		}
	}
	for _, q := range []stores.HealthQuery{{Targets: []string{"acct/a"}, Now: now}, {Model: model, Targets: []string{""}, Now: now}} {
		if got, err := s.LoadHealth(ctx, q); err == nil {
			t.Errorf("LoadHealth(%+v) = %+v, nil; want an error", q, got)
		}
	}
	// Rejected reports changed nothing: with Failures 1, one failure
	// demotes.
	if got := report(t, s, ok); !got.Demoted {
		t.Errorf("a valid report after rejected ones = %+v; want Demoted", got)
	}
}

func testHealthConcurrent(t *testing.T, s stores.HealthStore) {
	const workers = 8
	now := base()
	var demoted, claimed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := range workers {
		wg.Go(func() {
			target := "acct/shared"
			if w%4 == 0 {
				target = fmt.Sprintf("acct/own-%d", w)
			}
			for range 2 {
				got, err := s.ReportHealth(context.Background(), stores.HealthReport{
					Model: model, Target: target, Failed: true, Start: now, End: now, Failures: 2, Window: window,
				})
				if err != nil {
					errs <- err
				} else if got.Demoted && target == "acct/shared" {
					demoted.Add(1)
				}
			}
			got, err := s.ClaimProbe(context.Background(), stores.ProbeClaim{Model: model, Target: "acct/shared", Cooldown: time.Hour, Now: now})
			if err != nil {
				errs <- err
			} else if got.Claimed {
				claimed.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if demoted.Load() != 1 {
		t.Errorf("%d concurrent reports saw the demotion; want exactly 1", demoted.Load())
	}
	// Claims may come before the demotion (then they fail); one more
	// after it makes exactly one success in all.
	if claim(t, s, "acct/shared", now) {
		claimed.Add(1)
	}
	if claimed.Load() != 1 {
		t.Errorf("%d probe claims succeeded on a target demoted with no cooldown; want exactly 1", claimed.Load())
	}
}
