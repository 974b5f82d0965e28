package simulate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	suggestpkg "github.com/llmroute/llmroute/internal/suggest"
	"github.com/llmroute/llmroute/internal/yamlpath"
)

// The keys each mapping of a scenario file may hold.
var (
	scenarioKeys = []string{"model", "requests", "interval", "rate", "arrivals", "seed", "bucket", "profiles", "targets", "replicas", "shared_state"}
	profileKeys  = []string{"name", "weight", "metadata", "headers", "session"}
	sessionKeys  = []string{"source", "key", "count"}
	behaviorKeys = []string{"latency", "output_tokens", "error_rate", "error_status", "error_latency_ms", "windows"}
	latencyKeys  = []string{"p50_ms", "p99_ms", "fixed_ms"}
	windowKeys   = []string{"kind", "from", "to", "status", "rate", "retry_after", "factor", "add_ms", "latency"}
)

// ParseScenario reads a scenario file (YAML; see the package
// documentation) and validates it on its own. Every problem is reported at
// once as an ErrorList, each naming its field and line; unknown keys are
// problems. The targets and the model are checked against the manifest by
// Run.
func ParseScenario(data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{Msg: "the scenario is empty"}}
		}
		return nil, ErrorList{{Line: yamlLine(err), Msg: "syntax: " + yamlMsg(err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, ErrorList{{Line: line, Msg: "a scenario file holds one document"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, ErrorList{{Line: yamlLine(err), Msg: "syntax: " + yamlMsg(err)}}
	}
	d := &decoder{lines: map[string]int{}, budget: 10*len(data) + 10_000}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if yamlpath.IsNull(d.resolve(n)) {
		return nil, ErrorList{{Msg: "the scenario is empty"}}
	}
	s := d.scenario(n)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	s.lines = d.lines
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// yamlLine finds "line N" in a yaml error, which has no structured form.
func yamlLine(err error) int {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(rest[:j]); err == nil {
			return n
		}
	}
	return 0
}

func yamlMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j >= 0 {
			msg = msg[j+2:]
		}
	}
	return msg
}

// decoder turns a scenario's node tree into a Scenario, reporting every
// problem of shape it meets and recording the line of each path.
type decoder struct {
	errs   ErrorList
	lines  map[string]int
	budget int // node visits left; aliases can make a tree huge
}

func (d *decoder) errorf(path string, line int, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and charges one visit; nil means stop.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.errorf("", n.Line, "scenario too large once its aliases are expanded")
		}
		return nil
	}
	return n
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// entry is one key of a mapping with its value.
type entry struct {
	key  string
	path string
	line int
	val  *yaml.Node // aliases resolved; nil when null
}

// mapping checks that n is a mapping whose keys are known (when known is
// not nil) and distinct, records their lines and returns its entries in
// order. pathOf names the path of a key; nil means yamlpath.Join(path, key).
func (d *decoder) mapping(n *yaml.Node, path string, known []string, pathOf func(string) string) ([]entry, bool) {
	if n = d.resolve(n); n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(path, n.Line, "want a mapping, got %s", yamlpath.Describe(n))
		return nil, false
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	seen := map[string]bool{}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := d.resolve(n.Content[i])
		if kn == nil {
			return nil, false
		}
		if kn.Kind != yaml.ScalarNode {
			d.errorf(path, kn.Line, "a key must be a string, got %s", yamlpath.Describe(kn))
			continue
		}
		k := kn.Value
		kp := yamlpath.Join(path, k)
		if pathOf != nil {
			kp = pathOf(k)
		}
		switch {
		case seen[k]:
			d.errorf(kp, kn.Line, "duplicate key %q", clip(k))
			continue
		case known != nil && !slices.Contains(known, k):
			d.errorf(kp, kn.Line, "unknown key %q%s", clip(k), suggest(k, known))
			continue
		}
		seen[k] = true
		d.lines[kp] = kn.Line
		vn := d.resolve(n.Content[i+1])
		if vn == nil {
			return nil, false
		}
		if yamlpath.IsNull(vn) {
			vn = nil
		}
		out = append(out, entry{key: k, path: kp, line: kn.Line, val: vn})
	}
	return out, true
}

