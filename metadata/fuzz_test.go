package metadata_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"tier":"enterprise"}`,
		`{"tier":"enterprise","tfy_gateway_region":"US"}`,
		`{}`, ``, ` `, `null`, `[]`, `{"a":1}`, `{"a":"b","a":"c"}`,
		`{"\u0074":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":"b"} {}`, `{"a":{"b":"c"}}`,
		`{"k":"` + strings.Repeat("x", 129) + `"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		md, err := metadata.Parse(s)
		if err != nil {
			if md != nil {
				t.Fatalf("Parse(%q) = %v with error %v; want nil MD on error", s, md, err)
			}
			if !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Fatalf("Parse(%q) error %q lacks the prefix", s, err)
			}
			return
		}
		if md == nil {
			t.Fatalf("Parse(%q) = nil MD, nil error", s)
		}
		if len(md) > metadata.MaxKeys {
			t.Fatalf("Parse(%q) gave %d keys, more than %d", s, len(md), metadata.MaxKeys)
		}
		for k, v := range md {
			if k == "" || utf8.RuneCountInString(k) > metadata.MaxKeyLen || utf8.RuneCountInString(v) > metadata.MaxValueLen {
				t.Fatalf("Parse(%q) accepted key %q value %q beyond the limits", s, k, v)
			}
		}
		b, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", md, err)
		}
		again, err := metadata.Parse(string(b))
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v", s, err)
		}
		if diff := cmp.Diff(again, md); diff != "" {
			t.Fatalf("round trip of %q changed the MD (-got +want):\n%s", s, diff)
		}
		if !md.Matches(md) || len(md.Unmet(md)) != 0 {
			t.Fatalf("MD %v does not match itself", md)
		}
	})
}
