package metadata_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
)

func TestParse(t *testing.T) {
	maxKeys := make(metadata.MD, metadata.MaxKeys)
	var b strings.Builder
	b.WriteString("{")
	for i := range metadata.MaxKeys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":"v"`, i)
		maxKeys[fmt.Sprintf("k%d", i)] = "v"
	}
	b.WriteString("}")
	maxKeysJSON := b.String()
	tooManyJSON := strings.TrimSuffix(maxKeysJSON, "}") + `,"one-more":"v"}`

	long := strings.Repeat("é", metadata.MaxValueLen)

	tests := []struct {
		name    string
		in      string
		want    metadata.MD
		wantErr string // substring; "" means success
	}{
		{name: "one pair", in: `{"tier":"enterprise"}`, want: metadata.MD{"tier": "enterprise"}},
		{name: "two pairs and spaces", in: ` { "tier" : "enterprise" , "tfy_gateway_region":"US" } `,
			want: metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}},
		{name: "empty object", in: `{}`, want: metadata.MD{}},
		{name: "empty value", in: `{"a":""}`, want: metadata.MD{"a": ""}},
		{name: "escapes", in: `{"\u0074ier":"a\"b\\c\n"}`, want: metadata.MD{"tier": "a\"b\\c\n"}},
		{name: "case kept", in: `{"Tier":"US","tier":"us"}`, want: metadata.MD{"Tier": "US", "tier": "us"}},
		{name: "value of 128 multibyte chars", in: `{"k":"` + long + `"}`, want: metadata.MD{"k": long}},
		{name: "64 keys", in: maxKeysJSON, want: maxKeys},

		{name: "empty", in: ``, wantErr: "metadata: header is empty"},
		{name: "blank", in: " \t\r\n", wantErr: "metadata: header is empty"},
		{name: "null", in: `null`, wantErr: "header is null, want a JSON object"},
		{name: "array", in: `[]`, wantErr: "header is an array"},
		{name: "string", in: `"tier"`, wantErr: "header is a string"},
		{name: "number", in: `1`, wantErr: "header is a number"},
		{name: "unclosed", in: `{"a":"b"`, wantErr: "not valid JSON: unexpected end of input"},
		{name: "truncated key", in: `{"a`, wantErr: "not valid JSON"},
		{name: "trailing comma", in: `{"a":"b",}`, wantErr: "not valid JSON"},
		{name: "missing colon", in: `{"a" "b"}`, wantErr: "not valid JSON"},
		{name: "bare key", in: `{a:"b"}`, wantErr: "not valid JSON"},
		{name: "trailing data", in: `{"a":"b"} x`, wantErr: "unexpected data after the JSON object"},
		{name: "second object", in: `{"a":"b"}{}`, wantErr: "unexpected data after the JSON object"},
		{name: "number value", in: `{"a":"b","n":1}`, wantErr: `value of key "n" is a number, want a string`},
		{name: "bool value", in: `{"b":true}`, wantErr: `value of key "b" is a boolean`},
		{name: "null value", in: `{"z":null}`, wantErr: `value of key "z" is null`},
		{name: "object value", in: `{"o":{}}`, wantErr: `value of key "o" is an object`},
		{name: "array value", in: `{"l":["x"]}`, wantErr: `value of key "l" is an array`},
		{name: "duplicate", in: `{"tier":"a","tier":"b"}`, wantErr: `key "tier" appears twice`},
		{name: "duplicate by escape", in: `{"tier":"a","\u0074ier":"a"}`, wantErr: `key "tier" appears twice`},
		{name: "empty key", in: `{"":"a"}`, wantErr: "empty key"},
		{name: "value too long", in: `{"k":"` + long + `x"}`, wantErr: `value of key "k" is too long: 129 characters, at most 128`},
		{name: "key too long", in: `{"` + strings.Repeat("k", 129) + `":"v"}`, wantErr: "is too long: 129 characters, at most 128"},
		{name: "too many keys", in: tooManyJSON, wantErr: "too many keys: at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := metadata.Parse(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Parse(%q) error = %q, want nil", tt.in, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Parse(%q) error = nil, want one containing %q", tt.in, tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Parse(%q) error = %q, want one containing %q", tt.in, err, tt.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "metadata: "):
				t.Fatalf("Parse(%q) error = %q lacks the \"metadata: \" prefix", tt.in, err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Parse(%q) mismatch (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseErrorCutsLongKey(t *testing.T) {
	key := strings.Repeat("k", 1000)
	_, err := metadata.Parse(`{"` + key + `":"v"}`)
	if err == nil {
		t.Fatal("Parse of a 1000-character key: got nil error")
	}
	if got := strings.Count(err.Error(), "k"); got > 90 {
		t.Errorf("error repeats %d characters of the key, want about 80: %s", got, err)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got, ok := metadata.FromContext(ctx); ok || got != nil {
		t.Errorf("FromContext(empty) = %v, %v; want nil, false", got, ok)
	}
	want := metadata.MD{"tier": "enterprise"}
	got, ok := metadata.FromContext(metadata.NewContext(ctx, want))
	if !ok {
		t.Fatal("FromContext after NewContext: ok = false")
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("FromContext mismatch (-got +want):\n%s", diff)
	}
	// A nil MD is still "present": the caller said there is none.
	got, ok = metadata.FromContext(metadata.NewContext(ctx, nil))
	if !ok || got != nil {
		t.Errorf("FromContext(NewContext(nil)) = %v, %v; want nil, true", got, ok)
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name       string
		base, over metadata.MD
		want       metadata.MD
	}{
		{"both nil", nil, nil, nil},
		{"over empty", metadata.MD{"a": "1"}, nil, metadata.MD{"a": "1"}},
		{"base empty", metadata.MD{}, metadata.MD{"b": "2"}, metadata.MD{"b": "2"}},
		{"disjoint", metadata.MD{"a": "1"}, metadata.MD{"b": "2"}, metadata.MD{"a": "1", "b": "2"}},
		{"over wins", metadata.MD{"region": "US", "a": "1"}, metadata.MD{"region": "EU"}, metadata.MD{"region": "EU", "a": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseBefore, overBefore := clone(tt.base), clone(tt.over)
			got := metadata.Merge(tt.base, tt.over)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Merge mismatch (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(tt.base, baseBefore); diff != "" {
				t.Errorf("Merge modified base (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(tt.over, overBefore); diff != "" {
				t.Errorf("Merge modified over (-got +want):\n%s", diff)
			}
		})
	}
}

func TestMergeReturnsArgumentWhenOtherEmpty(t *testing.T) {
	base := metadata.MD{"a": "1"}
	over := metadata.MD{"b": "2"}
	if got := metadata.Merge(base, nil); !sameMap(got, base) {
		t.Error("Merge(base, nil) did not return base itself")
	}
	if got := metadata.Merge(nil, over); !sameMap(got, over) {
		t.Error("Merge(nil, over) did not return over itself")
	}
	if got := testing.AllocsPerRun(100, func() { metadata.Merge(base, metadata.MD{}) }); got != 0 {
		t.Errorf("Merge(base, empty) allocates %v times, want 0", got)
	}
}

func TestMatchesAndUnmet(t *testing.T) {
	md := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US", "team": "search"}
	tests := []struct {
		name      string
		md, want  metadata.MD
		wantMatch bool
		wantUnmet []string
	}{
		{"nil want", md, nil, true, nil},
		{"empty want", md, metadata.MD{}, true, nil},
		{"nil md, empty want", nil, nil, true, nil},
		{"one equal", md, metadata.MD{"tier": "enterprise"}, true, nil},
		{"all equal", md, metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}, true, nil},
		{"different value", md, metadata.MD{"tier": "free"}, false, []string{"tier"}},
		{"case differs", md, metadata.MD{"tfy_gateway_region": "us"}, false, []string{"tfy_gateway_region"}},
		{"missing key", md, metadata.MD{"zone": "a"}, false, []string{"zone"}},
		{"empty value is not absence", md, metadata.MD{"zone": ""}, false, []string{"zone"}},
		{"nil md", nil, metadata.MD{"tier": "enterprise"}, false, []string{"tier"}},
		{"several unmet, sorted", md,
			metadata.MD{"zone": "a", "tier": "free", "team": "search", "app": "x"}, false, []string{"app", "tier", "zone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.md.Matches(tt.want); got != tt.wantMatch {
				t.Errorf("Matches = %v, want %v", got, tt.wantMatch)
			}
			if diff := cmp.Diff(tt.md.Unmet(tt.want), tt.wantUnmet); diff != "" {
				t.Errorf("Unmet mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

func TestMatchesAllocs(t *testing.T) {
	md := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}
	want := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}
	if got := testing.AllocsPerRun(100, func() { md.Matches(want) }); got != 0 {
		t.Errorf("Matches allocates %v times per call, want 0", got)
	}
}

func BenchmarkMatches(b *testing.B) {
	md := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US", "team": "search", "app": "chat"}
	want := metadata.MD{"tier": "enterprise", "tfy_gateway_region": "US"}
	b.ReportAllocs()
	for b.Loop() {
		if !md.Matches(want) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	const header = `{"tier":"enterprise","tfy_gateway_region":"US","team":"search"}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := metadata.Parse(header); err != nil {
			b.Fatal(err)
		}
	}
}

func clone(md metadata.MD) metadata.MD {
	if md == nil {
		return nil
	}
	c := make(metadata.MD, len(md))
	for k, v := range md {
		c[k] = v
	}
	return c
}

// sameMap reports whether a and b are the same map, not merely equal:
// a write through one shows through the other.
func sameMap(a, b metadata.MD) bool {
	const probe = "\x00sameMap-probe"
	a[probe] = "x"
	defer delete(a, probe)
	_, ok := b[probe]
	return ok
}
