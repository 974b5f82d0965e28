package httpheader_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/internal/httpheader"
)

func TestApply(t *testing.T) {
	h := http.Header{
		"Authorization": {"Bearer sdk"},
		"X-Trace":       {"a", "b"},
		"X-Drop":        {"1"},
		"Content-Type":  {"application/json"},
	}
	set := http.Header{
		"Authorization": {"Bearer attempt"}, // replaces the SDK's value
		"X-Trace":       {"c"},              // replaces both values
		"X-New":         {"1", "2"},         // added, both values
		"X-Both":        {"set"},            // set, then removed
	}
	httpheader.Apply(h, set, []string{"X-Drop", "X-Both", "X-Absent"})
	want := http.Header{
		"Authorization": {"Bearer attempt"},
		"X-Trace":       {"c"},
		"X-New":         {"1", "2"},
		"Content-Type":  {"application/json"},
	}
	if diff := cmp.Diff(h, want); diff != "" {
		t.Errorf("header after Apply (-got +want):\n%s", diff)
	}
	if got := set["X-Trace"]; len(got) != 1 || got[0] != "c" {
		t.Errorf("Apply changed the headers it was given: %q", got)
	}
}
