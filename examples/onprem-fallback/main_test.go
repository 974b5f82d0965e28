package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time: while on-prem is
// down, in each of its three ways, the cloud serves every call; the hung
// server costs no more than its 300ms request timeout; on-prem takes its
// traffic back after recovering.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		const (
			onprem = `vllm-onprem/llama-3-70b`
			cloud  = `together/meta-llama/Llama-3\.1-70B-Instruct-Turbo`
		)
		for _, re := range []string{
			`(?m)^call 1 \(.*\) in \S+: \S+ → ` + onprem + `, 1 attempt$`,
			`(?m)^call 2 \(.*\) in \S+: \S+ → ` + cloud + `, 3 attempts\n  ` + onprem + `\s+try 1\s+503\s+retry\s+picked\s+\S+\s+status 503.*\n  ` + onprem + `\s+try 2\s+503\s+fallback\s+picked\s+\S+\s+after \d+ms\s+status 503.*\n  ` + cloud + `\s+try 1\s+200\s+ok`,
			`(?m)^call 3 \(.*\) in \S+: \S+ → ` + cloud + `, 1 attempt$`,
			`(?m)^call 4 \(.*\) in \S+: \S+ → ` + cloud + `, 2 attempts\n  ` + onprem + `\s+try 1\s+502\s+fallback\s+probe, failures\s+\S+\s+\S`,
			`(?m)^call 5 \(.*\) in 300ms: \S+ → ` + cloud + `, 2 attempts\n  ` + onprem + `\s+try 1\s+408\s+fallback\s+probe, failures\s+300ms\s+\S`,
			`(?m)^call 6 \(on-prem recovered\) in \S+: \S+ → ` + onprem + `, 1 attempt\n  ` + onprem + `\s+try 1\s+200\s+ok\s+probe`,
			`(?m)^call 7 \(.*\) in \S+: \S+ → ` + onprem + `, 1 attempt$`,
			`(?m)^served by the cloud fallback while on-prem was down: 4/4; by on-prem while it was up: 3/3$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
