package httpheader_test

import (
	"strings"
	"testing"

	"github.com/llmroute/llmroute/internal/httpheader"
)

// refValidName and refValidValue are the checks written out with sets of
// characters, as RFC 9110 states them: the tables must agree with them.
func refValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func refValidValue(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}

// TestTablesEveryByte checks every byte alone, at either end and in the
// middle of a valid name or value.
func TestTablesEveryByte(t *testing.T) {
	for c := range 256 {
		b := string([]byte{byte(c)})
		for _, s := range []string{b, b + "ab", "ab" + b, "a" + b + "b"} {
			if got, want := httpheader.ValidName(s), refValidName(s); got != want {
				t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
			}
			if got, want := httpheader.ValidValue(s), refValidValue(s); got != want {
				t.Errorf("ValidValue(%q) = %v, want %v", s, got, want)
			}
		}
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"", "X-Session-Id", "x_custom.1~|`^!#$%&'*+", "X Session", "Ünicode", "a\r\nb", "(x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := httpheader.ValidName(s), refValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	})
}

func FuzzValidValue(f *testing.F) {
	for _, s := range []string{"", "2024-10-21", "text with spaces\tand a tab", "a\rb", "a\nb", "a\x00b", "ü\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := httpheader.ValidValue(s), refValidValue(s); got != want {
			t.Errorf("ValidValue(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	b.Run("name", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !httpheader.ValidName("X-Session-Id") {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !httpheader.ValidValue("session-123") {
				b.Fatal("invalid")
			}
		}
	})
}
