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
			`(?m)^call 1 \(.*\): served by ` + onprem + ` `,
			`(?m)^call 2 \(.*\): served by ` + cloud + ` .*\n\s+` + onprem + `\s+try 1\s+status 503\s+wait 0s\s+retry.*\n\s+` + onprem + `\s+try 2\s+status 503\s+wait \d+ms\s+fallback.*\n\s+` + cloud + `\s+try 1\s+status 200`,
			`(?m)^call 3 \(.*\): served by ` + cloud + ` `,
			`(?m)^call 4 \(.*\): served by ` + cloud + ` .*\n\s+` + onprem + `\s+try 1\s+status 502\s+wait 0s\s+fallback`,
			`(?m)^call 5 \(.*\): served by ` + cloud + ` in 300ms\n\s+` + onprem + `\s+try 1\s+status 408\s+wait 0s\s+fallback`,
			`(?m)^call 6 \(on-prem recovered\): served by ` + onprem + ` `,
			`(?m)^call 7 \(.*\): served by ` + onprem + ` `,
			`(?m)^served by the cloud fallback while on-prem was down: 4/4; by on-prem while it was up: 3/3$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
