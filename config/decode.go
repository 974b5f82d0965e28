package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	suggestpkg "github.com/llmroute/llmroute/internal/suggest"
	"github.com/llmroute/llmroute/internal/yamlpath"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/target"
)

// Manifest document and integration types.
const (
	// GroupType is the type of a group document.
	GroupType = "provider-account/virtual-model"
	// VirtualModelType is the type of a virtual model integration.
	VirtualModelType = "integration/model/virtual"
)

// The keys each mapping of a manifest may hold.
var (
	groupKeys        = []string{"name", "type", "collaborators", "integrations"}
	collaboratorKeys = []string{"subject", "role_id"}
	modelKeys        = []string{"name", "type", "slug", "model_types", "routing_config"}
	timeoutKeys      = []string{"request_timeout_ms", "ttft_timeout_ms", "stream_idle_timeout_ms"}
	routingKeys      = append([]string{"type", "sticky_routing", "load_balance_targets", "retry_budget", "hedge"}, timeoutKeys...)
	budgetKeys       = []string{"disabled", "percent", "min_per_second"}
	hedgeKeys        = []string{"after_ms", "after_percentile", "max_hedges"}
	stickyKeys       = []string{"ttl_seconds", "session_identifiers"}
	sessionKeys      = []string{"source", "key"}
	targetKeys       = append([]string{"target", "weight", "priority", "sla_cutoff", "retry_config",
		"fallback_status_codes", "fallback_error_codes", "fallback_candidate", "metadata_match", "headers_override",
		"override_params"}, timeoutKeys...)
	slaKeys     = []string{"time_per_output_token_ms", "time_to_first_token_ms"}
	retryKeys   = []string{"attempts", "delay", "on_status_codes"}
	headersKeys = []string{"set", "remove"}
)

// decoder turns the node trees of a manifest's documents into Groups,
// reporting every problem of syntax and presence it meets and recording
// the line of each path it visits.
type decoder struct {
	errs   Errors
	gname  string    // the current group's name, for errors
	lines  lineTable // the current group's lines
	budget int       // node visits left; aliases can make a tree huge
	spent  bool      // the budget ran out (reported once)
}

func (d *decoder) errorf(path string, line int, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Group: d.gname, Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and charges one visit; nil means stop (the
// budget is spent).
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	if d.budget--; d.budget < 0 {
		if !d.spent {
			d.spent = true
			d.errorf("", n.Line, "manifest too large once its aliases are expanded")
		}
		return nil
	}
	return n
}

// fields is one mapping of the manifest, checked against its known keys.
type fields struct {
	path string
	line int
	vals map[string]*yaml.Node // non-null values, aliases resolved
	seen map[string]bool       // keys present, null values included
}

// get returns the non-null value of key, or nil.
func (f *fields) get(key string) *yaml.Node { return f.vals[key] }

// mapping checks that n is a mapping whose keys are all known and
// distinct, records their lines and returns its values. It reports a
// problem and returns nil when n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, known []string) *fields {
	if n = d.resolve(n); n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(path, n.Line, "want a mapping, got %s", yamlpath.Describe(n))
		return nil
	}
	d.lines.add(path, n.Line)
	f := &fields{path: path, line: n.Line, vals: map[string]*yaml.Node{}, seen: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := d.resolve(n.Content[i]), n.Content[i+1]
		if kn == nil {
			return nil
		}
		if kn.Kind != yaml.ScalarNode {
			d.errorf(path, kn.Line, "a key must be a string, got %s", yamlpath.Describe(kn))
			continue
		}
		k := kn.Value
		kp := yamlpath.Join(path, k)
		d.lines.add(kp, kn.Line)
		switch {
		case f.seen[k]:
			d.errorf(kp, kn.Line, "duplicate key %q", clip(k))
			continue
		case !slices.Contains(known, k):
			d.errorf(kp, kn.Line, "unknown key %q%s", clip(k), suggest(k, known))
			continue
		}
		f.seen[k] = true
		if vn = d.resolve(vn); vn == nil {
			return nil
		}
		if !yamlpath.IsNull(vn) {
			f.vals[k] = vn
		}
	}
	return f
}

// required reports a problem when key is absent or null.
func (d *decoder) required(f *fields, key, why string) bool {
	if f.get(key) != nil {
		return true
	}
	if why == "" {
		d.errorf(yamlpath.Join(f.path, key), f.line, "required")
	} else {
		d.errorf(yamlpath.Join(f.path, key), f.line, "required %s", why)
	}
	return false
}

