package yamlread_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
)

func TestPaths(t *testing.T) {
	tests := []struct{ path, key, want string }{
		{"", "a", "a"},
		{"a.b", "c", "a.b.c"},
		{"a", "x-api_key9", "a.x-api_key9"},
		{"targets", "azure/gpt-4o", `targets["azure/gpt-4o"]`},
		{"metadata_match", "tenant.id", `metadata_match["tenant.id"]`},
		{"m", `say "hi" [now]`, `m["say \"hi\" [now]"]`},
		{"m", "", `m[""]`},
		{"", "a.b", `["a.b"]`},
	}
	for _, tt := range tests {
		got := yamlread.Join(tt.path, tt.key)
		if got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.path, tt.key, got, tt.want)
		}
		if p := yamlread.Parent(got); p != tt.path {
			t.Errorf("Parent(%q) = %q, want %q", got, p, tt.path)
		}
	}
	if got := yamlread.Index(yamlread.Join("a", "b"), 2); got != "a.b[2]" {
		t.Errorf("Index(Join) = %q, want a.b[2]", got)
	}
	for p, want := range map[string]string{
		"a.b[2]":                      "a.b",
		`targets["x/y.z"].windows[0]`: `targets["x/y.z"].windows`,
		`targets["x/y.z"].windows`:    `targets["x/y.z"]`,
		`m["a]b"]`:                    "m",
		`m["a\"].b"]`:                 "m",
		"a":                           "",
		"":                            "",
	} {
		if got := yamlread.Parent(p); got != want {
			t.Errorf("Parent(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	short := strings.Repeat("é", yamlread.ClipLen)
	if got := yamlread.Clip(short); got != short {
		t.Errorf("Clip of %d runes = %q, want it whole", yamlread.ClipLen, got)
	}
	for _, s := range []string{
		strings.Repeat("x", 200),
		strings.Repeat("é", 200),  // two bytes a rune
		strings.Repeat("日本", 100), // three bytes a rune
		"x" + strings.Repeat("😀", 100),
	} {
		got := yamlread.Clip(s)
		body, ok := strings.CutSuffix(got, "…")
		if !ok || !utf8.ValidString(got) || utf8.RuneCountInString(body) != yamlread.ClipLen || !strings.HasPrefix(s, body) {
			t.Errorf("Clip(%.8q…) = %q, want the first %d runes and …", s, got, yamlread.ClipLen)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"{a: 1}", "a mapping"},
		{"[1]", "a list"},
		{"hot", `the string "hot"`},
		{"~", "null"},
		{"12", "12"},
		{"true", "true"},
		{"!!binary aGk=", "a value tagged !!binary"},
		{strings.Repeat("x", 100), `the string "` + strings.Repeat("x", yamlread.ClipLen) + `…"`},
	}
	for _, tt := range tests {
		n := parse(t, tt.yaml)
		if got := yamlread.Describe(n); got != tt.want {
			t.Errorf("Describe(%.20q) = %q, want %q", tt.yaml, got, tt.want)
		}
		if got, want := yamlread.IsNull(n), tt.want == "null"; got != want {
			t.Errorf("IsNull(%.20q) = %v, want %v", tt.yaml, got, want)
		}
	}
}

func parse(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// reader returns a Reader whose problems are collected as
// "line N: path: msg".
func reader(budget int) (*yamlread.Reader, *[]string) {
	var got []string
	r := yamlread.New("file", budget, func(path string, line int, msg string) {
		got = append(got, fmt.Sprintf("line %d: %s: %s", line, path, msg))
	})
	return r, &got
}

func TestMapping(t *testing.T) {
	n := parse(t, `name: a
"a.b": 1
'x': ~
nmae: 2
name: b
[1]: 3
sub:
  k: v
`)
	r, got := reader(1000)
	m := r.Mapping(n, "top", []string{"name", "a.b", "x", "sub"})
	want := []string{
		`line 4: top.nmae: unknown key "nmae" (did you mean "name"?)`,
		`line 5: top.name: duplicate key "name"`,
		`line 6: top: a key must be a string, got a list`,
	}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("problems:\n%q\nwant:\n%q", *got, want)
	}
	if m.Get("name").Value != "a" || m.Get("x") != nil || !m.Has("x") || m.Has("nmae") {
		t.Errorf("Mapping = %+v: want name a, x present and null, nmae left out", m.Entries)
	}
	if e := m.Entry("a.b"); e == nil || e.Path != `top["a.b"]` || e.Line != 2 {
		t.Errorf(`Entry("a.b") = %+v, want path top["a.b"] on line 2`, e)
	}
	r.Mapping(m.Get("sub"), "top.sub", nil)
	// Quoted keys are found by their path, however they were written.
	for path, line := range map[string]int{"top": 1, `top["a.b"]`: 2, "top.x": 3, "top.sub.k": 8, `top["a.b"].deeper`: 2} {
		if got := r.Lines.Line(path); got != line {
			t.Errorf("Line(%s) = %d, want %d", path, got, line)
		}
	}
	// A key that is not a string leaves the rest of the mapping as
	// written; an unknown key is not read at all.
	if !r.Lines.Failed("top.nmae.x") || r.Lines.Failed("top.x") || r.Lines.Failed("top") {
		t.Errorf("Failed: want true under top.nmae, false at top.x and top")
	}
	if r.Lines.Clean("top") || !r.Lines.Clean("top.sub") {
		t.Errorf("Clean: want false for top (problems inside), true for top.sub")
	}
	if r.Problems() != 3 {
		t.Errorf("Problems() = %d, want 3", r.Problems())
	}

	if m := r.Mapping(parse(t, "[1]"), "top.list", nil); m != nil || !strings.Contains((*got)[3], "top.list: want a mapping, got a list") {
		t.Errorf("Mapping of a list = %v; problems %q", m, *got)
	}
}

// A duplicate key is found in a mapping of any size: early and late in
// one of many free keys, as in one of a few.
func TestMappingDuplicatesMany(t *testing.T) {
	for _, n := range []int{3, 16, 17, 1000} {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "k%d: v\n", i)
		}
		fmt.Fprintf(&b, "k0: again\nk%d: again\n", n-1)
		r, got := reader(10 * n)
		m := r.Mapping(parse(t, b.String()), "m", nil)
		want := []string{
			fmt.Sprintf(`line %d: m.k0: duplicate key "k0"`, n+1),
			fmt.Sprintf(`line %d: m.k%d: duplicate key "k%d"`, n+2, n-1, n-1),
		}
		if fmt.Sprint(*got) != fmt.Sprint(want) {
			t.Errorf("%d keys: problems\n%q\nwant\n%q", n, *got, want)
		}
		if len(m.Entries) != n || m.Get("k0").Value != "v" {
			t.Errorf("%d keys: %d entries, k0 = %q; want %d, the first value", n, len(m.Entries), m.Get("k0").Value, n)
		}
	}
}

