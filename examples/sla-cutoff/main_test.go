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
			`(?m)^  call 1: served by azure-main/gpt-4o\n\s+azure-main/gpt-4o\s+try 1\s+status 503\s+wait 0s\s+retry.*\n\s+azure-main/gpt-4o\s+try 2\s+status 200\s+wait \d+ms\s+ok\s+10ms/token`,
			`(?m)^  call 6: served by azure-main/gpt-4o\n\s+azure-main/gpt-4o\s+try 1\s+status 200\s+wait 0s\s+ok\s+60ms/token`,
			`(?m)^  call 7: served by openai-main/gpt-4o\n\s+openai-main/gpt-4o\s+try 1\s+status 200\s+wait 0s\s+ok\s`,
			`(?m)^  call 10: served by openai-main/gpt-4o$`,
			`(?m)^  call 11: served by azure-main/gpt-4o$`,
			`(?m)^served as the SLA says: 13/13: fast primary 3/3, slow primary until the cutoff then priority 1 5/5, priority 1 while the mean is high 2/2, primary again after recovery 3/3$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
