// Package yamlread is the YAML reading machinery llmroute's two file
// formats (the manifest and the simulator's scenario) share: a Reader
// that walks a node tree within a budget, checks mappings against their
// known keys and reports each problem with its field path and line; the
// table of the line each path was written on; and the helpers that spell
// a path and quote user input in a message. Each format keeps only the
// decoding of its own fields.
package yamlread

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/suggest"
)

// MaxDepth bounds how deeply a file may nest and how long a chain of
// aliases may be, so that hostile input cannot exhaust the stack.
const MaxDepth = 100

// Reader walks the node tree of one file, reporting every problem it
// meets to the function given to New and recording in Lines the line of
// each path it visits and each path with a problem.
type Reader struct {
	// Lines is the table the Reader records into. A format whose file
	// holds several independent parts (a manifest's groups) may give
	// each part its own.
	Lines *Lines

	what   string // the file's kind, for the budget's message
	budget int    // node visits left; aliases can make a tree huge
	spent  bool   // the budget ran out (reported once)
	count  int    // problems reported
	report func(path string, line int, msg string)
}

// New returns a Reader for a file of the kind what ("manifest") that may
// visit budget nodes, counting each alias every time it is followed; past
// that the file is reported as too large. report receives each problem.
func New(what string, budget int, report func(path string, line int, msg string)) *Reader {
	return &Reader{Lines: NewLines(), what: what, budget: budget, report: report}
}

// Errorf reports a problem at path, written on line, and marks path as
// failed in Lines.
func (r *Reader) Errorf(path string, line int, format string, args ...any) {
	r.Lines.fail(path)
	r.problem(path, line, fmt.Sprintf(format, args...))
}

// problem reports a problem without marking its path as failed: for one
// about a part of the field, such as a key that is not a string, which
// leaves the rest of the field as written.
func (r *Reader) problem(path string, line int, msg string) {
	r.count++
	r.report(path, line, msg)
}

// Problems returns how many problems r has reported.
func (r *Reader) Problems() int { return r.count }

// Spent reports whether the budget ran out: the tree was not read whole,
// so checks that need all of it must not run.
func (r *Reader) Spent() bool { return r.spent }

// Resolve follows aliases and charges one visit; nil means stop (the
// budget is spent, or n is nil or a broken alias).
func (r *Reader) Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < MaxDepth; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode || r.spent {
		return nil
	}
	if r.budget--; r.budget < 0 {
		r.spent = true
		r.Errorf("", n.Line, "%s too large once its aliases are expanded", r.what)
		return nil
	}
	return n
}

// Entry is one key of a mapping with its value.
type Entry struct {
	Key  string
	Path string     // the key's field path
	Line int        // the key's line
	Val  *yaml.Node // aliases resolved; nil when null
}

// Mapping is a mapping as read: its known, distinct keys in the order
// written.
type Mapping struct {
	Path    string
	Line    int
	Entries []Entry
}

// Entry returns the entry of key, or nil when key is absent.
func (m *Mapping) Entry(key string) *Entry {
	for i := range m.Entries {
		if m.Entries[i].Key == key {
			return &m.Entries[i]
		}
	}
	return nil
}

// Get returns the value of key, or nil when key is absent or null.
func (m *Mapping) Get(key string) *yaml.Node {
	if e := m.Entry(key); e != nil {
		return e.Val
	}
	return nil
}

// Has reports whether key is present, null or not.
func (m *Mapping) Has(key string) bool { return m.Entry(key) != nil }

