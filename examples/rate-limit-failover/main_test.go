package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
	"time"
)

// TestRun checks the example's promise in virtual time: every call is
// served although the primary is rate limited; Azure's 429 moves the call
// on without waiting for its 20s Retry-After; OpenAI's 1s Retry-After is
// waited for once; its 90s one is not.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		start := time.Now()
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < time.Second || took > 2*time.Second {
			t.Errorf("run took %v of virtual time, want OpenAI's 1s Retry-After and little more", took)
		}
		text := out.String()
		for _, re := range []string{
			`(?m)^call 1 \(.*\): served by azure-main/gpt-4o\n\s+azure-main/gpt-4o\s+try 1\s+status 200`,
			`(?m)^call 2 \(.*\): served by openai-main/gpt-4o\n\s+azure-main/gpt-4o\s+try 1\s+status 429\s+wait 0s\s+fallback.*\n\s+openai-main/gpt-4o\s+try 1\s+status 200\s+wait 0s\s+ok`,
			`(?m)^call 3 \(.*\): served by openai-main/gpt-4o$`,
			`(?m)^call 4 \(.*\): served by openai-main/gpt-4o\n(.*\n)*?\s+openai-main/gpt-4o\s+try 1\s+status 429\s+wait 0s\s+retry.*\n\s+openai-main/gpt-4o\s+try 2\s+status 200\s+wait 1s\s+ok`,
			`(?m)^call 5 \(.*\): served by anthropic-main/claude-sonnet-4\n(.*\n)*?\s+openai-main/gpt-4o\s+try 1\s+status 429\s+wait 0s\s+fallback`,
			`(?m)^served 5/5 calls while the primary was rate limited: azure-main 1, openai-main 3, anthropic-main 1; time spent waiting: 1s$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
		if regexp.MustCompile(`wait [1-9][0-9]s`).MatchString(text) {
			t.Errorf("a call waited out a long Retry-After:\n%s", text)
		}
	})
}
