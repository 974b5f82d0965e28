package routing

import (
	"math"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
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
	routingKeys      = append([]string{"type", "sticky_routing", "load_balance_targets", "retry_budget", "hedge", "rate_limit"}, timeoutKeys...)
	budgetKeys       = []string{"disabled", "percent", "min_per_second"}
	hedgeKeys        = []string{"after_ms", "after_percentile", "max_hedges"}
	stickyKeys       = []string{"ttl_seconds", "session_identifiers"}
	sessionKeys      = []string{"source", "key"}
	targetKeys       = append([]string{"target", "weight", "priority", "sla_cutoff", "retry_config",
		"fallback_status_codes", "fallback_error_codes", "fallback_candidate", "metadata_match", "headers_override",
		"override_params", "rate_limit"}, timeoutKeys...)
	slaKeys     = []string{"time_per_output_token_ms", "time_to_first_token_ms"}
	retryKeys   = []string{"attempts", "delay", "on_status_codes"}
	headersKeys = []string{"set", "remove"}
	limitKeys   = []string{"requests_per_minute", "tokens_per_minute"}
)

// decoder turns the node trees of a manifest's documents into Groups,
// reporting every problem of syntax and presence it meets and recording
// the line of each path it visits (in the Reader's Lines, one table per
// group).
type decoder struct {
	*yamlread.Reader
	errs  FieldErrors
	gname string // the current group's name, for errors
}

func newDecoder(budget int) *decoder {
	d := &decoder{}
	d.Reader = yamlread.New("manifest", budget, func(path string, line int, msg string) {
		d.errs = append(d.errs, &FieldError{Group: d.gname, Path: path, Line: line, Msg: msg})
	})
	return d
}

// fields is one mapping of the manifest, checked against its known keys.
type fields = yamlread.Mapping

// required reports a problem when key is absent or null.
func (d *decoder) required(f *fields, key, why string) bool {
	if f.Get(key) != nil {
		return true
	}
	if why == "" {
		d.Errorf(yamlread.Join(f.Path, key), f.Line, "required")
	} else {
		d.Errorf(yamlread.Join(f.Path, key), f.Line, "required %s", why)
	}
	return false
}

// forbid reports a problem when key is present.
func (d *decoder) forbid(f *fields, key, why string) {
	if e := f.Entry(key); e != nil {
		d.Errorf(e.Path, e.Line, "%s", why)
	}
}

// seq returns the items of the list at key (aliases resolved), recording
// their lines; nil when the key is absent or not a list.
func (d *decoder) seq(f *fields, key string) (items []*yaml.Node, ok bool) {
	n := f.Get(key)
	if n == nil {
		return nil, false
	}
	return d.Seq(n, yamlread.Join(f.Path, key))
}

// text returns the string at n; path names it in errors.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.Errorf(path, n.Line, "want a string, got %s", yamlread.Describe(n))
		return "", false
	}
	return n.Value, true
}

// str returns the string at key, "" when absent.
func (d *decoder) str(f *fields, key string) string {
	n := f.Get(key)
	if n == nil {
		return ""
	}
	s, _ := d.text(n, yamlread.Join(f.Path, key))
	return s
}

// scalarText returns a scalar as written: a string, or a number or
// boolean taken as its text (metadata values, header values).
func (d *decoder) scalarText(n *yaml.Node, path string) (string, bool) {
	if yamlread.IsText(n) {
		return n.Value, true
	}
	d.Errorf(path, n.Line, "want a string, got %s", yamlread.Describe(n))
	return "", false
}

// integer returns the integer at key.
func (d *decoder) integer(f *fields, key string) (int, bool) {
	n := f.Get(key)
	if n == nil {
		return 0, false
	}
	return d.intValue(n, yamlread.Join(f.Path, key))
}

