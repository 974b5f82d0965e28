package main

import (
	"bytes"
	"regexp"
	"testing"

	"go.uber.org/goleak"
)

// TestRun checks the example's promise: every call to openai-first is
// served whole by Claude while OpenAI is rate limited (a 429 moves on at
// once, without a retry), and every call to claude-first by OpenAI while
// Claude is overloaded (its 529, a 503 to the router, tried twice).
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^  call 1 \(chat\): served by anthropic-main/claude-sonnet-4-5: "Your order ships tomorrow \(claude-sonnet-4-5\)\."\n\s+openai-main/gpt-4o\s+try 1\s+status 429 rate_limit_exceeded\s+fallback.*\n\s+anthropic-main/claude-sonnet-4-5\s+try 1\s+status 200\s+ok`,
		`(?m)^  call 2 \(stream\): served by anthropic-main/claude-sonnet-4-5: "Your order ships tomorrow \(claude-sonnet-4-5\)\."$`,
		`(?m)^  call 1 \(chat\): served by openai-main/gpt-4o: "Your order ships tomorrow \(gpt-4o\)\."\n\s+anthropic-main/claude-sonnet-4-5\s+try 1\s+status 503 overloaded_error\s+retry.*\n\s+anthropic-main/claude-sonnet-4-5\s+try 2\s+status 503 overloaded_error\s+fallback.*\n\s+openai-main/gpt-4o\s+try 1\s+status 200\s+ok`,
		`(?m)^  call 2 \(stream\): served by openai-main/gpt-4o: "Your order ships tomorrow \(gpt-4o\)\."$`,
		`(?m)^served 5/5 calls by the Claude fallback while the OpenAI primary was rate limited; 5/5 by OpenAI while Claude was overloaded$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
	if regexp.MustCompile(`failed:`).MatchString(text) {
		t.Errorf("a call failed:\n%s", text)
	}
}
