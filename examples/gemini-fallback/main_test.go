package main

import (
	"bytes"
	"regexp"
	"testing"
)

// TestRun checks the example's promise against its local servers: Gemini
// serves while it can; its spent quota and its too-long input move the
// call to OpenAI at once, without waiting out the 46s delay; its overload
// is retried once; and the tool conversation's second turn, which the
// server refuses without the thought signature, is served by Gemini.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^Gemini within its quota:\n  call: ".*"\n    research-assistant/chat → gemini-main/gemini-3-pro-preview, 1 attempt$`,
		`(?m)^Gemini's quota spent.*:\n  call: .*\n    research-assistant/chat → openai-main/gpt-4o, 2 attempts\n      gemini-main/gemini-3-pro-preview\s+try 1\s+429\s+fallback\s+picked\s+\S+\s+status 429 \(RESOURCE_EXHAUSTED\): .* \(retry after 46s\)\n      openai-main/gpt-4o\s+try 1\s+200\s+ok\s+fallback\s`,
		`(?m)^Gemini overloaded once.*:\n  call: .*\n    research-assistant/chat → gemini-main/gemini-3-pro-preview, 2 attempts\n      gemini-main/gemini-3-pro-preview\s+try 1\s+503\s+retry\s+picked\s+\S+\s+status 503 \(UNAVAILABLE\).*\n      gemini-main/gemini-3-pro-preview\s+try 2\s+200\s+ok\s+picked\s+\S+\s+after [0-9]+ms\b`,
		`(?m)^an input longer.*:\n  call: .*\n    research-assistant/chat → openai-main/gpt-4o, 2 attempts\n      gemini-main/gemini-3-pro-preview\s+try 1\s+400\s+fallback\s+picked\s+\S+\s+status 400 \(context_length_exceeded\)`,
		`(?m)^  turn 1: call get_weather\(\{"city":"Paris"\}\), finish tool_calls\n    research-assistant/chat → gemini-main/gemini-3-pro-preview, 1 attempt$`,
		`(?m)^  turn 2: "It is 22°C and sunny in Paris."\n    research-assistant/chat → gemini-main/gemini-3-pro-preview, 1 attempt$`,
		`(?m)^served 6/6 calls: gemini-main 4, openai-main 2; Gemini's 46s quota delay was never waited out; its thought signature came back on the tool turn$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
}