// Clean is false at a failed field, inside one, and around one, and true
// elsewhere, quoted keys holding dots and brackets included.
func TestClean(t *testing.T) {
	r, _ := reader(1000)
	for _, p := range []string{`t["a.b"].w[1].x`, `t["c[0]"]`, "u.v"} {
		r.Errorf(p, 1, "bad")
	}
	for path, want := range map[string]bool{
		"":                  false,
		"t":                 false,
		`t["a.b"]`:          false,
		`t["a.b"].w`:        false,
		`t["a.b"].w[1]`:     false,
		`t["a.b"].w[1].x`:   false,
		`t["a.b"].w[1].x.y`: false,
		`t["a.b"].w[0]`:     true,
		`t["a.b"].wx`:       true,
		`t["a"]`:            true,
		`t["c[0]"]`:         false,
		`t["c[0]"].d`:       false,
		`t["c"]`:            true,
		"u":                 false,
		"u.v2":              true,
		"w":                 true,
	} {
		if got := r.Lines.Clean(path); got != want {
			t.Errorf("Clean(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestNilLines(t *testing.T) {
	var l *yamlread.Lines
	if l.Line("a") != 0 || l.Failed("a") || !l.Clean("a") {
		t.Error("a nil *Lines must know no lines and no problems")
	}
}

func TestBudget(t *testing.T) {
	// Each level doubles the tree the aliases stand for.
	n := parse(t, `a: &a [x, x]
b: &b [*a, *a]
c: &c [*b, *b]
d: &d [*c, *c]
`)
	r, got := reader(20)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n = r.Resolve(n); n == nil {
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	if !r.Spent() || len(*got) != 1 || !strings.Contains((*got)[0], "file too large once its aliases are expanded") {
		t.Errorf("Spent() = %v, problems %q: want one problem about size", r.Spent(), *got)
	}
	if r.Resolve(n) != nil {
		t.Error("Resolve after the budget ran out returned a node")
	}
}

func TestSeq(t *testing.T) {
	r, got := reader(100)
	items, ok := r.Seq(parse(t, "- a\n- b\n"), "l")
	if !ok || len(items) != 2 || r.Lines.Line("l[1]") != 2 {
		t.Errorf("Seq = %v, %v; line of l[1] %d", items, ok, r.Lines.Line("l[1]"))
	}
	if _, ok := r.Seq(parse(t, "a: 1"), "m"); ok || len(*got) != 1 || (*got)[0] != "line 1: m: want a list, got a mapping" {
		t.Errorf("Seq of a mapping: ok %v, problems %q", ok, *got)
	}
}

func TestSyntaxError(t *testing.T) {
	var doc yaml.Node
	err := yaml.Unmarshal([]byte("a: 1\nb: c: d\n"), &doc)
	if err == nil {
		t.Fatal("no syntax error")
	}
	if line, msg := yamlread.SyntaxError(err); line != 2 || msg == "" || strings.HasPrefix(msg, "yaml:") || strings.HasPrefix(msg, "line") {
		t.Errorf("SyntaxError(%q) = %d, %q; want line 2 and the message alone", err, line, msg)
	}
	if line, msg := yamlread.SyntaxError(errors.New("yaml: control characters are not allowed")); line != 0 || msg != "control characters are not allowed" {
		t.Errorf("SyntaxError without a line = %d, %q", line, msg)
	}
}
