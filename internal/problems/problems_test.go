package problems_test

import (
	"errors"
	"testing"

	"github.com/llmroute/llmroute/internal/problems"
)

func TestText(t *testing.T) {
	a, b := errors.New("a: bad"), errors.New("b: worse")
	if got, want := problems.Text("config: ", []error{a}), "config: a: bad"; got != want {
		t.Errorf("one problem = %q, want %q", got, want)
	}
	if got, want := problems.Text("config: ", []error{a, b}), "config: 2 problems:\n\ta: bad\n\tb: worse"; got != want {
		t.Errorf("two problems = %q, want %q", got, want)
	}
	if got := problems.Unwrap([]error{a, b}); len(got) != 2 || got[1] != b {
		t.Errorf("Unwrap = %v", got)
	}
}
