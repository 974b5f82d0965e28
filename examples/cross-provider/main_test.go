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
		`(?m)^  call 1 \(chat\): "Your order ships tomorrow \(claude-sonnet-4-5\)\."\n    assistant/openai-first → anthropic-main/claude-sonnet-4-5, 2 attempts\n      openai-main/gpt-4o\s+try 1\s+429\s+fallback\s+picked\s+\S+\s+status 429 \(rate_limit_exceeded\).*\n      anthropic-main/claude-sonnet-4-5\s+try 1\s+200\s+ok`,
		`(?m)^  call 2 \(stream\): "Your order ships tomorrow \(claude-sonnet-4-5\)\."\n    assistant/openai-first → anthropic-main/claude-sonnet-4-5, \d attempts?$`,
		`(?m)^  call 1 \(chat\): "Your order ships tomorrow \(gpt-4o\)\."\n    assistant/claude-first → openai-main/gpt-4o, 3 attempts\n      anthropic-main/claude-sonnet-4-5\s+try 1\s+503\s+retry\s+picked\s+.*status 503 \(overloaded_error\).*\n      anthropic-main/claude-sonnet-4-5\s+try 2\s+503\s+fallback\s+picked\s+.*status 503 \(overloaded_error\).*\n      openai-main/gpt-4o\s+try 1\s+200\s+ok`,
		`(?m)^  call 2 \(stream\): "Your order ships tomorrow \(gpt-4o\)\."\n    assistant/claude-first → openai-main/gpt-4o, 1 attempt$`,
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
