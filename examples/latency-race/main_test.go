package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time, where the fakes'
// latencies are exact: every deployment is explored, then the calls
// shift to the fastest one, which serves every call after the warm-up
// (in simulations of the strategy the last exploring call came before
// call 27 in 10000 seeds); its one 503 is retried once, on it.
func TestRun(t *testing.T) {
	for range 3 {
		synctest.Test(t, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, re := range []string{
				`(?m)^\d+\s+azure-us/gpt-4o-mini\s+1\s+200\s.*explore$`,
				`(?m)^\d+\s+openai-main/gpt-4o-mini\s+1\s+200\s.*explore$`,
				`(?m)^\d+\s+azure-eu/gpt-4o-mini\s+1\s+200\s.*fast-band$`,
				`(?m)^(\d+)\s+azure-eu/gpt-4o-mini\s+1\s+503\s+0s\s+\S+\s+retry .*\n\d+\s+azure-eu/gpt-4o-mini\s+2\s+200\s+\d+ms\s+5ms\s+ok `,
				`(?m)^after warm-up \(calls 31-60\) the fastest deployment, azure-eu/gpt-4o-mini \(5ms\), served (30/30 \(the other 0|29/30 \(the other 1|28/30 \(the other 2|27/30 \(the other 3): rechecks of slower ones\)$`,
			} {
				if !regexp.MustCompile(re).MatchString(text) {
					t.Errorf("output lacks %q:\n%s", re, text)
				}
			}
			if regexp.MustCompile(`(?m)^\d+\s+\S+\s+3\s`).MatchString(text) {
				t.Errorf("a target was tried a third time, want at most one retry:\n%s", text)
			}
		})
	}
}