func (d *decoder) intValue(n *yaml.Node, path string) (int, bool) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.Errorf(path, n.Line, "want an integer, got %s", yamlread.Describe(n))
		return 0, false
	}
	if err := n.Decode(&i); err != nil || i < math.MinInt || i > math.MaxInt {
		d.Errorf(path, n.Line, "integer %s out of range", yamlread.Clip(n.Value))
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
		d.Errorf(yamlread.Join(f.Path, key), f.Get(key).Line, "must be positive, got %d", i)
		return 0, false
	case int64(i) > math.MaxInt64/int64(unit):
		d.Errorf(yamlread.Join(f.Path, key), f.Get(key).Line, "%d is too large", i)
		return 0, false
	}
	return time.Duration(i) * unit, true
}

func (d *decoder) boolean(f *fields, key string) (bool, bool) {
	n := f.Get(key)
	if n == nil {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.Errorf(yamlread.Join(f.Path, key), n.Line, "want true or false, got %s", yamlread.Describe(n))
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
		p := yamlread.Index(yamlread.Join(f.Path, key), i)
		var c int
		switch {
		case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
			v, err := strconv.Atoi(n.Value)
			if err != nil || v < 100 || v > 599 || strings.TrimLeft(n.Value, "0123456789") != "" {
				d.Errorf(p, n.Line, "%q is not an HTTP status code", yamlread.Clip(n.Value))
				continue
			}
			c = v
		case n.Kind == yaml.ScalarNode && n.Tag == "!!int":
			v, ok := d.intValue(n, p)
			if !ok {
				continue
			}
			if v < 100 || v > 599 {
				d.Errorf(p, n.Line, "%d is not an HTTP status code", v)
				continue
			}
			c = v
		default:
			d.Errorf(p, n.Line, "want an HTTP status code such as \"429\", got %s", yamlread.Describe(n))
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
		if s, ok := d.text(n, yamlread.Index(yamlread.Join(f.Path, key), i)); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// stringMap returns the mapping of strings at key; keys and values may be
// written as numbers or booleans and are taken as their text.
func (d *decoder) stringMap(f *fields, key string) map[string]string {
	n := f.Get(key)
	if n == nil {
		return nil
	}
	m := d.Mapping(n, yamlread.Join(f.Path, key), nil)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m.Entries))
	for _, e := range m.Entries {
		if e.Val == nil {
			d.Errorf(e.Path, e.Line, "want a string, got null")
			continue
		}
		if v, ok := d.scalarText(e.Val, e.Path); ok {
			out[e.Key] = v
		}
	}
	return out
}

// anyValue converts override_params values: integers become int, other
// numbers float64, lists []any and mappings map[string]any; ok is false
// when any part of the value has a problem.
// root is the path of the override_params key the value is under, where
// a value nested too deeply is reported.
func (d *decoder) anyValue(n *yaml.Node, path, root string, depth int) (v any, ok bool) {
	before := d.Problems()
	v = d.value(n, path, root, depth)
	return v, d.Problems() == before && !d.Spent()
}

func (d *decoder) value(n *yaml.Node, path, root string, depth int) any {
	if n = d.Resolve(n); n == nil {
		return nil
	}
	if depth > yamlread.MaxDepth {
		d.Errorf(root, n.Line, "nested more than %d levels deep", yamlread.MaxDepth)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		mp := d.Mapping(n, path, nil)
		if mp == nil {
			return nil
		}
		m := make(map[string]any, len(mp.Entries))
		for _, e := range mp.Entries {
			if depth == 0 {
				root = e.Path
			}
			m[e.Key] = nil
			if e.Val != nil {
				m[e.Key] = d.value(e.Val, e.Path, root, depth+1)
			}
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = d.value(c, yamlread.Index(path, i), root, depth+1)
		}
		return l
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp":
			return n.Value
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!int":
			i, _ := d.intValue(n, path)
			return i
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
			d.Errorf(path, n.Line, "%s is not a finite number", yamlread.Clip(n.Value))
			return nil
		}
	}
	d.Errorf(path, n.Line, "unsupported value: %s", yamlread.Describe(n))
	return nil
}

