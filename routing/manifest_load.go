package routing

import (
	"slices"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
)

// Manifest is a manifest as loaded: its groups, and the line each of their
// fields was written on, so that problems found later (by
// Manifest.Validate, or by a Client that knows the provider accounts) can
// name their line.
//
// A Manifest is not changed by its methods and is safe for concurrent use
// by them; the line information describes Groups as loaded, so change
// Groups only in ways that keep group names and paths where they were.
// The zero Manifest holds no groups and knows no lines.
type Manifest struct {
	// Groups are the manifest's groups in the order written, with every
	// default filled in (see MarshalManifest).
	Groups []Group

	lines []*yamlread.Lines // per group, parallel to Groups as loaded
}

// LoadManifest reads a manifest in YAML or JSON and checks what the Go
// types cannot hold: syntax, unknown and duplicate keys, value types, and the
// rules that depend on whether a key was written at all (weight is
// required on every target of weight-based routing, priority and
// sla_cutoff are allowed only for priority-based routing, a delay or
// timeout that is written must be positive, and so on). It reports every
// such problem at once as FieldErrors, each with its line, in line order.
//
// LoadManifest does not apply the rules of ValidateGroups; call
// Manifest.Validate, or use CheckManifest or ParseManifest, which do both
// in one pass.
func LoadManifest(data []byte) (*Manifest, error) {
	m, errs, _ := load(data)
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// CheckManifest reads a manifest as LoadManifest does and checks it as
// Manifest.Validate does (see there for accounts and known), in one pass:
// it reports the problems of both at once as FieldErrors, in line order. A
// field that cannot be read is reported once, by what is wrong with how it
// is written; the rules of ValidateGroups are not applied to it.
func CheckManifest(data []byte, accounts Accounts, known map[string]bool) (*Manifest, error) {
	m, errs, whole := load(data)
	if whole {
		errs = append(errs, validate(m.Groups, accounts, known, m.lines)...)
	}
	if len(errs) > 0 {
		byLine(errs)
		return nil, errs
	}
	return m, nil
}

// loadManifest reads a manifest whose groups the Client will validate
// with its provider accounts. When it cannot be read whole, its problems
// come back together with those the rules find without the accounts, so
// that one look shows all that can be known. The manifest is read once
// either way.
func loadManifest(data []byte) (*Manifest, error) {
	m, errs, whole := load(data)
	if len(errs) == 0 {
		return m, nil
	}
	if whole {
		errs = append(errs, validate(m.Groups, nil, nil, m.lines)...)
		byLine(errs)
	}
	return nil, errs
}

// load reads data into a Manifest with what could be read of every group,
// and every problem found reading it, in line order. whole is false when
// the groups are not worth validating: there is no tree to read (a
// syntax error), it is too large, or it holds no groups.
func load(data []byte) (m *Manifest, errs FieldErrors, whole bool) {
	docs, err := roots(data)
	if err != nil {
		return nil, err, false
	}
	// Visits allowed: generous for any real manifest, yet bounded when
	// aliases would expand a small input into a huge tree.
	d := newDecoder(10*len(data) + 100_000)
	m = &Manifest{}
	for _, n := range docs {
		if n = d.Resolve(n); n == nil {
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
			d.Errorf("", n.Line, "a document must be a group (a mapping) or a list of groups, got %s", yamlread.Describe(n))
			continue
		}
		for _, gn := range items {
			d.Lines = yamlread.NewLines()
			g := d.group(gn)
			withDefaults(&g)
			m.Groups = append(m.Groups, g)
			m.lines = append(m.lines, d.Lines)
		}
	}
	if len(m.Groups) == 0 && len(d.errs) == 0 {
		return nil, FieldErrors{{Msg: "the manifest holds no groups"}}, false
	}
	byLine(d.errs)
	return m, d.errs, len(m.Groups) > 0 && !d.Spent()
}

// byLine sorts problems by their line, keeping the order of those on
// one line (and of those with none, which come first).
func byLine(errs FieldErrors) {
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return a.Line - b.Line })
}

// ParseManifest reads groups from a manifest in YAML or JSON (see
// Manifests in the package documentation) and checks them as
// CheckManifest does, all but the checks that need the provider accounts:
// it reports every problem at once as FieldErrors, each with its line, in
// line order. The groups come back with every default filled in.
//
// A Client checks the rest (unknown accounts, model types an account
// cannot serve, slugs taken by its other groups) when it is given the
// groups.
func ParseManifest(data []byte) ([]Group, error) {
	m, err := CheckManifest(data, nil, nil)
	if err != nil {
		return nil, err
	}
	return m.Groups, nil
}

// Validate checks m's groups as ValidateGroups does, with the
// line of each problem filled in, in line order.
func (m *Manifest) Validate(accounts Accounts, known map[string]bool) error {
	if errs := validate(m.Groups, accounts, known, m.lines); len(errs) > 0 {
		byLine(errs)
		return errs
	}
	return nil
}

// Warnings returns m's advisory problems (see GroupWarnings), with
// their lines.
func (m *Manifest) Warnings() []*FieldError {
	ws := GroupWarnings(m.Groups)
	for _, w := range ws {
		w.Line = m.line(w.Group, w.Path)
	}
	return ws
}

// Annotate fills in the Line of every *FieldError within err (through
// Unwrap, as errors.As sees them) that has none and belongs to one of m's
// groups, and returns err. Use it on the errors of code that validates m's
// groups together with others, such as a Client given m.Groups:
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
			return m.lines[i].Line(path)
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
