package config

import (
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlpath"
)

// Manifest is a manifest as loaded: its groups, and the line each of their
// fields was written on, so that problems found later (by Validate, or by a
// routing.Client that knows the provider accounts) can name their line.
//
// A Manifest is not changed by its methods and is safe for concurrent use
// by them; the line information describes Groups as loaded, so change
// Groups only in ways that keep group names and paths where they were.
// The zero Manifest holds no groups and knows no lines.
type Manifest struct {
	// Groups are the manifest's groups in the order written, with every
	// default filled in (see Marshal).
	Groups []Group

	lines []lineTable // per group, parallel to Groups as loaded
}

// Load reads a manifest in YAML or JSON and checks what the Go types
// cannot hold: syntax, unknown and duplicate keys, value types, and the
// rules that depend on whether a key was written at all (weight is
// required on every target of weight-based routing, priority and
// sla_cutoff are allowed only for priority-based routing, a delay or
// timeout that is written must be positive, and so on). It reports every
// such problem at once as Errors, each with its line.
//
// Load does not apply the rules of Validate; call Manifest.Validate, or
// use ParseManifest, which does both.
func Load(data []byte) (*Manifest, error) {
	docs, err := roots(data)
	if err != nil {
		return nil, err
	}
	// Visits allowed: generous for any real manifest, yet bounded when
	// aliases would expand a small input into a huge tree.
	d := &decoder{budget: 10*len(data) + 100_000}
	m := &Manifest{}
	for _, n := range docs {
		if n = d.resolve(n); n == nil {
			break
		}
		var items []*yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			items = []*yaml.Node{n}
		case yaml.SequenceNode:
			items = n.Content
		default:
			d.gname = ""
			d.errorf("", n.Line, "a document must be a group (a mapping) or a list of groups, got %s", yamlpath.Describe(n))
			continue
		}
		for _, gn := range items {
			d.lines = lineTable{}
			g := d.group(gn)
			withDefaults(&g)
			m.Groups = append(m.Groups, g)
			m.lines = append(m.lines, d.lines)
		}
	}
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if len(m.Groups) == 0 {
		return nil, Errors{{Msg: "the manifest holds no groups"}}
	}
	return m, nil
}

// ParseManifest reads groups from a manifest in YAML or JSON (see the
// package documentation) and checks them with Load and Validate, all but
// the checks that need the provider accounts: it reports every problem
// at once as Errors, each with its line. The groups come back with every
// default filled in.
//
// A routing.Client checks the rest (unknown accounts, model types an
// account cannot serve, slugs taken by its other groups) when it is given
// the groups.
func ParseManifest(data []byte) ([]Group, error) {
	m, err := Load(data)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(nil, nil); err != nil {
		return nil, err
	}
	return m.Groups, nil
}

// Validate checks m's groups as the package-level Validate does, with the
// line of each problem filled in.
func (m *Manifest) Validate(accounts Accounts, known map[string]bool) error {
	if errs := validate(m.Groups, accounts, known, m.lines); len(errs) > 0 {
		return errs
	}
	return nil
}

// Warnings returns m's advisory problems (see the package-level
// Warnings), with their lines.
func (m *Manifest) Warnings() []*FieldError {
	ws := Warnings(m.Groups)
	for _, w := range ws {
		w.Line = m.line(w.Group, w.Path)
	}
	return ws
}

// Annotate fills in the Line of every *FieldError within err (through
// Unwrap, as errors.As sees them) that has none and belongs to one of m's
// groups, and returns err. Use it on the errors of code that validates m's
// groups together with others, such as a routing.Client given m.Groups:
// its problems are located by group name and path, and Annotate finds
// their lines.
func (m *Manifest) Annotate(err error) error {
	if m == nil || err == nil {
		return err
	}
	walk(err, 0, func(fe *FieldError) {
		if fe.Line == 0 {
			fe.Line = m.line(fe.Group, fe.Path)
		}
	})
	return err
}

// line returns the line of path in the first group named group.
func (m *Manifest) line(group, path string) int {
	for i := range m.Groups {
		if i < len(m.lines) && m.Groups[i].Name == group {
			return m.lines[i].find(path)
		}
	}
	return 0
}

func walk(err error, depth int, f func(*FieldError)) {
	if err == nil || depth > 100 {
		return
	}
	if fe, ok := err.(*FieldError); ok {
		f(fe)
		return
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, depth+1, f)
		}
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), depth+1, f)
	}
}

// lineTable maps the paths of one group's fields to their lines.
type lineTable map[string]int

// add records the line of path unless it has one.
func (t lineTable) add(path string, line int) {
	if _, ok := t[path]; !ok && t != nil {
		t[path] = line
	}
}

// find returns the line of path or, when it was not written (a required
// key left out), of the nearest enclosing field that was; 0 when t is nil.
func (t lineTable) find(path string) int {
	for {
		if l, ok := t[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parent(path)
	}
}

// parent strips the last element off a path: "a.b[2]" → "a.b" → "a".
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// withDefaults fills in every default of g, and makes empty collections
// nil wherever nil and empty mean the same, so that a group reads the same
// however it was written.
func withDefaults(g *Group) {
	if len(g.Collaborators) == 0 {
		g.Collaborators = nil
	}
	if len(g.Models) == 0 {
		g.Models = nil
	}
	for i := range g.Models {
		m := &g.Models[i]
		if len(m.ModelTypes) == 0 {
			m.ModelTypes = []ModelType{Chat}
		}
		if s := m.Routing.Sticky; s != nil && len(s.SessionIdentifiers) == 0 {
			c := *s
			c.SessionIdentifiers = nil
			m.Routing.Sticky = &c
		}
		for j := range m.Routing.Targets {
			t := &m.Routing.Targets[j]
			r := t.RetryOrDefault()
			r.OnStatusCodes = slices.Clone(r.OnStatusCodes)
			t.Retry = &r
			t.FallbackStatusCodes = slices.Clone(t.FallbackCodesOrDefault())
			if len(t.MetadataMatch) == 0 {
				t.MetadataMatch = nil
			}
			if len(t.Headers.Set) == 0 {
				t.Headers.Set = nil
			}
			if len(t.Headers.Remove) == 0 {
				t.Headers.Remove = nil
			}
			if len(t.Params) == 0 {
				t.Params = nil
			}
		}
	}
}

// normalized returns g with every default filled in, leaving g and what
// it points to unchanged.
func normalized(g Group) Group {
	g.Models = slices.Clone(g.Models)
	for i := range g.Models {
		g.Models[i].Routing.Targets = slices.Clone(g.Models[i].Routing.Targets)
	}
	withDefaults(&g)
	return g
}