// forbid reports a problem when key is present.
func (d *decoder) forbid(f *fields, key, why string) {
	if f.seen[key] {
		d.errorf(yamlpath.Join(f.path, key), d.lines.find(yamlpath.Join(f.path, key)), "%s", why)
	}
}

// seq returns the items of the list at key (aliases resolved), recording
// their lines; nil when the key is absent or not a list.
func (d *decoder) seq(f *fields, key string) (items []*yaml.Node, ok bool) {
	n := f.get(key)
	if n == nil {
		return nil, false
	}
	p := yamlpath.Join(f.path, key)
	if n.Kind != yaml.SequenceNode {
		d.errorf(p, n.Line, "want a list, got %s", yamlpath.Describe(n))
		return nil, false
	}
	items = make([]*yaml.Node, 0, len(n.Content))
	for i, c := range n.Content {
		if c = d.resolve(c); c == nil {
			return nil, false
		}
		d.lines.add(yamlpath.Index(p, i), c.Line)
		items = append(items, c)
	}
	return items, true
}

// text returns the string at n; path names it in errors.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(path, n.Line, "want a string, got %s", yamlpath.Describe(n))
		return "", false
	}
	return n.Value, true
}

// str returns the string at key, "" when absent.
func (d *decoder) str(f *fields, key string) string {
	n := f.get(key)
	if n == nil {
		return ""
	}
	s, _ := d.text(n, yamlpath.Join(f.path, key))
	return s
}

// scalarText returns a scalar as written: a string, or a number or
// boolean taken as its text (metadata values, header values).
func (d *decoder) scalarText(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool":
			return n.Value, true
		}
	}
	d.errorf(path, n.Line, "want a string, got %s", yamlpath.Describe(n))
	return "", false
}

// integer returns the integer at key.
func (d *decoder) integer(f *fields, key string) (int, bool) {
	n := f.get(key)
	if n == nil {
		return 0, false
	}
	return d.intValue(n, yamlpath.Join(f.path, key))
}

func (d *decoder) intValue(n *yaml.Node, path string) (int, bool) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(path, n.Line, "want an integer, got %s", yamlpath.Describe(n))
		return 0, false
	}
	if err := n.Decode(&i); err != nil || i < math.MinInt || i > math.MaxInt {
		d.errorf(path, n.Line, "integer %s out of range", clip(n.Value))
		return 0, false
	}
	return int(i), true
}

// positive returns the positive integer at key times unit; it reports a
// problem for 0, a negative number or an overflow.
func (d *decoder) positive(f *fields, key string, unit time.Duration) (time.Duration, bool) {
	i, ok := d.integer(f, key)
	switch {
	case !ok:
		return 0, false
	case i <= 0:
		d.errorf(yamlpath.Join(f.path, key), f.get(key).Line, "must be positive, got %d", i)
		return 0, false
	case int64(i) > math.MaxInt64/int64(unit):
		d.errorf(yamlpath.Join(f.path, key), f.get(key).Line, "%d is too large", i)
		return 0, false
	}
	return time.Duration(i) * unit, true
}

func (d *decoder) boolean(f *fields, key string) (bool, bool) {
	n := f.get(key)
	if n == nil {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.errorf(yamlpath.Join(f.path, key), n.Line, "want true or false, got %s", yamlpath.Describe(n))
		return false, false
	}
	return b, true
}

// codes returns the HTTP status codes at key, written as strings ("429")
// or integers; present and empty gives a non-nil empty slice.
func (d *decoder) codes(f *fields, key string) ([]int, bool) {
	items, ok := d.seq(f, key)
	if !ok {
		return nil, false
	}
	out := make([]int, 0, len(items))
	for i, n := range items {
		p := yamlpath.Index(yamlpath.Join(f.path, key), i)
		var c int
		switch {
		case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
			v, err := strconv.Atoi(n.Value)
			if err != nil || v < 100 || v > 599 || strings.TrimLeft(n.Value, "0123456789") != "" {
				d.errorf(p, n.Line, "%q is not an HTTP status code", clip(n.Value))
				continue
			}
			c = v
		case n.Kind == yaml.ScalarNode && n.Tag == "!!int":
			v, ok := d.intValue(n, p)
			if !ok {
				continue
			}
			if v < 100 || v > 599 {
				d.errorf(p, n.Line, "%d is not an HTTP status code", v)
				continue
			}
			c = v
		default:
			d.errorf(p, n.Line, "want an HTTP status code such as \"429\", got %s", yamlpath.Describe(n))
			continue
		}
		out = append(out, c)
	}
	return out, true
}