func (d *decoder) scenario(n *yaml.Node) *Scenario {
	s := &Scenario{}
	es, ok := d.mapping(n, "", scenarioKeys, nil)
	if !ok {
		return s
	}
	var interval, rate *entry
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		switch e.key {
		case "model":
			s.Model, _ = d.str(e)
		case "requests":
			var ok bool
			if s.Requests, ok = d.int(e); ok && s.Requests == 0 {
				d.errorf(e.path, e.line, "want at least 1 call")
			}
		case "interval":
			interval = e
			var ok bool
			if s.Interval, ok = d.duration(e); ok && s.Interval == 0 {
				d.errorf(e.path, e.line, "must be positive")
			}
		case "rate":
			rate = e
			if r, ok := d.float(e); ok {
				if r <= 0 || r > 1e9 {
					d.errorf(e.path, e.line, "want calls per second above 0, got %v", r)
				} else {
					s.Interval = max(time.Duration(float64(time.Second)/r), 1)
				}
			}
		case "arrivals":
			a, _ := d.str(e)
			s.Arrivals = Arrivals(a)
			if a == "" {
				d.errorf(e.path, e.line, "want %q or %q", Fixed, Poisson)
			}
		case "seed":
			if e.val.Kind != yaml.ScalarNode || e.val.Tag != "!!int" {
				d.errorf(e.path, e.line, "want a whole number, got %s", yamlpath.Describe(e.val))
				continue
			}
			u, err := strconv.ParseUint(strings.ReplaceAll(e.val.Value, "_", ""), 0, 64)
			if err != nil {
				d.errorf(e.path, e.line, "want a whole number from 0 to %d, got %s", uint64(math.MaxUint64), clip(e.val.Value))
			}
			s.Seed = u
		case "bucket":
			var ok bool
			if s.Bucket, ok = d.duration(e); ok && s.Bucket == 0 {
				d.errorf(e.path, e.line, "must be positive")
			}
		case "replicas":
			var ok bool
			if s.Replicas, ok = d.int(e); ok && s.Replicas == 0 {
				d.errorf(e.path, e.line, "want at least 1 replica")
			}
		case "shared_state":
			n, ok := d.scalar(e, "true or false")
			if ok && (n.Tag != "!!bool" || n.Decode(&s.SharedState) != nil) {
				d.errorf(e.path, e.line, "want true or false, got %s", yamlpath.Describe(n))
			}
		case "profiles":
			for j, pn := range d.seq(e) {
				s.Profiles = append(s.Profiles, d.profile(pn, yamlpath.Index(e.path, j)))
			}
		case "targets":
			ts, ok := d.mapping(e.val, "targets", nil, targetPath)
			if !ok {
				continue
			}
			s.Targets = make(map[string]Behavior, len(ts))
			for _, t := range ts {
				if t.val == nil {
					s.Targets[t.key] = Behavior{}
					continue
				}
				s.Targets[t.key] = d.behavior(t.val, t.path)
			}
		}
	}
	if interval != nil && rate != nil {
		d.errorf(rate.path, rate.line, "set interval or rate, not both")
	}
	if _, ok := d.lines["requests"]; !ok {
		d.errorf("requests", n.Line, "required")
	}
	return s
}

func (d *decoder) profile(n *yaml.Node, path string) Profile {
	var p Profile
	es, ok := d.mapping(n, path, profileKeys, nil)
	if !ok {
		return p
	}
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		switch e.key {
		case "name":
			p.Name, _ = d.str(e)
		case "weight":
			var ok bool
			if p.Weight, ok = d.int(e); ok && p.Weight == 0 {
				d.errorf(e.path, e.line, "must be at least 1 (leave the profile out instead)")
			}
		case "metadata":
			p.Metadata = d.strMap(e)
		case "headers":
			p.Headers = d.strMap(e)
		case "session":
			p.Session = d.session(e)
		}
	}
	return p
}

