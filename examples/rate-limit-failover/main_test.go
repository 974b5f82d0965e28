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
			`(?m)^call 1 \(.*\): support-bot/chat → azure-main/gpt-4o, 1 attempt\n  azure-main/gpt-4o\s+try 1\s+200\s+ok`,
			`(?m)^call 2 \(.*\): support-bot/chat → openai-main/gpt-4o, 2 attempts\n  azure-main/gpt-4o\s+try 1\s+429\s+fallback\s+picked\s+0s\s+status 429.*retry after 20s.*\n  openai-main/gpt-4o\s+try 1\s+200\s+ok\s+fallback\s+0s$`,
			`(?m)^call 3 \(.*\): support-bot/chat → openai-main/gpt-4o, 2 attempts$`,
			`(?m)^call 4 \(.*\): support-bot/chat → openai-main/gpt-4o, 2 attempts\n  openai-main/gpt-4o\s+try 1\s+429\s+retry\s+picked\s+0s\s+status 429.*\n  openai-main/gpt-4o\s+try 2\s+200\s+ok\s+picked\s+0s\s+after 1s$`,
			`(?m)^call 5 \(.*\): support-bot/chat → anthropic-main/claude-sonnet-4, 2 attempts\n  openai-main/gpt-4o\s+try 1\s+429\s+fallback\s+picked\s+0s\s+status 429`,
			`(?m)^served 5/5 calls while the primary was rate limited: azure-main 1, openai-main 3, anthropic-main 1; time spent waiting: 1s$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
		if regexp.MustCompile(`\s{2}after ([1-9][0-9]s|[0-9]+m)`).MatchString(text) {
			t.Errorf("a call waited out a long Retry-After (an attempt's \"after\" of 10s or more):\n%s", text)
		}
	})
}
