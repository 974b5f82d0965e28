package gemini_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	gem "github.com/llmroute/llmroute/providers/gemini"
)

// FuzzToolCallID checks that an id carries its upstream id and signature
// back exactly, keeps to the alphabet every provider accepts, and that
// decoding any string never panics.
func FuzzToolCallID(f *testing.F) {
	f.Add("resp-1", 0, 0, "get_weather", "", []byte("sig"), "call_0123456789abcdef_AQ")
	f.Add("", 1, 3, "f", "fc-7", []byte{}, "call_abc")
	f.Add("r", 0, 1, "", "\x00\xff", []byte{0, 0xff}, "call_0123456789abcdef_AY8A")
	alphabet := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	f.Fuzz(func(t *testing.T, responseID string, candidate, position int, name, upstream string, sig []byte, other string) {
		id := gem.EncodeToolCallID(responseID, candidate, position, name, upstream, sig)
		if !alphabet.MatchString(id) {
			t.Fatalf("id %q has characters outside [A-Za-z0-9_-]", id)
		}
		gotUp, gotSig := gem.DecodeToolCallID(id)
		if gotUp != upstream || !bytes.Equal(gotSig, sig) {
			t.Fatalf("id %q carries (%q, %x), want (%q, %x)", id, gotUp, gotSig, upstream, sig)
		}
		gem.DecodeToolCallID(other)
	})
}

// FuzzParseProtoDuration checks that any delay parses to a non-negative
// duration or is refused, without panicking.
func FuzzParseProtoDuration(f *testing.F) {
	for _, s := range []string{"46s", "0.5s", "1.000000001s", "-1s", "s", ".s", "1e9s", "99999999999999999999999s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := gem.ParseProtoDuration(s)
		if ok && d < 0 {
			t.Fatalf("%q parsed to %v", s, d)
		}
		if ok && d > 100*365*24*time.Hour {
			t.Fatalf("%q parsed to %v, beyond the bound", s, d)
		}
	})
}

// FuzzScrubKeys checks that no Google API key survives scrubbing, wherever
// it sits in the text.
func FuzzScrubKeys(f *testing.F) {
	f.Add("before ", "after")
	f.Add("AIza", "AIzaSy")
	f.Add("", "")
	const key = "AIzaSyFUZZ-0123456789abcdefghijklmnopqr"
	f.Fuzz(func(t *testing.T, before, after string) {
		out := gem.ScrubKeys(before + " " + key + " " + after)
		if strings.Contains(out, key) {
			t.Fatalf("the key survived: %q", out)
		}
	})
}
