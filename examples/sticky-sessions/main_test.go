package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promise in virtual time: every
// conversation stays on the deployment of its first turn, each later turn
// going there by its sticky pin; when that deployment fails, the turn
// falls back and the pin moves to the deployment that served it.
func TestRun(t *testing.T) {
	for range 5 {
		synctest.Test(t, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, re := range []string{
				`(?m)^6/6 conversations stayed on one deployment for all 4 turns \(azure-us/gpt-4o: \d, azure-eu/gpt-4o: \d\); when (\S+) failed, conv-1's pin moved to (\S+) and stayed$`,
				`(?m)^5\s+conv-1\s+(\S+)\s+1\s+503\s+0s\s+retry\s+sticky\n(.*\n)*5\s+conv-1\s+\S+\s+1\s+200\s+0s\s+ok\s+fallback\n6\s+conv-1\s+\S+\s+1\s+200\s+0s\s+ok\s+sticky$`,
			} {
				if !regexp.MustCompile(re).MatchString(text) {
					t.Errorf("output lacks %q:\n%s", re, text)
				}
			}
			// Turns 2 to 4 of every conversation go by the pin.
			if got := len(regexp.MustCompile(`(?m)^[2-4]\s+conv-\d\s+\S+\s+1\s+200\s+0s\s+ok\s+sticky$`).FindAllString(text, -1)); got != 3*6 {
				t.Errorf("%d later turns went by the pin, want 18:\n%s", got, text)
			}
			if strings.Contains(text, "failed:") {
				t.Errorf("a turn failed:\n%s", text)
			}
		})
	}
}