// strings returns the list of strings at key.
func (d *decoder) strings(f *fields, key string) ([]string, bool) {
	items, ok := d.seq(f, key)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, n := range items {
		if s, ok := d.text(n, yamlpath.Index(yamlpath.Join(f.path, key), i)); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// stringMap returns the mapping of strings at key; values may be written
// as numbers or booleans and are taken as their text.
func (d *decoder) stringMap(f *fields, key string) map[string]string {
	n := f.get(key)
	if n == nil {
		return nil
	}
	p := yamlpath.Join(f.path, key)
	if n.Kind != yaml.MappingNode {
		d.errorf(p, n.Line, "want a mapping, got %s", yamlpath.Describe(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := d.resolve(n.Content[i]), d.resolve(n.Content[i+1])
		if kn == nil || vn == nil {
			return nil
		}
		k, ok := d.scalarText(kn, p)
		if !ok {
			continue
		}
		kp := yamlpath.Join(p, k)
		d.lines.add(kp, kn.Line)
		if _, dup := out[k]; dup {
			d.errorf(kp, kn.Line, "duplicate key %q", clip(k))
			continue
		}
		if v, ok := d.scalarText(vn, kp); ok {
			out[k] = v
		}
	}
	return out
}

// anyValue converts override_params values: integers become int, other
// numbers float64, lists []any and mappings map[string]any.
// root is the path of the override_params key the value is under, where
// a value nested too deeply is reported.
func (d *decoder) anyValue(n *yaml.Node, path, root string, depth int) (any, bool) {
	if n = d.resolve(n); n == nil {
		return nil, false
	}
	if depth > maxDepth {
		d.errorf(root, n.Line, "nested more than %d levels deep", maxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn := d.resolve(n.Content[i])
			if kn == nil {
				return nil, false
			}
			k, kok := d.scalarText(kn, path)
			if !kok {
				ok = false
				continue
			}
			kp := yamlpath.Join(path, k)
			d.lines.add(kp, kn.Line)
			if _, dup := m[k]; dup {
				d.errorf(kp, kn.Line, "duplicate key %q", clip(k))
				ok = false
				continue
			}
			if depth == 0 {
				root = kp
			}
			v, vok := d.anyValue(n.Content[i+1], kp, root, depth+1)
			ok = ok && vok
			m[k] = v
		}
		return m, ok
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, vok := d.anyValue(c, yamlpath.Index(path, i), root, depth+1)
			ok = ok && vok
			l[i] = v
		}
		return l, ok
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp":
			return n.Value, true
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b, true
			}
		case "!!int":
			return d.intValue(n, path)
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, true
			}
			d.errorf(path, n.Line, "%s is not a finite number", clip(n.Value))
			return nil, false
		}
	}
	d.errorf(path, n.Line, "unsupported value: %s", yamlpath.Describe(n))
	return nil, false
}

// group decodes one group document.
func (d *decoder) group(n *yaml.Node) Group {
	var g Group
	d.gname = peekName(n)
	f := d.mapping(n, "", groupKeys)
	if f == nil {
		return g
	}
	if d.required(f, "name", "") {
		g.Name = d.str(f, "name")
	}
	d.docType(f, GroupType)
	if items, ok := d.seq(f, "collaborators"); ok {
		for i, c := range items {
			p := yamlpath.Index("collaborators", i)
			cf := d.mapping(c, p, collaboratorKeys)
			if cf == nil {
				continue
			}
			var col Collaborator
			if d.required(cf, "subject", "") {
				col.Subject = d.str(cf, "subject")
			}
			if d.required(cf, "role_id", "") {
				col.Role = Role(d.str(cf, "role_id"))
			}
			g.Collaborators = append(g.Collaborators, col)
		}
	}
	if items, ok := d.seq(f, "integrations"); ok {
		for i, m := range items {
			g.Models = append(g.Models, d.model(m, yamlpath.Index("integrations", i)))
		}
	}
	return g
}

// peekName returns a document's name, if it has a plain one, so that
// problems found before the name is decoded can still name the group.
func peekName(n *yaml.Node) string {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			return v.Value
		}
	}
	return ""
}

// docType checks a mapping's type key.
func (d *decoder) docType(f *fields, want string) {
	if !d.required(f, "type", "("+want+")") {
		return
	}
	if s := d.str(f, "type"); s != want && s != "" {
		d.errorf(yamlpath.Join(f.path, "type"), f.get("type").Line, "unsupported type %q (want %s)", clip(s), want)
	}
}

