package stores

import (
	"strings"
	"testing"
)

// TestMayEscape puts every byte at every place of strings of up to 17
// bytes (two words and a tail), in a string that escapes nothing else.
func TestMayEscape(t *testing.T) {
	for n := 1; n <= 17; n++ {
		for i := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[i] = byte(c)
				s := string(b)
				if got, want := mayEscape(s), strings.ContainsAny(s, `\|`); got != want {
					t.Fatalf("mayEscape(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
	if mayEscape("") {
		t.Error(`mayEscape("") = true`)
	}
}

func FuzzMayEscape(f *testing.F) {
	for _, s := range []string{"", "team/chat", `a\b`, "a|b", "session-0123456789|", "\xfc\xdc\x5c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := mayEscape(s), strings.ContainsAny(s, `\|`); got != want {
			t.Errorf("mayEscape(%q) = %v, want %v", s, got, want)
		}
	})
}
