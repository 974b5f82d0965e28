package slug_test

import (
	"strings"
	"testing"

	"github.com/llmroute/llmroute/slug"
)

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"abc", "Ab", "a-b_c1", "ab-", "a\x00b", "aéb", strings.Repeat("a", 64), strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := slug.ValidName(s)
		if got, want := err == nil, namePattern.MatchString(s); got != want {
			t.Fatalf("ValidName(%q) = %v; pattern says valid=%v", s, err, want)
		}
		checkFuzzErr(t, err)
	})
}

func FuzzValidSlug(f *testing.F) {
	for _, s := range []string{"ab", "a", "GPT-4o.mini", "a.", "1a", "a b", strings.Repeat("a", 62), strings.Repeat("a", 63)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := slug.ValidSlug(s)
		if got, want := err == nil, slugPattern.MatchString(s); got != want {
			t.Fatalf("ValidSlug(%q) = %v; pattern says valid=%v", s, err, want)
		}
		checkFuzzErr(t, err)
	})
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"openai/gpt-4o", "openrouter/meta-llama/llama-3", "/", "a/", "/b", "a b/c", "a/\u2028", "a/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := slug.ParseRef(s)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if ref.Account == "" || ref.Model == "" || strings.Contains(ref.Account, "/") {
			t.Fatalf("ParseRef(%q) = %#v: empty side or prefix holding '/'", s, ref)
		}
		if got := ref.String(); got != s {
			t.Fatalf("ParseRef(%q).String() = %q, want the input back", s, got)
		}
		again, err := slug.ParseRef(ref.String())
		if err != nil || again != ref {
			t.Fatalf("ParseRef(%q) again = %#v, %v; want %#v", s, again, err, ref)
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "slug: ") {
		t.Fatalf("error %q lacks the prefix", msg)
	}
	// The message repeats at most 80 characters of input, each quoted in
	// at most 10 bytes (\U0010ffff), plus fixed text.
	if len(msg) > 80*10+200 {
		t.Fatalf("error is %d bytes long: %q", len(msg), msg)
	}
}