func (d *decoder) model(n *yaml.Node, path string) VirtualModel {
	var m VirtualModel
	f := d.mapping(n, path, modelKeys)
	if f == nil {
		return m
	}
	if d.required(f, "name", "") {
		m.Name = d.str(f, "name")
	}
	d.docType(f, VirtualModelType)
	if n := f.get("slug"); n != nil {
		if s, ok := d.text(n, yamlpath.Join(path, "slug")); ok && s == "" {
			d.errorf(yamlpath.Join(path, "slug"), n.Line, "empty; leave the key out for no slug")
		} else {
			m.Slug = s
		}
	}
	if n := f.get("model_types"); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(yamlpath.Join(path, "model_types"), n.Line, "empty; leave the key out for the default [chat]")
	}
	types, _ := d.strings(f, "model_types")
	for _, t := range types {
		m.ModelTypes = append(m.ModelTypes, ModelType(t))
	}
	if d.required(f, "routing_config", "") {
		m.Routing = d.routing(f.get("routing_config"), yamlpath.Join(path, "routing_config"))
	}
	return m
}

func (d *decoder) routing(n *yaml.Node, path string) Routing {
	var r Routing
	f := d.mapping(n, path, routingKeys)
	if f == nil {
		return r
	}
	if d.required(f, "type", "(weight-based-routing, latency-based-routing or priority-based-routing)") {
		r.Type = RoutingType(d.str(f, "type"))
	}
	if sn := f.get("sticky_routing"); sn != nil {
		r.Sticky = d.sticky(sn, yamlpath.Join(path, "sticky_routing"))
	}
	r.RequestTimeout, r.TTFTTimeout, r.StreamIdleTimeout = d.timeouts(f)
	if n := f.get("retry_budget"); n != nil {
		r.RetryBudget = d.retryBudget(n, yamlpath.Join(path, "retry_budget"))
	}
	if n := f.get("hedge"); n != nil {
		r.Hedge = d.hedge(n, yamlpath.Join(path, "hedge"))
	}
	if d.required(f, "load_balance_targets", "(at least one target)") {
		items, _ := d.seq(f, "load_balance_targets")
		for i, tn := range items {
			r.Targets = append(r.Targets, d.target(tn, yamlpath.Index(yamlpath.Join(path, "load_balance_targets"), i), r.Type))
		}
	}
	return r
}

func (d *decoder) timeouts(f *fields) (req, ttft, idle time.Duration) {
	req, _ = d.positive(f, "request_timeout_ms", time.Millisecond)
	ttft, _ = d.positive(f, "ttft_timeout_ms", time.Millisecond)
	idle, _ = d.positive(f, "stream_idle_timeout_ms", time.Millisecond)
	return req, ttft, idle
}

func (d *decoder) retryBudget(n *yaml.Node, path string) *RetryBudget {
	b := &RetryBudget{}
	f := d.mapping(n, path, budgetKeys)
	if f == nil {
		return b
	}
	b.Disabled, _ = d.boolean(f, "disabled")
	b.Percent, _ = d.integer(f, "percent")
	b.MinPerSecond, _ = d.number(f, "min_per_second")
	return b
}

func (d *decoder) hedge(n *yaml.Node, path string) *Hedge {
	h := &Hedge{}
	f := d.mapping(n, path, hedgeKeys)
	if f == nil {
		return h
	}
	h.After, _ = d.positive(f, "after_ms", time.Millisecond)
	h.AfterPercentile, _ = d.number(f, "after_percentile")
	h.Max, _ = d.integer(f, "max_hedges")
	return h
}

// number returns the integer or decimal number at key.
func (d *decoder) number(f *fields, key string) (float64, bool) {
	n := f.get(key)
	if n == nil {
		return 0, false
	}
	var x float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&x) != nil {
		d.errorf(yamlpath.Join(f.path, key), n.Line, "want a number, got %s", yamlpath.Describe(n))
		return 0, false
	}
	return x, true
}

