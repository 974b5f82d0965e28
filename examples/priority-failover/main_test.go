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
			`(?m)^call 1:$`,
			`acct/gpt-4o\s+1\s+429\s+0s\s+retry`,
			`acct/gpt-4o\s+2\s+503\s+1s\s+retry`,
			`acct/gpt-4o\s+3\s+503\s+\d+ms\s+fallback`,
			`acct/gpt-4o-mini\s+1\s+200\s+0s\s+ok`,
			`(?m)^served by: acct/gpt-4o-mini in `,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
	})
}
