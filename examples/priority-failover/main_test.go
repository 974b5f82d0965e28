package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
	"time"
)

// TestRun checks the example's promises with the fake providers, in
// virtual time: the call shows the primary's 429, the Retry-After wait of
// 1s, two 503s, and the backup serving.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		start := time.Now()
		if err := run(&out, options{calls: 1, primary: "gpt-4o", backup: "gpt-4o-mini"}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < time.Second {
			t.Errorf("run took %v of virtual time, want at least the 1s Retry-After", took)
		}
		text := out.String()
		for _, re := range []string{
			`(?m)^call 1: support/chat → acct/gpt-4o-mini, 4 attempts$`,
			`(?m)^  acct/gpt-4o\s+try 1\s+429\s+retry\s+picked\s+0s\s+status 429 \(rate_limit_exceeded\).*retry after 1s`,
			`(?m)^  acct/gpt-4o\s+try 2\s+503\s+retry\s+picked\s+0s\s+after 1s\s+status 503`,
			`(?m)^  acct/gpt-4o\s+try 3\s+503\s+fallback\s+picked\s+0s\s+after \d+ms\s+status 503`,
			`(?m)^  acct/gpt-4o-mini\s+try 1\s+200\s+ok\s+fallback\s+0s$`,
			`(?m)^served by: acct/gpt-4o-mini in `,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
