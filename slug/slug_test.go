package slug_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/slug"
)

// The names and slugs as regular expressions; the hand-written validators
// must agree with them.
var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9\-_]{1,62}[a-z0-9]$`)
	slugPattern = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9\-._]{0,60}[a-zA-Z0-9])$`)
)

func TestValidName(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring; "" means valid
	}{
		{"abc", ""},
		{"gpt-4o", ""},
		{"my_group-1", ""},
		{"a1b", ""},
		{"a" + strings.Repeat("b", 63), ""},
		{"", "slug: name is empty"},
		{"Ab", `slug: "Ab" must start with a lowercase letter`},
		{"1abc", "must start with a lowercase letter"},
		{"-abc", "must start with a lowercase letter"},
		{"ab", `slug: "ab" is too short`},
		{"a", "is too short"},
		{"a" + strings.Repeat("b", 64), "is too long (65 bytes)"},
		{"abc-", "must end with a lowercase letter or digit"},
		{"abc_", "must end with a lowercase letter or digit"},
		{"abC", "must end with a lowercase letter or digit"},
		{"aBc", `contains 'B' at byte 1`},
		{"a.c", `contains '.' at byte 1`},
		{"a c", `contains whitespace ' ' at byte 1`},
		{"a\x00c", `contains control character '\x00' at byte 1`},
		{"aéc", `contains 'é' at byte 1`},
		{"a\xffc", `contains an invalid byte at byte 1`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkErr(t, slug.ValidName(tt.in), tt.wantErr)
			if got, want := slug.ValidName(tt.in) == nil, namePattern.MatchString(tt.in); got != want {
				t.Errorf("ValidName(%q) valid = %v, pattern says %v", tt.in, got, want)
			}
		})
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"ab", ""},
		{"GPT4", ""},
		{"gpt-4o.mini_v2", ""},
		{"a" + strings.Repeat("B", 61), ""},
		{"", "slug: slug is empty"},
		{"a", `slug: "a" is too short`},
		{"1ab", "must start with a letter"},
		{".ab", "must start with a letter"},
		{"a" + strings.Repeat("b", 62), "is too long (63 bytes)"},
		{"ab.", "must end with a letter or digit"},
		{"ab-", "must end with a letter or digit"},
		{"a/b", `contains '/' at byte 1`},
		{"a b", `contains whitespace ' ' at byte 1`},
		{"a\tb", `contains whitespace '\t' at byte 1`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkErr(t, slug.ValidSlug(tt.in), tt.wantErr)
			if got, want := slug.ValidSlug(tt.in) == nil, slugPattern.MatchString(tt.in); got != want {
				t.Errorf("ValidSlug(%q) valid = %v, pattern says %v", tt.in, got, want)
			}
		})
	}
}

func TestErrorQuotesAtMost80Chars(t *testing.T) {
	long := "A" + strings.Repeat("é", 500)
	for name, err := range map[string]error{
		"ValidName": slug.ValidName(long),
		"ValidSlug": slug.ValidSlug("1" + long),
	} {
		_, err2 := slug.ParseRef(long)
		for _, e := range []error{err, err2} {
			if e == nil {
				t.Fatalf("%s: got nil error for a long invalid input", name)
			}
			msg := e.Error()
			if got := strings.Count(msg, "é"); got > 79 {
				t.Errorf("%s: error repeats %d characters of input, want at most 80: %s", name, got, msg)
			}
			if !strings.Contains(msg, "…") {
				t.Errorf("%s: error %q does not mark the cut", name, msg)
			}
			if !utf8.ValidString(msg) {
				t.Errorf("%s: error is not valid UTF-8: %q", name, msg)
			}
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    slug.Ref
		wantErr string
	}{
		{in: "openai/gpt-4o", want: slug.Ref{Account: "openai", Model: "gpt-4o"}},
		{in: "openrouter/meta-llama/llama-3", want: slug.Ref{Account: "openrouter", Model: "meta-llama/llama-3"}},
		{in: "a/b/", want: slug.Ref{Account: "a", Model: "b/"}},
		{in: "a//b", want: slug.Ref{Account: "a", Model: "/b"}},
		{in: "azure/gpt-4o@2024-08-06", want: slug.Ref{Account: "azure", Model: "gpt-4o@2024-08-06"}},
		{in: "grüppe/modèle", want: slug.Ref{Account: "grüppe", Model: "modèle"}},
		{in: "", wantErr: "slug: model reference is empty"},
		{in: "gpt-4o", wantErr: `slug: "gpt-4o" has no '/'`},
		{in: "/gpt-4o", wantErr: "empty prefix"},
		{in: "openai/", wantErr: "empty model"},
		{in: "/", wantErr: "empty prefix"},
		{in: "open ai/gpt", wantErr: "contains whitespace ' ' at byte 4"},
		{in: "openai/gpt\n", wantErr: `contains whitespace '\n' at byte 10`},
		{in: "openai/gpt\x7f", wantErr: `control character '\x7f'`},
		{in: "openai/\u00a0gpt", wantErr: `whitespace '\u00a0' at byte 7`},
		{in: "openai/gpt\u0085", wantErr: `whitespace '\u0085'`},
		{in: "openai/g\xffpt", wantErr: "not valid UTF-8 at byte 8"},
		{in: "noslash\x00", wantErr: `control character '\x00' at byte 7`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := slug.ParseRef(tt.in)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("ParseRef(%q) mismatch (-got +want):\n%s", tt.in, diff)
			}
			if err == nil {
				if s := got.String(); s != tt.in {
					t.Errorf("ParseRef(%q).String() = %q, want the input back", tt.in, s)
				}
			}
		})
	}
}

func TestRefString(t *testing.T) {
	tests := []struct {
		in   slug.Ref
		want string
	}{
		{slug.Ref{Account: "openai", Model: "gpt-4o"}, "openai/gpt-4o"},
		{slug.Ref{Account: "or", Model: "meta/llama"}, "or/meta/llama"},
		{slug.Ref{}, "/"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkParseRef(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := slug.ParseRef("openrouter/meta-llama/llama-3"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseRefAllocs(t *testing.T) {
	if got := testing.AllocsPerRun(100, func() { _, _ = slug.ParseRef("openrouter/meta-llama/llama-3") }); got != 0 {
		t.Errorf("ParseRef allocates %v times per call, want 0", got)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got error %q, want nil", err)
	case want != "" && err == nil:
		t.Errorf("got nil error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("got error %q, want one containing %q", err, want)
	case err != nil && !strings.HasPrefix(err.Error(), "slug: "):
		t.Errorf("error %q lacks the \"slug: \" prefix", err)
	}
}
