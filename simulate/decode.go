package simulate

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
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
// once as an ErrorList, in line order, each naming its field and line;
// unknown keys are problems. The targets and the model are checked
// against the manifest by Run.
func ParseScenario(data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{Msg: "the scenario is empty"}}
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, ErrorList{{Line: line, Msg: "a scenario file holds one document"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	d := newDecoder(10*len(data) + 10_000)
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if yamlread.IsNull(d.Resolve(n)) {
		return nil, ErrorList{{Msg: "the scenario is empty"}}
	}
	s := d.scenario(n)
	s.lines = d.Lines
	errs := d.errs
	if !d.Spent() { // a tree cut short is not worth validating
		errs = append(errs, s.validate()...)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *FieldError) int { return a.Line - b.Line })
		return nil, errs
	}
	return s, nil
}

func syntaxError(err error) ErrorList {
	line, msg := yamlread.SyntaxError(err)
	return ErrorList{{Line: line, Msg: "invalid YAML: " + msg}}
}

// decoder turns a scenario's node tree into a Scenario, reporting every
// problem of shape it meets and recording the line of each path.
type decoder struct {
	*yamlread.Reader
	errs ErrorList
}

func newDecoder(budget int) *decoder {
	d := &decoder{}
	d.Reader = yamlread.New("scenario", budget, func(path string, line int, msg string) {
		d.errs = append(d.errs, &FieldError{Path: path, Line: line, Msg: msg})
	})
	return d
}

// entry is one key of a mapping with its value.
type entry = yamlread.Entry

func (d *decoder) scenario(n *yaml.Node) *Scenario {
	s := &Scenario{}
	m := d.Mapping(n, "", scenarioKeys)
	if m == nil {
		return s
	}
	var interval, rate *entry
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		switch e.Key {
		case "model":
			s.Model, _ = d.str(e)
		case "requests":
			var ok bool
			if s.Requests, ok = d.int(e); ok && s.Requests == 0 {
				d.Errorf(e.Path, e.Line, "want at least 1 call")
			}
		case "interval":
			interval = e
			var ok bool
			if s.Interval, ok = d.duration(e); ok && s.Interval == 0 {
				d.Errorf(e.Path, e.Line, "must be positive")
			}
		case "rate":
			rate = e
			if r, ok := d.float(e); ok {
				if r <= 0 || r > 1e9 {
					d.Errorf(e.Path, e.Line, "want calls per second above 0, got %v", r)
				} else {
					s.Interval = max(time.Duration(float64(time.Second)/r), 1)
				}
			}
		case "arrivals":
			a, _ := d.str(e)
			s.Arrivals = Arrivals(a)
			if a == "" {
				d.Errorf(e.Path, e.Line, "want %q or %q", Fixed, Poisson)
			}
		case "seed":
			if e.Val.Kind != yaml.ScalarNode || e.Val.Tag != "!!int" {
				d.Errorf(e.Path, e.Line, "want a whole number, got %s", yamlread.Describe(e.Val))
				continue
			}
			u, err := strconv.ParseUint(strings.ReplaceAll(e.Val.Value, "_", ""), 0, 64)
			if err != nil {
				d.Errorf(e.Path, e.Line, "want a whole number from 0 to %d, got %s", uint64(math.MaxUint64), yamlread.Clip(e.Val.Value))
			}
			s.Seed = u
		case "bucket":
			var ok bool
			if s.Bucket, ok = d.duration(e); ok && s.Bucket == 0 {
				d.Errorf(e.Path, e.Line, "must be positive")
			}
		case "replicas":
			var ok bool
			if s.Replicas, ok = d.int(e); ok && s.Replicas == 0 {
				d.Errorf(e.Path, e.Line, "want at least 1 replica")
			}
		case "shared_state":
			n, ok := d.scalar(e, "true or false")
			if ok && (n.Tag != "!!bool" || n.Decode(&s.SharedState) != nil) {
				d.Errorf(e.Path, e.Line, "want true or false, got %s", yamlread.Describe(n))
			}
		case "profiles":
			for j, pn := range d.seq(e) {
				s.Profiles = append(s.Profiles, d.profile(pn, yamlread.Index(e.Path, j)))
			}
		case "targets":
			ts := d.Mapping(e.Val, "targets", nil)
			if ts == nil {
				continue
			}
			s.Targets = make(map[string]Behavior, len(ts.Entries))
			for _, t := range ts.Entries {
				if t.Val == nil {
					s.Targets[t.Key] = Behavior{}
					continue
				}
				s.Targets[t.Key] = d.behavior(t.Val, t.Path)
			}
		}
	}
	if interval != nil && rate != nil {
		d.Errorf(rate.Path, rate.Line, "set interval or rate, not both")
	}
	if !m.Has("requests") {
		d.Errorf("requests", n.Line, "required")
	}
	return s
}

