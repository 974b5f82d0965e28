package stores_test

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/stores"
)

func TestSessionKey(t *testing.T) {
	for _, tc := range []struct {
		model  string
		values []string
		want   string
	}{
		{"team/chat", []string{"abc"}, "team/chat|abc"},
		{"team/chat", []string{"abc", "eu"}, "team/chat|abc|eu"},
		{"team/chat", nil, "team/chat"},
		{"team/chat", []string{""}, "team/chat|"},
		{"team/chat", []string{"", ""}, "team/chat||"},
		{"m", []string{"a|b", "c"}, `m|a\|b|c`},
		{"m", []string{"a", "b|c"}, `m|a|b\|c`},
		{"m", []string{`a\`, "b"}, `m|a\\|b`},
		{"m", []string{`a\|b`}, `m|a\\\|b`},
		{`g|x`, []string{"v"}, `g\|x|v`},
		{"", nil, ""},
		{"m", []string{"ключ 🔑"}, "m|ключ 🔑"},
	} {
		if got := stores.SessionKey(tc.model, tc.values); got != tc.want {
			t.Errorf("SessionKey(%q, %q) = %q; want %q", tc.model, tc.values, got, tc.want)
		}
	}
}

func TestSessionKeyShortensLongKeys(t *testing.T) {
	const model = "team/chat"
	digest := func(full string) string {
		sum := sha256.Sum256([]byte(full))
		return model + `|\#` + hex.EncodeToString(sum[:])
	}
	fits := strings.Repeat("s", stores.MaxSessionKeyLen-len(model)-1)
	for _, tc := range []struct {
		name   string
		values []string
		want   string
	}{
		{"at the limit", []string{fits}, model + "|" + fits},
		{"one byte over", []string{fits + "s"}, digest(model + "|" + fits + "s")},
		{"over by escaping", []string{fits[1:] + "|"}, digest(model + "|" + fits[1:] + `\|`)},
		{"huge", []string{strings.Repeat("x", 1<<20), "eu"}, digest(model + "|" + strings.Repeat("x", 1<<20) + "|eu")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := stores.SessionKey(model, tc.values)
			if got != tc.want {
				t.Errorf("SessionKey = %q; want %q", got, tc.want)
			}
			if len(got) > stores.MaxSessionKeyLen {
				t.Errorf("len(SessionKey) = %d; want <= %d", len(got), stores.MaxSessionKeyLen)
			}
		})
	}
}

// splitSessionKey inverts SessionKey: that it can is what makes
// SessionKey injective. For a key shortened to a digest, it returns the
// model and the digest instead of the values.
func splitSessionKey(t *testing.T, key string) (model string, values []string, digest string) {
	t.Helper()
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			i++
			if i < len(key) && key[i] == '#' && len(parts) == 1 && cur.Len() == 0 {
				return parts[0], nil, key[i+1:]
			}
			if i == len(key) || (key[i] != '\\' && key[i] != '|') {
				t.Fatalf("key %q: bad escape at byte %d", key, i-1)
			}
			cur.WriteByte(key[i])
		case '|':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(key[i])
		}
	}
	parts = append(parts, cur.String())
	return parts[0], parts[1:], ""
}

type sessionInput struct {
	Model  string
	Values []string
}

// values picks the first n%4 of a, b, c so the fuzzer varies the count.
func values(n uint8, a, b, c string) []string {
	return []string{a, b, c}[:n%4]
}

func FuzzSessionKey(f *testing.F) {
	f.Add("m", uint8(2), "a|b", "c", "", "m", uint8(2), "a", "b|c", "")
	f.Add("m", uint8(1), `a\`, "", "", "m", uint8(1), `a\\`, "", "")
	f.Add("m", uint8(2), `a\`, "b", "", "m", uint8(1), `a\|b`, "", "")
	f.Add("m", uint8(1), "", "", "", "m", uint8(0), "", "", "")
	f.Add("m|a", uint8(0), "", "", "", "m", uint8(1), "a", "", "")
	f.Add("g/m", uint8(3), "x", "y", "z", "g/m", uint8(3), "x", "y", "z")
	long := strings.Repeat("s", stores.MaxSessionKeyLen)
	f.Add("g/m", uint8(1), long, "", "", "g/m", uint8(1), long+"x", "", "")
	f.Add("g/m", uint8(2), long, "a", "", "g/m", uint8(2), long+"|", "a", "")
	f.Add("g/m", uint8(1), long[:250], "", "", "g/m", uint8(1), long[:251], "", "")
	f.Fuzz(func(t *testing.T, m1 string, n1 uint8, a1, b1, c1, m2 string, n2 uint8, a2, b2, c2 string) {
		in1 := sessionInput{m1, values(n1, a1, b1, c1)}
		in2 := sessionInput{m2, values(n2, a2, b2, c2)}
		k1 := stores.SessionKey(in1.Model, in1.Values)
		k2 := stores.SessionKey(in2.Model, in2.Values)

		for _, tc := range []struct {
			in  sessionInput
			key string
		}{{in1, k1}, {in2, k2}} {
			model, vals, digest := splitSessionKey(t, tc.key)
			if digest != "" {
				// Shortened: the model is kept, the rest is a digest.
				if model != tc.in.Model || len(digest) != 64 || strings.Trim(digest, "0123456789abcdef") != "" {
					t.Fatalf("SessionKey(%q, %q) = %q: bad shortened key", tc.in.Model, tc.in.Values, tc.key)
				}
				if len(tc.key) > len(stores.SessionKey(tc.in.Model, nil))+67 {
					t.Fatalf("SessionKey(%q, %q) = %q: shortened key too long", tc.in.Model, tc.in.Values, tc.key)
				}
				continue
			}
			if len(tc.key) > stores.MaxSessionKeyLen {
				t.Fatalf("SessionKey(%q, %q) = %q: %d bytes, more than MaxSessionKeyLen", tc.in.Model, tc.in.Values, tc.key, len(tc.key))
			}
			got := sessionInput{model, vals}
			if diff := cmp.Diff(got, tc.in, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
				t.Fatalf("SessionKey(%q, %q) = %q does not split back (-got +want):\n%s", tc.in.Model, tc.in.Values, tc.key, diff)
			}
		}

		same := in1.Model == in2.Model && slices.Equal(in1.Values, in2.Values)
		if (k1 == k2) != same {
			t.Fatalf("SessionKey(%q, %q) = %q and SessionKey(%q, %q) = %q: equal keys %t, equal inputs %t",
				in1.Model, in1.Values, k1, in2.Model, in2.Values, k2, k1 == k2, same)
		}
	})
}

func BenchmarkSessionKey(b *testing.B) {
	b.ReportAllocs()
	vals := []string{"3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c", "enterprise"}
	for b.Loop() {
		_ = stores.SessionKey("team/chat", vals)
	}
}