func (d *decoder) session(e *entry) *Session {
	s := &Session{}
	es, ok := d.mapping(e.val, e.path, sessionKeys, nil)
	if !ok {
		return s
	}
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		switch e.key {
		case "source":
			s.Source, _ = d.str(e)
		case "key":
			s.Key, _ = d.str(e)
		case "count":
			var ok bool
			if s.Count, ok = d.int(e); ok && s.Count == 0 {
				d.errorf(e.path, e.line, "want at least 1 session")
			}
		}
	}
	return s
}

func (d *decoder) behavior(n *yaml.Node, path string) Behavior {
	var b Behavior
	es, ok := d.mapping(n, path, behaviorKeys, nil)
	if !ok {
		return b
	}
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		switch e.key {
		case "latency":
			b.Latency = d.latency(e)
		case "output_tokens":
			var ok bool
			if b.OutputTokens, ok = d.int(e); ok && b.OutputTokens == 0 {
				d.errorf(e.path, e.line, "want at least 1 token")
			}
		case "error_rate":
			b.ErrorRate, _ = d.float(e)
		case "error_status":
			b.ErrorStatus, _ = d.status(e)
		case "error_latency_ms":
			var ok bool
			if b.ErrorLatency, ok = d.ms(e); ok && b.ErrorLatency == 0 {
				d.errorf(e.path, e.line, "must be positive")
			}
		case "windows":
			for j, wn := range d.seq(e) {
				b.Windows = append(b.Windows, d.window(wn, yamlpath.Index(e.path, j)))
			}
		}
	}
	return b
}

func (d *decoder) latency(e *entry) Latency {
	var l Latency
	es, ok := d.mapping(e.val, e.path, latencyKeys, nil)
	if !ok {
		return l
	}
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		v, ok := d.ms(e)
		if ok && v == 0 {
			d.errorf(e.path, e.line, "must be positive")
		}
		switch e.key {
		case "p50_ms":
			l.P50 = v
		case "p99_ms":
			l.P99 = v
		case "fixed_ms":
			l.Fixed = v
		}
	}
	switch {
	case l.Fixed != 0:
	case l.P50 != 0 && l.P99 == 0:
		d.errorf(yamlpath.Join(e.path, "p99_ms"), e.line, "required with p50_ms")
	case l.P50 == 0 && l.P99 != 0:
		d.errorf(yamlpath.Join(e.path, "p50_ms"), e.line, "required with p99_ms")
	}
	return l
}

func (d *decoder) window(n *yaml.Node, path string) Window {
	var w Window
	es, ok := d.mapping(n, path, windowKeys, nil)
	if !ok {
		return w
	}
	for i := range es {
		e := &es[i]
		if e.val == nil {
			continue
		}
		switch e.key {
		case "kind":
			k, _ := d.str(e)
			w.Kind = WindowKind(k)
		case "from":
			w.From, _ = d.duration(e)
		case "to":
			var ok bool
			if w.To, ok = d.duration(e); ok && w.To == 0 {
				d.errorf(e.path, e.line, "must be after from (leave to out for \"until the end\")")
			}
		case "status":
			w.Status, _ = d.status(e)
		case "rate":
			var ok bool
			if w.Rate, ok = d.float(e); ok && w.Rate == 0 {
				d.errorf(e.path, e.line, "must be above 0 (leave the window out instead)")
			}
		case "retry_after":
			w.RetryAfter, _ = d.duration(e)
		case "factor":
			var ok bool
			if w.Factor, ok = d.float(e); ok && w.Factor == 0 {
				d.errorf(e.path, e.line, "must be positive")
			}
		case "add_ms":
			w.Add, _ = d.ms(e)
		case "latency":
			w.Latency = d.latency(e)
		}
	}
	if _, ok := d.lines[yamlpath.Join(path, "kind")]; !ok {
		d.errorf(yamlpath.Join(path, "kind"), d.lines[path], "required: one of %s", kindList())
	}
	return w
}

// seq returns the items of the list e holds.
func (d *decoder) seq(e *entry) []*yaml.Node {
	if e.val.Kind != yaml.SequenceNode {
		d.errorf(e.path, e.line, "want a list, got %s", yamlpath.Describe(e.val))
		return nil
	}
	items := make([]*yaml.Node, 0, len(e.val.Content))
	for i, c := range e.val.Content {
		if c = d.resolve(c); c == nil {
			return items
		}
		d.lines[yamlpath.Index(e.path, i)] = c.Line
		items = append(items, c)
	}
	return items
}

