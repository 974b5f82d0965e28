package routing

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlread"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/target"
)

// MarshalManifest writes groups in the manifest's YAML format, one
// document per group, with every default filled in: model_types, each
// target's retry_config (attempts, delay, on_status_codes),
// fallback_status_codes and fallback_candidate, the weight of every target
// of weight-based routing and the priority of every target of
// priority-based routing, and collaborators (an empty list: the group is
// open). So it shows what a manifest means, and reading its output gives
// back the same groups.
//
// MarshalManifest writes what it is given without validating it; no
// groups give no output. It fails, with FieldErrors naming each field,
// only on values the format cannot hold: a duration that is not a whole
// number of milliseconds (a sticky TTL: of seconds), a string that is not
// valid UTF-8, or an override_params value other than nil, a string, a
// boolean, a number, or a list or string-keyed map of those.
func MarshalManifest(groups []Group) ([]byte, error) {
	var e encoder
	docs := make([]*yaml.Node, 0, len(groups))
	for _, g := range groups {
		g = normalized(g)
		e.g = g.Name
		docs = append(docs, e.group(&g))
	}
	if len(e.errs) > 0 {
		return nil, e.errs
	}
	if len(docs) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("config: writing YAML: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: writing YAML: %w", err)
	}
	return buf.Bytes(), nil
}

type encoder struct {
	g    string
	errs FieldErrors
}

func (e *encoder) fail(path, format string, args ...any) {
	e.errs = append(e.errs, &FieldError{Group: e.g, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// mapping builds a block mapping from key, value pairs; a nil value
// leaves its key out.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := kv[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		n.Content = append(n.Content, plain(kv[i].(string)), v)
	}
	return n
}

func plain(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func (e *encoder) str(path, s string) *yaml.Node {
	if !utf8.ValidString(s) {
		e.fail(path, "not valid UTF-8")
	}
	return plain(s)
}

func integer(i int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(i, 10)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// list builds a sequence, in flow style ([a, b]) when every item is a
// scalar.
func list(items []*yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items, Style: yaml.FlowStyle}
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			n.Style = 0
			break
		}
	}
	if len(items) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n
}

func (e *encoder) strs(path string, ss []string) *yaml.Node {
	items := make([]*yaml.Node, len(ss))
	for i, s := range ss {
		items[i] = e.str(yamlread.Index(path, i), s)
	}
	return list(items)
}

func codes(cs []int) *yaml.Node {
	items := make([]*yaml.Node, len(cs))
	for i, c := range cs {
		items[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strconv.Itoa(c), Style: yaml.DoubleQuotedStyle}
	}
	return list(items)
}

// ms writes d in whole units, or leaves the key out when d is 0.
func (e *encoder) ms(path string, d, unit time.Duration) *yaml.Node {
	if d == 0 {
		return nil
	}
	if d%unit != 0 {
		e.fail(path, "%v is not a whole number of %s", d, strings.TrimPrefix(unit.String(), "1"))
	}
	return integer(int64(d / unit))
}

func (e *encoder) stringMap(path string, m map[string]string) *yaml.Node {
	if len(m) == 0 {
		return nil
	}
	n := mapping()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n.Content = append(n.Content, e.str(path, k), e.str(yamlread.Join(path, k), m[k]))
	}
	return n
}

func (e *encoder) group(g *Group) *yaml.Node {
	cols := make([]*yaml.Node, len(g.Collaborators))
	for i, c := range g.Collaborators {
		p := yamlread.Index("collaborators", i)
		cols[i] = mapping("subject", e.str(p+".subject", c.Subject), "role_id", e.str(p+".role_id", string(c.Role)))
	}
	models := make([]*yaml.Node, len(g.Models))
	for i := range g.Models {
		models[i] = e.model(yamlread.Index("integrations", i), &g.Models[i])
	}
	return mapping(
		"name", e.str("name", g.Name),
		"type", plain(GroupType),
		"collaborators", list(cols),
		"integrations", list(models),
	)
}