// group decodes one group document.
func (d *decoder) group(n *yaml.Node) Group {
	var g Group
	d.gname = peekName(n)
	f := d.Mapping(n, "", groupKeys)
	if f == nil {
		return g
	}
	if d.required(f, "name", "") {
		g.Name = d.str(f, "name")
	}
	d.docType(f, GroupType)
	if items, ok := d.seq(f, "collaborators"); ok {
		for i, c := range items {
			p := yamlread.Index("collaborators", i)
			cf := d.Mapping(c, p, collaboratorKeys)
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
			g.Models = append(g.Models, d.model(m, yamlread.Index("integrations", i)))
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
		d.Errorf(yamlread.Join(f.Path, "type"), f.Get("type").Line, "unsupported type %q (want %s)", yamlread.Clip(s), want)
	}
}

func (d *decoder) model(n *yaml.Node, path string) VirtualModel {
	var m VirtualModel
	f := d.Mapping(n, path, modelKeys)
	if f == nil {
		return m
	}
	if d.required(f, "name", "") {
		m.Name = d.str(f, "name")
	}
	d.docType(f, VirtualModelType)
	if n := f.Get("slug"); n != nil {
		if s, ok := d.text(n, yamlread.Join(path, "slug")); ok && s == "" {
			d.Errorf(yamlread.Join(path, "slug"), n.Line, "empty; leave the key out for no slug")
		} else {
			m.Slug = s
		}
	}
	if n := f.Get("model_types"); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.Errorf(yamlread.Join(path, "model_types"), n.Line, "empty; leave the key out for the default [chat]")
	}
	types, _ := d.strings(f, "model_types")
	for _, t := range types {
		m.ModelTypes = append(m.ModelTypes, ModelType(t))
	}
	if d.required(f, "routing_config", "") {
		m.Routing = d.routing(f.Get("routing_config"), yamlread.Join(path, "routing_config"))
	}
	return m
}

