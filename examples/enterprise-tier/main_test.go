package main

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"testing"
)

var summary = regexp.MustCompile(`(?m)^enterprise on azure-dedicated/gpt-4o: (\d+)/20; others: azure-shared/gpt-4o ([0-9.]+)%, openai-main/gpt-4o ([0-9.]+)% \(weights 60/40\), azure-dedicated/gpt-4o (\d+)$`)

// TestRun checks the example's promise: every enterprise call goes to the
// dedicated deployment, no other call does, and the others split 60/40.
// With n = 1000 calls the shared deployment's share has σ =
// sqrt(0.6·0.4/1000), 1.55 points; the tolerance is 5σ.
func TestRun(t *testing.T) {
	for range 3 {
		var out bytes.Buffer
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		m := summary.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no summary line in:\n%s", text)
		}
		if m[1] != "20" {
			t.Errorf("enterprise calls on the dedicated deployment: %s/20, want 20/20", m[1])
		}
		if m[4] != "0" {
			t.Errorf("other calls on the dedicated deployment: %s, want 0", m[4])
		}
		sharedPct, _ := strconv.ParseFloat(m[2], 64)
		openaiPct, _ := strconv.ParseFloat(m[3], 64)
		tol := 5 * 100 * math.Sqrt(0.6*0.4/1000)
		if math.Abs(sharedPct-60) > tol || math.Abs(openaiPct-40) > tol {
			t.Errorf("others split %.1f/%.1f, want 60/40 ± %.1f", sharedPct, openaiPct, tol)
		}
		if !regexp.MustCompile(`(?m)^  metadata \{tier: enterprise\}: saas-app/chat → azure-dedicated/gpt-4o, 1 attempt\n    azure-dedicated/gpt-4o\s+try 1\s+200\s+ok\s+picked`).MatchString(text) {
			t.Errorf("enterprise call not shown in full:\n%s", text)
		}
	}
}
