package redact_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/llmroute/llmroute/internal/redact"
)

const secret = "sk-secret"

func hide(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }

// leaky is an error type that errors.As could find, with the secret in
// its text.
type leaky struct{ text string }

func (e *leaky) Error() string { return e.text }

// cycle unwraps to itself forever.
type cycle struct{}

func (c *cycle) Error() string { return "cycle" }
func (c *cycle) Unwrap() error { return c }

func TestErrKeepsCleanErrors(t *testing.T) {
	for _, err := range []error{
		nil,
		io.EOF,
		fmt.Errorf("wrapped: %w", io.EOF),
		errors.Join(io.EOF, nil, errors.New("other")),
		&cycle{},
	} {
		if got := redact.Err(err, hide); got != err {
			t.Errorf("Err(%v) = %v, want the same error back", err, got)
		}
	}
}

func TestErrReplacesLeakingErrors(t *testing.T) {
	inner := &leaky{text: "key " + secret}
	for name, err := range map[string]error{
		"itself":        inner,
		"wrapped":       fmt.Errorf("call: %w", fmt.Errorf("dial: %w", inner)),
		"joined":        errors.Join(io.EOF, nil, fmt.Errorf("dial: %w", inner)),
		"wrapped twice": fmt.Errorf("%w and %w", io.ErrUnexpectedEOF, inner),
	} {
		t.Run(name, func(t *testing.T) {
			got := redact.Err(err, hide)
			if got == err {
				t.Fatalf("Err returned the leaking error unchanged: %v", got)
			}
			if want := hide(err.Error()); got.Error() != want {
				t.Errorf("text = %q, want %q", got.Error(), want)
			}
			for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if s := fmt.Sprintf(format, got); strings.Contains(s, secret) {
					t.Errorf("%s shows the secret: %s", format, s)
				}
			}
			var l *leaky
			if errors.As(got, &l) {
				t.Errorf("errors.As reached the original: %v", l)
			}
			if errors.Unwrap(got) != nil {
				t.Error("the stand-in unwraps")
			}
			if !errors.Is(got, inner) {
				t.Error("errors.Is no longer matches the original")
			}
		})
	}
}

func TestErrKeepsErrorsIs(t *testing.T) {
	err := fmt.Errorf("%w: key %s", io.ErrUnexpectedEOF, secret)
	got := redact.Err(err, hide)
	if !errors.Is(got, io.ErrUnexpectedEOF) || errors.Is(got, io.EOF) {
		t.Errorf("errors.Is on %v does not match as the original does", got)
	}
}

func TestAnyStopsOnCycles(t *testing.T) {
	calls := 0
	if redact.Any(&cycle{}, func(error) bool { calls++; return false }) {
		t.Error("Any found a match where none was")
	}
	if calls != 32 {
		t.Errorf("Any looked at %d errors of a cycle, want 32", calls)
	}
}

func TestAnyUsesThePredicate(t *testing.T) {
	target := errors.New("target")
	err := errors.Join(io.EOF, fmt.Errorf("x: %w", target))
	if !redact.Any(err, func(e error) bool { return e == target }) {
		t.Error("Any missed an error inside a join")
	}
	if redact.Any(err, func(e error) bool { return e == io.ErrClosedPipe }) {
		t.Error("Any matched an error not in the tree")
	}
}

func TestSecrets(t *testing.T) {
	var s redact.Secrets
	if got := s.Redact("nothing held"); got != "nothing held" {
		t.Errorf("empty Secrets changed the text: %q", got)
	}
	s.Add("short")     // below MinSecretLen: a placeholder, not a secret
	s.Add("")          // nothing
	s.Add("key-one-1") // kept
	s.Add("key-one-1") // already held
	s.Add("key-two-22")
	text := "short key-one-1 and key-two-22, key-one-1"
	want := "short [REDACTED] and [REDACTED], [REDACTED]"
	if got := s.Redact(text); got != want {
		t.Errorf("Redact(%q) = %q, want %q", text, got, want)
	}
}

func TestSecretsKeepsTheNewestWhenFull(t *testing.T) {
	var s redact.Secrets
	for i := range len(s) + 2 {
		s.Add(fmt.Sprintf("secret-%02d", i))
	}
	last := fmt.Sprintf("secret-%02d", len(s)+1)
	if got := s.Redact(last); got != redact.Text {
		t.Errorf("the newest secret of too many is not redacted: %q", got)
	}
	if got := s.Redact("secret-00"); got != redact.Text {
		t.Errorf("the first secret was dropped: %q", got)
	}
}

func TestKeys(t *testing.T) {
	tail := strings.Repeat("a1_-", 5) // 20 key characters
	for _, tt := range []struct {
		text      string
		wordStart bool
		want      string
	}{
		{"no key here", true, "no key here"},
		{"key sk-" + tail + ".", true, "key sk-[REDACTED]."},
		{"sk-" + tail + " and sk-" + tail, true, "sk-[REDACTED] and sk-[REDACTED]"},
		{"sk-learn is a word", true, "sk-learn is a word"},
		{"sk-" + tail[:19] + " is too short", true, "sk-" + tail[:19] + " is too short"},
		{"ask-" + tail, true, "ask-" + tail},
		{"ask-" + tail, false, "ask-[REDACTED]"},
		{"sk-sk-" + tail, true, "sk-[REDACTED]"}, // the tail runs over the second prefix
	} {
		if got := redact.Keys(tt.text, "sk-", 20, tt.wordStart); got != tt.want {
			t.Errorf("Keys(%q, wordStart %v) = %q, want %q", tt.text, tt.wordStart, got, tt.want)
		}
	}
}