func (e *encoder) model(p string, m *VirtualModel) *yaml.Node {
	var slug *yaml.Node
	if m.Slug != "" {
		slug = e.str(p+".slug", m.Slug)
	}
	types := make([]string, len(m.ModelTypes))
	for i, t := range m.ModelTypes {
		types[i] = string(t)
	}
	return mapping(
		"name", e.str(p+".name", m.Name),
		"type", plain(VirtualModelType),
		"slug", slug,
		"model_types", e.strs(p+".model_types", types),
		"routing_config", e.routing(p+".routing_config", &m.Routing),
	)
}

func (e *encoder) routing(p string, r *RoutingConfig) *yaml.Node {
	var sticky *yaml.Node
	if s := r.Sticky; s != nil {
		sp := p + ".sticky_routing"
		ids := make([]*yaml.Node, len(s.SessionIdentifiers))
		for i, id := range s.SessionIdentifiers {
			ip := yamlread.Index(sp+".session_identifiers", i)
			ids[i] = mapping("source", e.str(ip+".source", string(id.Source)), "key", e.str(ip+".key", id.Key))
		}
		ttl := e.ms(sp+".ttl_seconds", s.TTL, time.Second)
		if ttl == nil {
			ttl = integer(0)
		}
		sticky = mapping("ttl_seconds", ttl, "session_identifiers", list(ids))
	}
	targets := make([]*yaml.Node, len(r.Targets))
	for i := range r.Targets {
		targets[i] = e.target(yamlread.Index(p+".load_balance_targets", i), r.Type, &r.Targets[i])
	}
	return mapping(
		"type", e.str(p+".type", string(r.Type)),
		"sticky_routing", sticky,
		"request_timeout_ms", e.ms(p+".request_timeout_ms", r.RequestTimeout, time.Millisecond),
		"ttft_timeout_ms", e.ms(p+".ttft_timeout_ms", r.TTFTTimeout, time.Millisecond),
		"stream_idle_timeout_ms", e.ms(p+".stream_idle_timeout_ms", r.StreamIdleTimeout, time.Millisecond),
		"rate_limit", rateLimit(r.RateLimit),
		"retry_budget", budget(r.RetryBudget),
		"hedge", e.hedge(p+".hedge", r.Hedge),
		"load_balance_targets", list(targets),
	)
}

// rateLimit writes a rate_limit, or leaves the key out when it sets
// nothing.
func rateLimit(r target.RateLimit) *yaml.Node {
	if r.IsZero() {
		return nil
	}
	var req, tok *yaml.Node
	if r.RequestsPerMinute != 0 {
		req = integer(int64(r.RequestsPerMinute))
	}
	if r.TokensPerMinute != 0 {
		tok = integer(int64(r.TokensPerMinute))
	}
	n := mapping("requests_per_minute", req, "tokens_per_minute", tok)
	n.Style = yaml.FlowStyle
	return n
}

// budget writes a retry_budget with its defaults filled in, or leaves it
// out when it is not set.
func budget(b *RetryBudget) *yaml.Node {
	if b == nil {
		return nil
	}
	if b.Disabled {
		return mapping("disabled", boolean(true))
	}
	return mapping(
		"percent", integer(int64(cmp.Or(b.Percent, retry.DefaultBudgetPercent))),
		"min_per_second", number(cmp.Or(b.MinPerSecond, retry.DefaultBudgetMinPerSecond)),
	)
}

func (e *encoder) hedge(p string, h *Hedge) *yaml.Node {
	if h == nil {
		return nil
	}
	var pct *yaml.Node
	if h.AfterPercentile != 0 {
		pct = number(h.AfterPercentile)
	}
	return mapping(
		"after_ms", e.ms(p+".after_ms", h.After, time.Millisecond),
		"after_percentile", pct,
		"max_hedges", integer(int64(cmp.Or(h.Max, 1))),
	)
}

func number(x float64) *yaml.Node {
	tag := "!!float"
	if x == math.Trunc(x) {
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: strconv.FormatFloat(x, 'f', -1, 64)}
}

