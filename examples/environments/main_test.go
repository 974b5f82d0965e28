package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time: prod's calls are
// served only by the big models of its priority chain (falling back from
// Azure to OpenAI in the outage), dev's only by the cheap model, through
// its slug; a caller outside the group is refused.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		for _, re := range []string{
			`(?m)^  call 3: booking-app/gpt-prod → openai-main/gpt-4o, 4 attempts\n(    azure-main/gpt-4o\s+try \d\s+503.*\n){3}    openai-main/gpt-4o\s+try 1\s+200\s+ok\s+fallback`,
			`(?m)^  call 1: booking-app/gpt-dev → openai-main/gpt-4o-mini, 1 attempt$`,
			`(?m)^user:mallory@example.com calling booking-app/gpt-prod: .*; errors.Is\(err, routing.ErrForbidden\) = true$`,
			`(?m)^one manifest, two environments: prod \(booking-app/gpt-prod\) 3/3 on big models \(azure-main/gpt-4o 2, openai-main/gpt-4o 1\); dev \(booking-gpt-dev\) 3/3 on the cheap model \(openai-main/gpt-4o-mini 3\)$`,
		} {
			if !regexp.MustCompile(re).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", re, text)
			}
		}
		if regexp.MustCompile(`gpt-prod → openai-main/gpt-4o-mini|gpt-dev → \S+/gpt-4o,`).MatchString(text) {
			t.Errorf("an environment's call was served by the other's model:\n%s", text)
		}
	})
}