func (d *decoder) sticky(n *yaml.Node, path string) *Sticky {
	s := &Sticky{}
	f := d.mapping(n, path, stickyKeys)
	if f == nil {
		return s
	}
	if d.required(f, "ttl_seconds", "(1800 to 86400)") {
		if ttl, ok := d.integer(f, "ttl_seconds"); ok {
			// Out-of-range values are Validate's to report; clamp
			// only so the conversion cannot overflow.
			s.TTL = time.Duration(max(min(ttl, math.MaxInt32), math.MinInt32)) * time.Second
		}
	}
	if d.required(f, "session_identifiers", "(at least one)") {
		items, _ := d.seq(f, "session_identifiers")
		for i, in := range items {
			p := yamlpath.Index(yamlpath.Join(path, "session_identifiers"), i)
			idf := d.mapping(in, p, sessionKeys)
			if idf == nil {
				continue
			}
			var id SessionIdentifier
			if d.required(idf, "source", "(headers or metadata)") {
				id.Source = Source(d.str(idf, "source"))
			}
			if d.required(idf, "key", "") {
				id.Key = d.str(idf, "key")
			}
			s.SessionIdentifiers = append(s.SessionIdentifiers, id)
		}
	}
	return s
}

func (d *decoder) target(n *yaml.Node, path string, typ RoutingType) target.Target {
	var t target.Target
	f := d.mapping(n, path, targetKeys)
	if f == nil {
		return t
	}
	if d.required(f, "target", "(account/model)") {
		t.Ref = d.str(f, "target")
	}
	known := typ == WeightBased || typ == PriorityBased || typ == LatencyBased
	// Go's zero values cannot say whether a key was written, so the
	// rules that depend on it are checked here, not in Validate.
	if typ == WeightBased {
		d.required(f, "weight", "for weight-based-routing")
	} else if known {
		d.forbid(f, "weight", "applies only to weight-based-routing")
	}
	if known && typ != PriorityBased {
		d.forbid(f, "priority", "applies only to priority-based-routing")
		d.forbid(f, "sla_cutoff", "applies only to priority-based-routing")
	}
	t.Weight, _ = d.integer(f, "weight")
	t.Priority, _ = d.integer(f, "priority")
	if sn := f.get("sla_cutoff"); sn != nil {
		sp := yamlpath.Join(path, "sla_cutoff")
		if sf := d.mapping(sn, sp, slaKeys); sf != nil {
			if len(sf.vals) == 0 {
				d.errorf(sp, sf.line, "set time_per_output_token_ms, time_to_first_token_ms or both")
			}
			t.SLA.TimePerOutputToken, _ = d.positive(sf, "time_per_output_token_ms", time.Millisecond)
			t.SLA.TimeToFirstToken, _ = d.positive(sf, "time_to_first_token_ms", time.Millisecond)
		}
	}
	if rn := f.get("retry_config"); rn != nil {
		if rf := d.mapping(rn, yamlpath.Join(path, "retry_config"), retryKeys); rf != nil {
			r := &target.Retry{Attempts: target.DefaultAttempts}
			if a, ok := d.integer(rf, "attempts"); ok {
				r.Attempts = a
			}
			r.Delay, _ = d.positive(rf, "delay", time.Millisecond)
			r.OnStatusCodes, _ = d.codes(rf, "on_status_codes")
			t.Retry = r
		}
	}
	t.FallbackStatusCodes, _ = d.codes(f, "fallback_status_codes")
	if ec, _ := d.strings(f, "fallback_error_codes"); len(ec) > 0 {
		t.FallbackErrorCodes = ec
	}
	if b, ok := d.boolean(f, "fallback_candidate"); ok {
		t.NoFallback = !b
	}
	if md := d.stringMap(f, "metadata_match"); len(md) > 0 {
		t.MetadataMatch = metadata.MD(md)
	}
	if hn := f.get("headers_override"); hn != nil {
		if hf := d.mapping(hn, yamlpath.Join(path, "headers_override"), headersKeys); hf != nil {
			if set := d.stringMap(hf, "set"); len(set) > 0 {
				t.Headers.Set = set
			}
			if rm, _ := d.strings(hf, "remove"); len(rm) > 0 {
				t.Headers.Remove = rm
			}
		}
	}
	if pn := f.get("override_params"); pn != nil {
		p := yamlpath.Join(path, "override_params")
		if pn.Kind != yaml.MappingNode {
			d.errorf(p, pn.Line, "want a mapping, got %s", yamlpath.Describe(pn))
		} else if v, ok := d.anyValue(pn, p, p, 0); ok {
			if m := v.(map[string]any); len(m) > 0 {
				t.Params = m
			}
		}
	}
	t.RequestTimeout, t.TTFTTimeout, t.StreamIdleTimeout = d.timeouts(f)
	return t
}

// suggest offers the known key closest to a misspelt one, as the tail of
// an error message.
func suggest(k string, known []string) string {
	if best := suggestpkg.Closest(k, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
