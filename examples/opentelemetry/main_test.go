package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
)

// TestRun checks the example's promises in virtual time: the exporter's
// JSON holds four spans, the tree shows the call span with its three
// attempts in order, the failed ones in ERROR with error.type 500, and
// the last line states the promise.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out, true); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		jsonPart, treePart, ok := strings.Cut(text, "\nanswer: ")
		if !ok {
			t.Fatalf("no answer line:\n%s", text)
		}
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(jsonPart), "\n") {
			var span struct{ Name string }
			if err := json.Unmarshal([]byte(line), &span); err != nil {
				t.Fatalf("exporter line is not a span: %v: %s", err, line)
			}
			names = append(names, span.Name)
		}
		if got, want := strings.Join(names, ", "), "chat gpt-4o, chat gpt-4o, chat gpt-4o-mini, chat support/chat"; got != want {
			t.Errorf("exported spans: got %s, want %s", got, want)
		}
		for _, re := range []string{
			`(?m)^chat support/chat \[internal, unset\] .*llmroute\.attempts=3 llmroute\.retries=1 llmroute\.fallbacks=1 llmroute\.resolved=acct/gpt-4o-mini$`,
			`(?m)^├─ chat gpt-4o \[client, ERROR\] error\.type=500 .*llmroute\.try=1 .*llmroute\.class=retry$`,
			`(?m)^├─ chat gpt-4o \[client, ERROR\] error\.type=500 .*llmroute\.try=2 .*llmroute\.class=fallback llmroute\.wait=0\.\d{3}s$`,
			`(?m)^└─ chat gpt-4o-mini \[client, unset\] .*llmroute\.reason=fallback llmroute\.class=ok gen_ai\.response\.model=gpt-4o-mini gen_ai\.usage\.input_tokens=12 gen_ai\.usage\.output_tokens=6$`,
		} {
			if !regexp.MustCompile(re).MatchString(treePart) {
				t.Errorf("tree lacks %q:\n%s", re, treePart)
			}
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		last := lines[len(lines)-1]
		const promise = `^one call span \(chat support/chat\) over 3 attempt spans: 2 in ERROR \(error\.type 500\), then acct/gpt-4o-mini served; the call span is not in error$`
		if !regexp.MustCompile(promise).MatchString(last) {
			t.Errorf("last line: got %q, want %s", last, promise)
		}
	})
}

// TestRunTreeOnly: without the exporter's JSON the tree still comes out.
func TestRunTreeOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(&out, false); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), `"SpanContext"`) {
			t.Errorf("JSON printed with withJSON false:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "└─ chat gpt-4o-mini") {
			t.Errorf("no tree:\n%s", out.String())
		}
	})
}
