package main

import (
	"bytes"
	"regexp"
	"testing"
)

// TestRun checks the example's promise: every attempt carries its own
// target's headers_override.set and the caller's headers, never another
// target's headers, and never the removed x-debug.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^call 1 \(.*\): platform/chat → azure-main/gpt-4o, 1 attempt\n(.*\n)*?  headers each provider got:\n    azure-main/gpt-4o: Api-Version: 2024-10-21, X-Ms-Client-Request-Source: llmroute, X-Request-Id: req-42; removed: x-debug\n\n`,
		`(?m)^call 2 \(.*\): platform/chat → anthropic-main/claude-sonnet-4, 2 attempts\n  azure-main/gpt-4o\s+try 1\s+401\s+fallback\s+picked\s+\S+\s+status 401.*\n  anthropic-main/claude-sonnet-4\s+try 1\s+200\s+ok`,
		`(?m)^    anthropic-main/claude-sonnet-4: Anthropic-Beta: prompt-caching-2024-07-31, X-Request-Id: req-42; removed: x-debug$`,
		`(?m)^attempts that got their own target's headers \(and the caller's x-request-id\): 3/3; that got the caller's x-debug: 0$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
}