func (d *decoder) routing(n *yaml.Node, path string) RoutingConfig {
	var r RoutingConfig
	f := d.Mapping(n, path, routingKeys)
	if f == nil {
		return r
	}
	if d.required(f, "type", "(weight-based-routing, latency-based-routing or priority-based-routing)") {
		r.Type = RoutingType(d.str(f, "type"))
	}
	if sn := f.Get("sticky_routing"); sn != nil {
		r.Sticky = d.sticky(sn, yamlread.Join(path, "sticky_routing"))
	}
	r.RequestTimeout, r.TTFTTimeout, r.StreamIdleTimeout = d.timeouts(f)
	r.RateLimit = d.rateLimit(f)
	if n := f.Get("retry_budget"); n != nil {
		r.RetryBudget = d.retryBudget(n, yamlread.Join(path, "retry_budget"))
	}
	if n := f.Get("hedge"); n != nil {
		r.Hedge = d.hedge(n, yamlread.Join(path, "hedge"))
	}
	if d.required(f, "load_balance_targets", "(at least one target)") {
		items, _ := d.seq(f, "load_balance_targets")
		for i, tn := range items {
			r.Targets = append(r.Targets, d.target(tn, yamlread.Index(yamlread.Join(path, "load_balance_targets"), i), r.Type))
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

// rateLimit reads the rate_limit at f, if any: at least one of its
// budgets, each a positive whole number.
func (d *decoder) rateLimit(f *fields) target.RateLimit {
	var r target.RateLimit
	n := f.Get("rate_limit")
	if n == nil {
		return r
	}
	p := yamlread.Join(f.Path, "rate_limit")
	lf := d.Mapping(n, p, limitKeys)
	if lf == nil {
		return r
	}
	if lf.Get("requests_per_minute") == nil && lf.Get("tokens_per_minute") == nil {
		d.Errorf(p, lf.Line, "set requests_per_minute, tokens_per_minute or both")
	}
	for _, k := range limitKeys {
		v, ok := d.integer(lf, k)
		if !ok {
			continue
		}
		if v <= 0 {
			d.Errorf(yamlread.Join(p, k), lf.Get(k).Line, "must be positive, got %d", v)
			continue
		}
		if k == "requests_per_minute" {
			r.RequestsPerMinute = v
		} else {
			r.TokensPerMinute = v
		}
	}
	return r
}

func (d *decoder) retryBudget(n *yaml.Node, path string) *RetryBudget {
	b := &RetryBudget{}
	f := d.Mapping(n, path, budgetKeys)
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
	f := d.Mapping(n, path, hedgeKeys)
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
	n := f.Get(key)
	if n == nil {
		return 0, false
	}
	var x float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&x) != nil {
		d.Errorf(yamlread.Join(f.Path, key), n.Line, "want a number, got %s", yamlread.Describe(n))
		return 0, false
	}
	return x, true
}

func (d *decoder) sticky(n *yaml.Node, path string) *Sticky {
	s := &Sticky{}
	f := d.Mapping(n, path, stickyKeys)
	if f == nil {
		return s
	}
	if d.required(f, "ttl_seconds", "(1800 to 86400)") {
		if ttl, ok := d.integer(f, "ttl_seconds"); ok {
			// Out-of-range values are ValidateGroups' to report; clamp
			// only so the conversion cannot overflow.
			s.TTL = time.Duration(max(min(ttl, math.MaxInt32), math.MinInt32)) * time.Second
		}
	}
	if d.required(f, "session_identifiers", "(at least one)") {
		items, _ := d.seq(f, "session_identifiers")
		for i, in := range items {
			p := yamlread.Index(yamlread.Join(path, "session_identifiers"), i)
			idf := d.Mapping(in, p, sessionKeys)
			if idf == nil {
				continue
			}
			var id SessionIdentifier
			if d.required(idf, "source", "(headers or metadata)") {
				id.Source = SessionSource(d.str(idf, "source"))
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
	f := d.Mapping(n, path, targetKeys)
	if f == nil {
		return t
	}
	if d.required(f, "target", "(account/model)") {
		t.Ref = d.str(f, "target")
	}
	known := typ == WeightBased || typ == PriorityBased || typ == LatencyBased
	// Go's zero values cannot say whether a key was written, so the
	// rules that depend on it are checked here, not in ValidateGroups.
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
	if sn := f.Get("sla_cutoff"); sn != nil {
		sp := yamlread.Join(path, "sla_cutoff")
		if sf := d.Mapping(sn, sp, slaKeys); sf != nil {
			if sf.Get("time_per_output_token_ms") == nil && sf.Get("time_to_first_token_ms") == nil {
				d.Errorf(sp, sf.Line, "set time_per_output_token_ms, time_to_first_token_ms or both")
			}
			t.SLA.TimePerOutputToken, _ = d.positive(sf, "time_per_output_token_ms", time.Millisecond)
			t.SLA.TimeToFirstToken, _ = d.positive(sf, "time_to_first_token_ms", time.Millisecond)
		}
	}
	if rn := f.Get("retry_config"); rn != nil {
		if rf := d.Mapping(rn, yamlread.Join(path, "retry_config"), retryKeys); rf != nil {
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
	if hn := f.Get("headers_override"); hn != nil {
		if hf := d.Mapping(hn, yamlread.Join(path, "headers_override"), headersKeys); hf != nil {
			if set := d.stringMap(hf, "set"); len(set) > 0 {
				t.Headers.Set = set
			}
			if rm, _ := d.strings(hf, "remove"); len(rm) > 0 {
				t.Headers.Remove = rm
			}
		}
	}
	if pn := f.Get("override_params"); pn != nil {
		p := yamlread.Join(path, "override_params")
		if pn.Kind != yaml.MappingNode {
			d.Errorf(p, pn.Line, "want a mapping, got %s", yamlread.Describe(pn))
		} else if v, ok := d.anyValue(pn, p, p, 0); ok {
			if m := v.(map[string]any); len(m) > 0 {
				t.Params = m
			}
		}
	}
	t.RequestTimeout, t.TTFTTimeout, t.StreamIdleTimeout = d.timeouts(f)
	t.RateLimit = d.rateLimit(f)
	return t
}
