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
		`(?m)^call 1 \(.*\): called in \S+: ` + fromOn + `\n  \S+ → ` + onprem + `, 1 attempt$`,
		`(?m)^call 2 \(.*\): streamed in \S+: ` + fromOn + `\n  \S+ → ` + onprem + `, 1 attempt$`,
		`(?m)^call 3 \(.*\): streamed in \S+: ` + fromBed + `\n  \S+ → ` + bedrock + `, 3 attempts\n    ` +
			onprem + `\s+try 1\s+502\s+retry\s+picked\s+\S+\s+status 502.*\n    ` +
			onprem + `\s+try 2\s+502\s+fallback\s+picked\s+\S+\s+after \d+ms\s+status 502.*\n    ` +
			bedrock + `\s+try 1\s+200\s+ok\s+fallback\s`,
		`(?m)^call 4 \(.*\): called in \S+: ` + fromBed + `\n  \S+ → ` + bedrock + `, 1 attempt\n    ` + bedrock + `\s+try 1\s+200\s+ok`,
		`(?m)^call 5 \(.*\): called in \S+: ` + fromBed + `\n  \S+ → ` + bedrock + `, 2 attempts\n    ` + onprem + `\s+try 1\s+503\s+fallback\s+probe, failures\s+\S+\s+status 503`,
		`(?m)^call 6 \(.*\): called in \S+: ` + fromBed + `\n  \S+ → ` + bedrock + `, 2 attempts\n    ` + onprem + `\s+try 1\s+408\s+fallback\s+probe, failures\s+\S+\s+status 408`,
		`(?m)^call 7 \(on-prem recovered\): called in \S+: ` + fromOn + `\n  \S+ → ` + onprem + `, 1 attempt$`,
		`(?m)^call 8 \(.*\): streamed in \S+: ` + fromOn + `\n  \S+ → ` + onprem + `, 1 attempt$`,
		`(?m)^served by Bedrock while on-prem was down: 4/4; by on-prem while it was up: 4/4 \(streams included\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
}
