package main

import (
	"bytes"
	"regexp"
	"testing"
)

// TestRun checks the example's promise: each provider receives its own
// prompt_version_fqn (and its own temperature and max_tokens) on plain
// requests, and none on requests with tools, with a Trace note saying
// why.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, re := range []string{
		`served by openai-main/gpt-4o\n\s+request: model gpt-4o, temperature 0\.3, max_tokens not set, tools 0\n\s+extra body fields: prompt_version_fqn="chat_prompt:acme/writer/summarise-openai:3"\n`,
		`served by anthropic-main/claude-sonnet-4\n\s+request: model claude-sonnet-4, temperature 0\.5, max_tokens 1024, tools 0\n\s+extra body fields: prompt_version_fqn="chat_prompt:acme/writer/summarise-claude:5"\n`,
		`served by openai-main/gpt-4o\n.*tools 1\n\s+extra body fields: none\n\s+note: openai-main/gpt-4o: prompt_version_fqn not sent: the request carries tools\n`,
		`served by anthropic-main/claude-sonnet-4\n.*tools 1\n\s+extra body fields: none\n\s+note: anthropic-main/claude-sonnet-4: prompt_version_fqn not sent: the request carries tools\n`,
		`(?m)^each provider got its own prompt version on plain requests \(2/2\) and none with tools \(2/2\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output lacks %q:\n%s", re, text)
		}
	}
	if regexp.MustCompile(`tools 1\n\s+extra body fields: prompt_version_fqn`).MatchString(text) {
		t.Errorf("a request with tools was sent a prompt version:\n%s", text)
	}
}