func (e *encoder) target(p string, typ RoutingType, t *target.Target) *yaml.Node {
	var weight, priority, sla, md, headers, params *yaml.Node
	if typ == WeightBased || t.Weight != 0 {
		weight = integer(int64(t.Weight))
	}
	if typ == PriorityBased || t.Priority != 0 {
		priority = integer(int64(t.Priority))
	}
	if !t.SLA.IsZero() {
		sp := p + ".sla_cutoff"
		sla = mapping(
			"time_per_output_token_ms", e.ms(sp+".time_per_output_token_ms", t.SLA.TimePerOutputToken, time.Millisecond),
			"time_to_first_token_ms", e.ms(sp+".time_to_first_token_ms", t.SLA.TimeToFirstToken, time.Millisecond),
		)
	}
	rp := p + ".retry_config"
	r := t.RetryOrDefault() // normalized: always set
	retry := mapping(
		"attempts", integer(int64(r.Attempts)),
		"delay", e.ms(rp+".delay", r.Delay, time.Millisecond),
		"on_status_codes", codes(r.OnStatusCodes),
	)
	md = e.stringMap(p+".metadata_match", t.MetadataMatch)
	if !t.Headers.IsZero() {
		hp := p + ".headers_override"
		var remove *yaml.Node
		if len(t.Headers.Remove) > 0 {
			remove = e.strs(hp+".remove", t.Headers.Remove)
		}
		headers = mapping("set", e.stringMap(hp+".set", t.Headers.Set), "remove", remove)
	}
	if len(t.Params) > 0 {
		params = e.value(p+".override_params", reflect.ValueOf(t.Params), 0)
	}
	var errorCodes *yaml.Node // none by default: the key is left out
	if len(t.FallbackErrorCodes) > 0 {
		errorCodes = e.strs(p+".fallback_error_codes", t.FallbackErrorCodes)
	}
	return mapping(
		"target", e.str(p+".target", t.Ref),
		"weight", weight,
		"priority", priority,
		"sla_cutoff", sla,
		"retry_config", retry,
		"fallback_status_codes", codes(t.FallbackCodesOrDefault()),
		"fallback_error_codes", errorCodes,
		"fallback_candidate", boolean(!t.NoFallback),
		"metadata_match", md,
		"headers_override", headers,
		"override_params", params,
		"request_timeout_ms", e.ms(p+".request_timeout_ms", t.RequestTimeout, time.Millisecond),
		"ttft_timeout_ms", e.ms(p+".ttft_timeout_ms", t.TTFTTimeout, time.Millisecond),
		"stream_idle_timeout_ms", e.ms(p+".stream_idle_timeout_ms", t.StreamIdleTimeout, time.Millisecond),
		"rate_limit", rateLimit(t.RateLimit),
	)
}

// value writes an override_params value.
func (e *encoder) value(p string, v reflect.Value, depth int) *yaml.Node {
	null := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	if depth > yamlread.MaxDepth {
		e.fail(p, "nested more than %d levels deep", yamlread.MaxDepth)
		return null
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return null
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Invalid:
		return null
	case reflect.String:
		return e.str(p, v.String())
	case reflect.Bool:
		return boolean(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return integer(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(v.Uint(), 10)}
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			e.fail(p, "%v is not a finite number", f)
			return null
		}
		s := strconv.FormatFloat(f, 'g', -1, v.Type().Bits())
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // stays a float when read back
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return null
		}
		items := make([]*yaml.Node, v.Len())
		for i := range items {
			items[i] = e.value(yamlread.Index(p, i), v.Index(i), depth+1)
		}
		return list(items)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			break
		}
		if v.IsNil() {
			return null
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		n := mapping()
		n.Style = 0
		if len(keys) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, k := range keys {
			n.Content = append(n.Content, e.str(p, k), e.value(yamlread.Join(p, k), v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), depth+1))
		}
		return n
	}
	e.fail(p, "a %s cannot be written in a manifest", v.Type())
	return null
}
