package yamlread

import (
	"strconv"
	"strings"
)

// A field path names a value in a file: keys joined by dots, list indexes
// in brackets, and a key that is not a plain word (letters, digits, '_'
// and '-') quoted in brackets, so that a path reads back unambiguously:
//
//	integrations[0].routing_config.load_balance_targets[1].weight
//	targets["azure/gpt-4o"].windows[0].from
//	metadata_match["tenant.id"]

// Join appends a mapping key to a field path: "a.b" and "c" give "a.b.c",
// "a" and "x/y" give `a["x/y"]`.
func Join(path, key string) string {
	if !plain(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a field path: "a" and 2 give "a[2]".
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// plain reports whether a key can be written in a path as it is.
func plain(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Parent strips the last element off a path: `a.b[2]` → `a.b` → `a` → "";
// `targets["x/y.z"]` → `targets`.
func Parent(p string) string {
	last := 0 // where the last element starts
	for i := 0; i < len(p); {
		last = i
		switch {
		case p[i] == '[' && i+1 < len(p) && p[i+1] == '"':
			q, err := strconv.QuotedPrefix(p[i+1:])
			if err != nil { // not a path Join wrote; the rest is one element
				return p[:i]
			}
			i += 1 + len(q)
			if i < len(p) && p[i] == ']' {
				i++
			}
		case p[i] == '[':
			if j := strings.IndexByte(p[i:], ']'); j >= 0 {
				i += j + 1
			} else {
				i = len(p)
			}
		default: // a key, after a dot unless it is the first
			i++
			for i < len(p) && p[i] != '.' && p[i] != '[' {
				i++
			}
		}
	}
	return p[:last]
}

// Lines records, for one file or one part of it, the line each field path
// was written on and the paths at which a problem was reported. Checks
// that run after reading use it to locate their problems and to keep
// quiet about fields that could not be read. The methods of a nil *Lines
// know no lines and no problems.
type Lines struct {
	at     map[string]int
	failed map[string]bool
	inner  map[string]bool // the fields that enclose a failed path
}

// NewLines returns an empty table.
func NewLines() *Lines {
	return &Lines{at: map[string]int{}, failed: map[string]bool{}, inner: map[string]bool{}}
}

// Add records the line of path unless it has one.
func (l *Lines) Add(path string, line int) {
	if _, ok := l.at[path]; !ok {
		l.at[path] = line
	}
}

// Line returns the line of path or, when it was not written (a required
// key left out), of the nearest enclosing field that was; 0 when none was.
func (l *Lines) Line(path string) int {
	if l == nil {
		return 0
	}
	for {
		if n, ok := l.at[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = Parent(path)
	}
}

// fail records a problem at path, and marks each field enclosing it as
// holding one, so that Clean need not look at every failed path.
func (l *Lines) fail(path string) {
	l.failed[path] = true
	for path != "" {
		path = Parent(path)
		if l.inner[path] { // and so every field around it
			return
		}
		l.inner[path] = true
	}
}

// Failed reports whether a problem was reported at path or at a field
// enclosing it: what is there was not read as written.
func (l *Lines) Failed(path string) bool {
	if l == nil || len(l.failed) == 0 {
		return false
	}
	for {
		if l.failed[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = Parent(path)
	}
}

// Clean reports whether no problem was reported at path, around it or
// inside it: a rule about the field as a whole (such as "set one of its
// keys") can be trusted only then.
func (l *Lines) Clean(path string) bool {
	if l == nil {
		return true
	}
	return !l.Failed(path) && !l.inner[path]
}
