package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time, where the fakes'
// latencies are exact: the primary serves while fast (its 503 retried on
// it); slow, it serves until 3 calls put its mean over the cutoff, then
// priority 1 serves, also after the primary is fast again while its
// 3-minute mean stays high; once the slow calls leave the window the
// primary serves again.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		for _, re := range []string{
			`(?m)^  call 1: realtime/voice → azure-main/gpt-4o, 2 attempts\n    azure-main/gpt-4o\s+try 1\s+503\s+retry\s+picked\s+0s\s+status 503.*\n    azure-main/gpt-4o\s+try 2\s+200\s+ok\s+picked\s+\S+\s+after \d+ms, tpot 10ms$`,
			`(?m)^  call 6: realtime/voice → azure-main/gpt-4o, 1 attempt\n    azure-main/gpt-4o\s+try 1\s+200\s+ok\s+picked\s+\S+\s+tpot 60ms$`,
			`(?m)^  call 7: realtime/voice → openai-main/gpt-4o, 1 attempt\n    openai-main/gpt-4o\s+try 1\s+200\s+ok\s+picked\s+\S+\s+tpot 5ms$`,
			`(?m)^  call 10: realtime/voice → openai-main/gpt-4o, 1 attempt$`,
			`(?m)^  call 11: realtime/voice → azure-main/gpt-4o, 1 attempt$`,
			`(?m)^served as the SLA says: 13/13: fast primary 3/3, slow primary until the cutoff then priority 1 5/5, priority 1 while the mean is high 2/2, primary again after recovery 3/3$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
