package main

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
)

var shareLine = regexp.MustCompile(`(?m)^canary share: ([0-9.]+)% \(weight 10%\)$`)

// TestRun checks the example's promises: the first calls are printed with
// their attempts, and the canary's share is 10% within tolerance. With n
// calls the canary serves Binomial(n, 0.1): σ = sqrt(n·0.1·0.9), 9.5 calls
// (0.95 points) for n = 1000; the tolerance is 5σ, ±4.7 points. It runs in
// virtual time, so the canary's retry wait takes none.
func TestRun(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				o := options{calls: 1000, show: 5, seed: seed, stable: "gpt-4o-mini", canary: "gpt-4o"}
				if err := run(&out, o); err != nil {
					t.Fatal(err)
				}
				text := out.String()
				m := shareLine.FindStringSubmatch(text)
				if m == nil {
					t.Fatalf("no canary share line in:\n%s", text)
				}
				share, _ := strconv.ParseFloat(m[1], 64)
				sigma := 100 * math.Sqrt(0.1*0.9/1000)
				if math.Abs(share-10) > 5*sigma {
					t.Errorf("canary share %.1f%%, want 10%% ± %.1f", share, 5*sigma)
				}
				if got := strings.Count(text, ": release/chat → acct/gpt-4o-mini, 1 attempt\n"); got < 4 {
					t.Errorf("%d stable calls printed, want at least 4 of the first 5:\n%s", got, text)
				}
				// The canary's first call is printed too, with the
				// retry after its scripted 500.
				if !regexp.MustCompile(`(?m)^call \d+: release/chat → acct/gpt-4o, 2 attempts\n  acct/gpt-4o\s+try 1\s+500\s+retry\s+picked\s+0s\s+status 500.*\n  acct/gpt-4o\s+try 2\s+200\s+ok\s+picked\s+0s\s+after \d+ms$`).MatchString(text) {
					t.Errorf("canary's first call not shown with its retry:\n%s", text)
				}
				if got := strings.Count(text, "try 1"); got < 5 {
					t.Errorf("%d attempts printed, want at least 5:\n%s", got, text)
				}
				if !strings.Contains(text, "after 1000 calls:") || !strings.Contains(text, "acct/gpt-4o-mini") {
					t.Errorf("summary missing:\n%s", text)
				}
			})
		})
	}
}
