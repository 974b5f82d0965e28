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
		`(?m)^Gemini within its quota:\n  call: served by gemini-main/gemini-3-pro-preview: `,
		`(?m)^Gemini's quota spent.*:\n  call: served by openai-main/gpt-4o: .*\n\s+gemini-main/gemini-3-pro-preview\s+try 1\s+status 429\s+RESOURCE_EXHAUSTED \(retry in 46s\)\s+wait 0s\s+fallback\n\s+openai-main/gpt-4o\s+try 1\s+status 200\s+wait 0s\s+ok`,
		`(?m)^Gemini overloaded once.*:\n  call: served by gemini-main/gemini-3-pro-preview: .*\n\s+gemini-main/gemini-3-pro-preview\s+try 1\s+status 503\s+UNAVAILABLE\s+wait 0s\s+retry\n\s+gemini-main/gemini-3-pro-preview\s+try 2\s+status 200\s+wait [0-9]+ms\s+ok`,
		`(?m)^an input longer.*:\n  call: served by openai-main/gpt-4o: .*\n\s+gemini-main/gemini-3-pro-preview\s+try 1\s+status 400\s+context_length_exceeded\s+wait 0s\s+fallback`,
		`(?m)^  turn 1: served by gemini-main/gemini-3-pro-preview: call get_weather\(\{"city":"Paris"\}\), finish tool_calls$`,
		`(?m)^  turn 2: served by gemini-main/gemini-3-pro-preview: "It is 22°C and sunny in Paris."$`,
		`(?m)^served 6/6 calls: gemini-main 4, openai-main 2; Gemini's 46s quota delay was never waited out; its thought signature came back on the tool turn$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
}
