package main

import (
	"bytes"
	"regexp"
	"testing"

	"go.uber.org/goleak"
)

// TestRun checks the example's promise: while on-prem is down, in each of
// its ways, Claude on Bedrock serves every call, a stream included; the
// hung server is given up at its request timeout (a 408); on-prem takes
// its traffic back after recovering. Both servers are real loopback
// servers speaking each provider's wire format, so this runs in real time
// (about two seconds), not in a synctest bubble.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	const (
		onprem  = `vllm-onprem/llama-3-70b`
		bedrock = `bedrock/us\.anthropic\.claude-3-5-haiku-20241022-v1:0`
		fromOn  = `"On-prem summary: disk full on node 7\."`
		fromBed = `"Bedrock summary: disk full on node 7\."`
	)
	for _, re := range []string{
		`(?m)^call 1 \(.*\): called, served by ` + onprem + ` in \S+: ` + fromOn + `$`,
		`(?m)^call 2 \(.*\): streamed, served by ` + onprem + ` in \S+: ` + fromOn + `$`,
		`(?m)^call 3 \(.*\): streamed, served by ` + bedrock + ` in \S+: ` + fromBed + `\n\s+` +
			onprem + `\s+try 1\s+status 502\s+wait 0s\s+retry.*\n\s+` +
			onprem + `\s+try 2\s+status 502\s+wait \d+ms\s+fallback.*\n\s+` +
			bedrock + `\s+try 1\s+status 200\s+wait 0s\s+ok`,
		`(?m)^call 4 \(.*\): called, served by ` + bedrock + ` in \S+: ` + fromBed + `\n\s+` + bedrock + `\s+try 1\s+status 200`,
		`(?m)^call 5 \(.*\): called, served by ` + bedrock + ` .*\n\s+` + onprem + `\s+try 1\s+status 503\s+wait 0s\s+fallback\s+\(probe`,
		`(?m)^call 6 \(.*\): called, served by ` + bedrock + ` .*\n\s+` + onprem + `\s+try 1\s+status 408\s+wait 0s\s+fallback`,
		`(?m)^call 7 \(on-prem recovered\): called, served by ` + onprem + ` `,
		`(?m)^call 8 \(.*\): streamed, served by ` + onprem + ` `,
		`(?m)^served by Bedrock while on-prem was down: 4/4; by on-prem while it was up: 4/4 \(streams included\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
}