func (d *decoder) scalar(e *entry, want string) (*yaml.Node, bool) {
	if e.val.Kind != yaml.ScalarNode {
		d.errorf(e.path, e.line, "want %s, got %s", want, yamlpath.Describe(e.val))
		return nil, false
	}
	return e.val, true
}

func (d *decoder) str(e *entry) (string, bool) {
	n, ok := d.scalar(e, "a string")
	if !ok {
		return "", false
	}
	if n.Tag != "!!str" {
		d.errorf(e.path, e.line, "want a string, got %s", yamlpath.Describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) int(e *entry) (int, bool) {
	n, ok := d.scalar(e, "a whole number")
	if !ok {
		return 0, false
	}
	var v int64
	var err error
	switch n.Tag {
	case "!!int":
		v, err = strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	default:
		err = errors.New("not an integer")
	}
	if err != nil || v < 0 || v > math.MaxInt32 {
		d.errorf(e.path, e.line, "want a whole number from 0 to %d, got %s", math.MaxInt32, yamlpath.Describe(n))
		return 0, false
	}
	return int(v), true
}

func (d *decoder) float(e *entry) (float64, bool) {
	n, ok := d.scalar(e, "a number")
	if !ok {
		return 0, false
	}
	if n.Tag != "!!int" && n.Tag != "!!float" {
		d.errorf(e.path, e.line, "want a number, got %s", yamlpath.Describe(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		d.errorf(e.path, e.line, "want a number of at least 0, got %s", yamlpath.Describe(n))
		return 0, false
	}
	return f, true
}

// status reads an HTTP status, written as a number or a string as in the
// manifest ("503").
func (d *decoder) status(e *entry) (int, bool) {
	n, ok := d.scalar(e, "a status code")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if (n.Tag != "!!int" && n.Tag != "!!str") || err != nil {
		d.errorf(e.path, e.line, "want a status code such as 503, got %s", yamlpath.Describe(n))
		return 0, false
	}
	if v < 400 || v > 599 {
		d.errorf(e.path, e.line, "want a failure status from 400 to 599, got %d", v)
		return 0, false
	}
	return v, true
}

// ms reads a whole number of milliseconds.
func (d *decoder) ms(e *entry) (time.Duration, bool) {
	v, ok := d.int(e)
	return time.Duration(v) * time.Millisecond, ok
}

// duration reads a Go duration such as "90s" or "2m30s". A bare number is
// refused: its unit would be a guess.
func (d *decoder) duration(e *entry) (time.Duration, bool) {
	n, ok := d.scalar(e, "a duration such as \"90s\"")
	if !ok {
		return 0, false
	}
	if n.Value == "0" {
		return 0, true
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Tag == "!!int" || n.Tag == "!!float" {
		d.errorf(e.path, e.line, "want a duration such as \"90s\" or \"2m30s\", got %s", yamlpath.Describe(n))
		return 0, false
	}
	if v < 0 {
		d.errorf(e.path, e.line, "must not be negative, got %s", n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) strMap(e *entry) map[string]string {
	es, ok := d.mapping(e.val, e.path, nil, nil)
	if !ok {
		return nil
	}
	m := make(map[string]string, len(es))
	for i := range es {
		x := &es[i]
		if x.val == nil {
			d.errorf(x.path, x.line, "want a string, got null")
			continue
		}
		if x.val.Kind != yaml.ScalarNode {
			d.errorf(x.path, x.line, "want a string, got %s", yamlpath.Describe(x.val))
			continue
		}
		// Numbers and booleans are kept as written: metadata values
		// are strings, and "US" and "1" alike compare as text.
		m[x.key] = x.val.Value
	}
	return m
}

// suggest offers the known key closest to a misspelt one, as the tail of
// an error message.
func suggest(k string, known []string) string {
	if best := suggestpkg.Closest(k, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