// Mapping checks that n is a mapping whose keys are scalars, distinct and,
// when known is not nil, among known; it records their lines and returns
// the mapping. A key that breaks a rule is reported and left out. It
// reports a problem and returns nil when n is not a mapping, and returns
// nil when the budget runs out.
func (r *Reader) Mapping(n *yaml.Node, path string, known []string) *Mapping {
	if n = r.Resolve(n); n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.Errorf(path, n.Line, "want a mapping, got %s", Describe(n))
		return nil
	}
	r.Lines.Add(path, n.Line)
	m := &Mapping{Path: path, Line: n.Line, Entries: make([]Entry, 0, len(n.Content)/2)}
	// The keys of Entries, once they are too many to scan for each key:
	// a mapping of free keys (metadata, override_params) may hold
	// thousands.
	var seen map[string]bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := r.Resolve(n.Content[i])
		if kn == nil {
			return nil
		}
		if !IsText(kn) {
			r.problem(path, kn.Line, "a key must be a string, got "+Describe(kn))
			continue
		}
		k := kn.Value
		kp := Join(path, k)
		r.Lines.Add(kp, kn.Line)
		switch {
		case seen[k] || seen == nil && m.Has(k):
			r.Errorf(kp, kn.Line, "duplicate key %q", Clip(k))
			continue
		case known != nil && !slices.Contains(known, k):
			r.Errorf(kp, kn.Line, "unknown key %q%s", Clip(k), didYouMean(k, known))
			continue
		}
		vn := r.Resolve(n.Content[i+1])
		if vn == nil {
			return nil
		}
		if IsNull(vn) {
			vn = nil
		}
		m.Entries = append(m.Entries, Entry{Key: k, Path: kp, Line: kn.Line, Val: vn})
		switch {
		case seen != nil:
			seen[k] = true
		case len(m.Entries) > scanKeys:
			seen = make(map[string]bool, len(n.Content)/2)
			for _, e := range m.Entries {
				seen[e.Key] = true
			}
		}
	}
	return m
}

// scanKeys is how many keys Mapping checks for duplicates by scanning
// those it has; past it, it keeps them in a set.
const scanKeys = 16

// IsText reports whether n reads as text: a string, or a number or
// boolean taken as its text. It is what a mapping key may be, and what a
// format may take wherever it wants text written as the user likes (a
// manifest's metadata and header values).
func IsText(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!bool":
		return true
	}
	return false
}

// Seq returns the items of the list n (aliases resolved), recording their
// lines; it reports a problem when n is not a list. ok is false when n is
// not a list or the budget ran out.
func (r *Reader) Seq(n *yaml.Node, path string) (items []*yaml.Node, ok bool) {
	if n.Kind != yaml.SequenceNode {
		r.Errorf(path, n.Line, "want a list, got %s", Describe(n))
		return nil, false
	}
	items = make([]*yaml.Node, 0, len(n.Content))
	for i, c := range n.Content {
		if c = r.Resolve(c); c == nil {
			return items, false
		}
		r.Lines.Add(Index(path, i), c.Line)
		items = append(items, c)
	}
	return items, true
}

// didYouMean offers the known key closest to a misspelt one, as the tail
// of an error message.
func didYouMean(k string, known []string) string {
	if best := suggest.Closest(k, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// SyntaxError reads the YAML parser's "yaml: line N: msg" as line N and
// msg. The parser offers no structured syntax error, so this is the one
// place that reads its text; a message without a line gives line 0 and
// the message whole.
func SyntaxError(err error) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(num); err == nil && l > 0 {
				return l, text
			}
		}
	}
	return 0, msg
}

// ClipLen is how many characters of user input Clip keeps.
const ClipLen = 64

// Clip keeps user input quoted in a message short: at most ClipLen
// characters (runes, never a split one), then "…".
func Clip(s string) string {
	if len(s) <= ClipLen { // bytes ≥ runes
		return s
	}
	i, n := 0, 0
	for i < len(s) && n < ClipLen {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i == len(s) {
		return s
	}
	return s[:i] + "…"
}

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// Describe names what a node holds, for "want X, got Y" messages, quoting
// user input through Clip.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "the string " + strconv.Quote(Clip(n.Value))
		case "!!null":
			return "null"
		case "!!int", "!!float", "!!bool":
			return Clip(n.Value)
		}
		return "a value tagged " + Clip(n.Tag)
	}
	return "an unexpected node"
}