func (d *decoder) profile(n *yaml.Node, path string) Profile {
	var p Profile
	m := d.Mapping(n, path, profileKeys)
	if m == nil {
		return p
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		switch e.Key {
		case "name":
			p.Name, _ = d.str(e)
		case "weight":
			var ok bool
			if p.Weight, ok = d.int(e); ok && p.Weight == 0 {
				d.Errorf(e.Path, e.Line, "must be at least 1 (leave the profile out instead)")
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
	m := d.Mapping(e.Val, e.Path, sessionKeys)
	if m == nil {
		return s
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		switch e.Key {
		case "source":
			s.Source, _ = d.str(e)
		case "key":
			s.Key, _ = d.str(e)
		case "count":
			var ok bool
			if s.Count, ok = d.int(e); ok && s.Count == 0 {
				d.Errorf(e.Path, e.Line, "want at least 1 session")
			}
		}
	}
	return s
}

func (d *decoder) behavior(n *yaml.Node, path string) Behavior {
	var b Behavior
	m := d.Mapping(n, path, behaviorKeys)
	if m == nil {
		return b
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		switch e.Key {
		case "latency":
			b.Latency = d.latency(e)
		case "output_tokens":
			var ok bool
			if b.OutputTokens, ok = d.int(e); ok && b.OutputTokens == 0 {
				d.Errorf(e.Path, e.Line, "want at least 1 token")
			}
		case "error_rate":
			b.ErrorRate, _ = d.float(e)
		case "error_status":
			b.ErrorStatus, _ = d.status(e)
		case "error_latency_ms":
			var ok bool
			if b.ErrorLatency, ok = d.ms(e); ok && b.ErrorLatency == 0 {
				d.Errorf(e.Path, e.Line, "must be positive")
			}
		case "windows":
			for j, wn := range d.seq(e) {
				b.Windows = append(b.Windows, d.window(wn, yamlread.Index(e.Path, j)))
			}
		}
	}
	return b
}

func (d *decoder) latency(e *entry) Latency {
	var l Latency
	m := d.Mapping(e.Val, e.Path, latencyKeys)
	if m == nil {
		return l
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		v, ok := d.ms(e)
		if ok && v == 0 {
			d.Errorf(e.Path, e.Line, "must be positive")
		}
		switch e.Key {
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
		d.Errorf(yamlread.Join(e.Path, "p99_ms"), e.Line, "required with p50_ms")
	case l.P50 == 0 && l.P99 != 0:
		d.Errorf(yamlread.Join(e.Path, "p50_ms"), e.Line, "required with p99_ms")
	}
	return l
}

func (d *decoder) window(n *yaml.Node, path string) Window {
	var w Window
	m := d.Mapping(n, path, windowKeys)
	if m == nil {
		return w
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		if e.Val == nil {
			continue
		}
		switch e.Key {
		case "kind":
			k, _ := d.str(e)
			w.Kind = WindowKind(k)
		case "from":
			w.From, _ = d.duration(e)
		case "to":
			var ok bool
			if w.To, ok = d.duration(e); ok && w.To == 0 {
				d.Errorf(e.Path, e.Line, "must be after from (leave to out for \"until the end\")")
			}
		case "status":
			w.Status, _ = d.status(e)
		case "rate":
			var ok bool
			if w.Rate, ok = d.float(e); ok && w.Rate == 0 {
				d.Errorf(e.Path, e.Line, "must be above 0 (leave the window out instead)")
			}
		case "retry_after":
			w.RetryAfter, _ = d.duration(e)
		case "factor":
			var ok bool
			if w.Factor, ok = d.float(e); ok && w.Factor == 0 {
				d.Errorf(e.Path, e.Line, "must be positive")
			}
		case "add_ms":
			w.Add, _ = d.ms(e)
		case "latency":
			w.Latency = d.latency(e)
		}
	}
	if !m.Has("kind") {
		d.Errorf(yamlread.Join(path, "kind"), m.Line, "required: one of %s", kindList())
	}
	return w
}

// seq returns the items of the list e holds.
func (d *decoder) seq(e *entry) []*yaml.Node {
	items, _ := d.Seq(e.Val, e.Path)
	return items
}

func (d *decoder) scalar(e *entry, want string) (*yaml.Node, bool) {
	if e.Val.Kind != yaml.ScalarNode {
		d.Errorf(e.Path, e.Line, "want %s, got %s", want, yamlread.Describe(e.Val))
		return nil, false
	}
	return e.Val, true
}

func (d *decoder) str(e *entry) (string, bool) {
	n, ok := d.scalar(e, "a string")
	if !ok {
		return "", false
	}
	if n.Tag != "!!str" {
		d.Errorf(e.Path, e.Line, "want a string, got %s", yamlread.Describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) int(e *entry) (int, bool) {
	n, ok := d.scalar(e, "a whole number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if n.Tag != "!!int" || err != nil || v < 0 || v > math.MaxInt32 {
		d.Errorf(e.Path, e.Line, "want a whole number from 0 to %d, got %s", math.MaxInt32, yamlread.Describe(n))
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
		d.Errorf(e.Path, e.Line, "want a number, got %s", yamlread.Describe(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		d.Errorf(e.Path, e.Line, "want a number of at least 0, got %s", yamlread.Describe(n))
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
		d.Errorf(e.Path, e.Line, "want a status code such as 503, got %s", yamlread.Describe(n))
		return 0, false
	}
	if v < 400 || v > 599 {
		d.Errorf(e.Path, e.Line, "want a failure status from 400 to 599, got %d", v)
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
		d.Errorf(e.Path, e.Line, "want a duration such as \"90s\" or \"2m30s\", got %s", yamlread.Describe(n))
		return 0, false
	}
	if v < 0 {
		d.Errorf(e.Path, e.Line, "must not be negative, got %s", n.Value)
		return 0, false
	}
	return v, true
}

func (d *decoder) strMap(e *entry) map[string]string {
	m := d.Mapping(e.Val, e.Path, nil)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m.Entries))
	for i := range m.Entries {
		x := &m.Entries[i]
		if x.Val == nil {
			d.Errorf(x.Path, x.Line, "want a string, got null")
			continue
		}
		if x.Val.Kind != yaml.ScalarNode {
			d.Errorf(x.Path, x.Line, "want a string, got %s", yamlread.Describe(x.Val))
			continue
		}
		// Numbers and booleans are kept as written: metadata values
		// are strings, and "US" and "1" alike compare as text.
		out[x.Key] = x.Val.Value
	}
	return out
}
