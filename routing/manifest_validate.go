package routing

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/internal/overrides"
	"github.com/llmroute/llmroute/internal/problems"
	"github.com/llmroute/llmroute/internal/yamlread"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/slug"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// FieldError is one problem in a configuration, located by the group it is
// in and the path of the field in manifest spelling, such as
// "integrations[1].routing_config.load_balance_targets[0].weight".
type FieldError struct {
	// Group is the group's name as written (may be empty or invalid).
	Group string
	// Path is the field's path within the group.
	Path string
	// Line is the field's line in the manifest, or 0 when the group was
	// not loaded from one.
	Line int
	// Msg says what is wrong.
	Msg string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Group != "" {
		b.WriteString("group ")
		b.WriteString(strconv.Quote(e.Group))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldErrors is every problem found in a configuration. Validation
// reports them all at once rather than stopping at the first; the
// message starts with "config: ".
type FieldErrors []*FieldError

func (es FieldErrors) Error() string { return problems.Text("config: ", es) }

// Unwrap exposes each problem to errors.As.
func (es FieldErrors) Unwrap() []error { return problems.Unwrap(es) }

// MaxWeight is the largest weight a target may have.
const MaxWeight = 1 << 24

// Accounts tells validation which provider accounts exist and what they
// serve. A nil Accounts means the accounts are not known: validation then
// skips the checks that need them (a target's account is registered and
// can serve the virtual model's model types). An empty, non-nil Accounts
// means no account is registered.
type Accounts map[string]providers.Provider

// ValidateGroups checks groups against every rule of names,
// collaborators and routing_config (see docs/behaviour.md) and returns
// all problems as FieldErrors, or nil. accounts are the registered
// provider accounts (see Accounts for nil); known are virtual model names
// ("group/model") and slugs that already exist outside groups (a Client's
// other groups), which the groups' slugs must not collide with and their
// targets must not name. New, SetGroup and ApplyManifest apply the same
// rules with the Client's accounts and groups.
//
// The rules that depend on whether a manifest key was written at all,
// which Go values cannot tell, are LoadManifest's; weight is the one to
// mind in Go: a weight-based target without one has weight 0 ("never
// first").
func ValidateGroups(groups []Group, accounts Accounts, known map[string]bool) error {
	if errs := validate(groups, accounts, known, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

// validate is ValidateGroups with, optionally, the lines of each group's
// fields (parallel to groups) to locate the problems.
func validate(groups []Group, accounts Accounts, known map[string]bool, lines []*yamlread.Lines) FieldErrors {
	v := validator{accounts: accounts, names: map[string]string{}, groups: map[string]bool{}, slugs: map[string]string{}}
	for k := range known {
		v.names[k] = "an existing virtual model"
	}
	// First pass: names, so targets can be checked against every
	// virtual model in the set, wherever it is declared.
	for gi := range groups {
		g := &groups[gi]
		for mi := range g.Models {
			m := &g.Models[mi]
			v.names[g.Name+"/"+m.Name] = "virtual model"
		}
	}
	for gi := range groups {
		v.lines = nil
		if gi < len(lines) {
			v.lines = lines[gi]
		}
		v.group(&groups[gi])
	}
	return v.errs
}

type validator struct {
	accounts Accounts
	names    map[string]string // group/model and slugs seen
	groups   map[string]bool
	slugs    map[string]string
	errs     FieldErrors
	g        string
	lines    *yamlread.Lines // the current group's, or nil
}

// add reports a problem at path, unless what is there could not be read
// from the manifest: that was reported already, and the value checked is
// not what was written.
func (v *validator) add(path, format string, args ...any) {
	if v.lines.Failed(path) {
		return
	}
	v.errs = append(v.errs, &FieldError{Group: v.g, Path: path, Line: v.lines.Line(path), Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) group(g *Group) {
	v.g = g.Name
	if err := slug.ValidName(g.Name); err != nil {
		v.add("name", "%v", trim(err))
	}
	if v.groups[g.Name] {
		v.add("name", "duplicate group name %q", g.Name)
	}
	v.groups[g.Name] = true
	seen := map[string]bool{}
	for i, c := range g.Collaborators {
		p := fmt.Sprintf("collaborators[%d]", i)
		kind, name, ok := strings.Cut(c.Subject, ":")
		switch {
		case !ok || name == "":
			v.add(p+".subject", "%q must look like user:<email>, team:<name> or virtualaccount:<name>", yamlread.Clip(c.Subject))
		case kind != "user" && kind != "team" && kind != "virtualaccount":
			v.add(p+".subject", "unknown subject kind %q (want user, team or virtualaccount)", yamlread.Clip(kind))
		}
		if c.Role != RoleUser && c.Role != RoleManager {
			v.add(p+".role_id", "unknown role %q (want %s or %s)", yamlread.Clip(string(c.Role)), RoleUser, RoleManager)
		}
		if seen[c.Subject] {
			v.add(p+".subject", "duplicate collaborator %q", yamlread.Clip(c.Subject))
		}
		seen[c.Subject] = true
	}
	models := map[string]bool{}
	for i := range g.Models {
		v.model(fmt.Sprintf("integrations[%d]", i), g, &g.Models[i], models)
	}
}

func (v *validator) model(p string, g *Group, m *VirtualModel, models map[string]bool) {
	if err := slug.ValidName(m.Name); err != nil {
		v.add(p+".name", "%v", trim(err))
	}
	if models[m.Name] {
		v.add(p+".name", "duplicate virtual model name %q", m.Name)
	}
	models[m.Name] = true
	if m.Slug != "" {
		if err := slug.ValidSlug(m.Slug); err != nil {
			v.add(p+".slug", "%v", trim(err))
		} else if what, dup := v.slugOwner(m.Slug, g.Name); dup {
			v.add(p+".slug", "slug %q %s", m.Slug, what)
		} else {
			v.slugs[m.Slug] = g.Name + "/" + m.Name
		}
	}
	var ops []providers.Operation
	typesSeen := map[ModelType]bool{}
	for i, t := range m.ModelTypes {
		op, ok := providers.ParseOperation(string(t))
		if !ok {
			v.add(fmt.Sprintf("%s.model_types[%d]", p, i), "unknown model type %q (want chat, completion or embedding)", yamlread.Clip(string(t)))
			continue
		}
		if typesSeen[t] {
			v.add(fmt.Sprintf("%s.model_types[%d]", p, i), "duplicate model type %q", t)
		}
		typesSeen[t] = true
		ops = append(ops, op)
	}
	if len(m.ModelTypes) == 0 {
		ops = []providers.Operation{providers.OpChat}
	}
	v.routing(p+".routing_config", &m.Routing, ops)
}

// slugOwner says who holds slug s, if anyone. The holder is named only
// when it is in group g, whose author is the one reading the problem:
// another group may be closed to them, and its contents are not theirs
// to learn.
func (v *validator) slugOwner(s, g string) (string, bool) {
	if owner, ok := v.slugs[s]; ok {
		if grp, _, _ := strings.Cut(owner, "/"); grp == g {
			return "collides with the slug of " + owner, true
		}
		return "is already taken by another group", true
	}
	if _, ok := v.names[s]; ok {
		return "is already taken", true
	}
	return "", false
}

func (v *validator) routing(p string, r *RoutingConfig, ops []providers.Operation) {
	switch r.Type {
	case WeightBased, LatencyBased, PriorityBased:
	case "":
		v.add(p+".type", "required (weight-based-routing, latency-based-routing or priority-based-routing)")
	default:
		v.add(p+".type", "unknown routing type %q (want weight-based-routing, latency-based-routing or priority-based-routing)", yamlread.Clip(string(r.Type)))
	}
	if r.Sticky != nil {
		sp := p + ".sticky_routing"
		if r.Type == LatencyBased || r.Type == PriorityBased { // an invalid type is reported on its own
			v.add(sp, "applies only to weight-based-routing")
		}
		if r.Sticky.TTL < MinStickyTTL || r.Sticky.TTL > MaxStickyTTL {
			v.add(sp+".ttl_seconds", "%d is out of range %d..%d", int64(r.Sticky.TTL.Seconds()), int(MinStickyTTL.Seconds()), int(MaxStickyTTL.Seconds()))
		}
		if len(r.Sticky.SessionIdentifiers) == 0 && v.lines.Clean(sp+".session_identifiers") {
			v.add(sp+".session_identifiers", "at least one session identifier is required")
		}
		ids := map[SessionIdentifier]bool{}
		for i, id := range r.Sticky.SessionIdentifiers {
			ip := fmt.Sprintf("%s.session_identifiers[%d]", sp, i)
			switch id.Source {
			case FromHeaders:
				if !httpheader.ValidName(id.Key) {
					v.add(ip+".key", "%q is not a valid header name", yamlread.Clip(id.Key))
				}
				id.Key = http.CanonicalHeaderKey(id.Key)
			case FromMetadata:
				if id.Key == "" {
					v.add(ip+".key", "required")
				} else if n := utf8.RuneCountInString(id.Key); n > metadata.MaxKeyLen {
					v.add(ip+".key", "metadata key of %d characters, at most %d", n, metadata.MaxKeyLen)
				}
			default:
				v.add(ip+".source", "unknown source %q (want headers or metadata)", yamlread.Clip(string(id.Source)))
			}
			if ids[id] {
				v.add(ip, "duplicate session identifier %s %q", id.Source, yamlread.Clip(id.Key))
			}
			ids[id] = true
		}
	}
	v.duration(p+".request_timeout_ms", r.RequestTimeout)
	v.duration(p+".ttft_timeout_ms", r.TTFTTimeout)
	v.duration(p+".stream_idle_timeout_ms", r.StreamIdleTimeout)
	v.rateLimit(p+".rate_limit", r.RateLimit)
	if b := r.RetryBudget; b != nil {
		bp := p + ".retry_budget"
		if b.Percent < 0 || b.Percent > 100 {
			v.add(bp+".percent", "must be 1 to 100, got %d", b.Percent)
		}
		if b.MinPerSecond < 0 || math.IsNaN(b.MinPerSecond) || math.IsInf(b.MinPerSecond, 0) {
			v.add(bp+".min_per_second", "must be a positive number, got %v", b.MinPerSecond)
		}
	}
	if h := r.Hedge; h != nil {
		hp := p + ".hedge"
		v.duration(hp+".after_ms", h.After)
		switch {
		case h.AfterPercentile != 0 && (h.AfterPercentile < 50 || h.AfterPercentile > 99.9 || math.IsNaN(h.AfterPercentile)):
			v.add(hp+".after_percentile", "must be 50 to 99.9, got %v", h.AfterPercentile)
		case h.After == 0 && h.AfterPercentile == 0 && v.lines.Clean(hp+".after_ms") && v.lines.Clean(hp+".after_percentile"):
			v.add(hp, "set after_ms or after_percentile (or both: after_ms then serves until the percentile has samples)")
		}
		if h.Max < 0 || h.Max > strategy.MaxTargets {
			v.add(hp+".max_hedges", "must be 1 to %d, got %d", strategy.MaxTargets, h.Max)
		}
	}
	tp := p + ".load_balance_targets"
	switch {
	case len(r.Targets) == 0:
		v.add(tp, "at least one target is required")
	case len(r.Targets) > strategy.MaxTargets:
		v.add(tp, "%d targets, at most %d allowed", len(r.Targets), strategy.MaxTargets)
	}
	refs := map[string]bool{}
	positive, read := false, true
	for i := range r.Targets {
		t := &r.Targets[i]
		p := fmt.Sprintf("%s[%d]", tp, i)
		v.target(p, r.Type, t, ops, refs)
		positive = positive || t.Weight > 0
		read = read && v.lines.Clean(p+".weight")
	}
	if r.Type == WeightBased && len(r.Targets) > 0 && !positive && read {
		v.add(tp, "weight-based-routing needs at least one target with a positive weight")
	}
}

func (v *validator) target(p string, typ RoutingType, t *target.Target, ops []providers.Operation, refs map[string]bool) {
	ref, err := slug.ParseRef(t.Ref)
	switch {
	case err != nil:
		v.add(p+".target", "%v", trim(err))
	case v.names[t.Ref] != "" && ref.Account == v.g:
		v.add(p+".target", "%q is a virtual model of this group; a target must be a real model (account/model)", t.Ref)
	case v.accounts == nil:
		// The accounts are not known, so the groups are checked on
		// their own (one manifest, say): naming one of their virtual
		// models tells the reader nothing new.
		if v.names[t.Ref] == "virtual model" {
			v.add(p+".target", "%q is a virtual model; a target must be a real model (account/model)", t.Ref)
		}
	default:
		// An unknown account is reported as such even when the target
		// names a virtual model of another group, so that the problem
		// does not tell whether that model exists.
		prov, ok := v.accounts[ref.Account]
		if !ok {
			v.add(p+".target", "unknown provider account %q (register it with routing.WithProvider)", yamlread.Clip(ref.Account))
			break
		}
		if v.names[t.Ref] != "" {
			v.add(p+".target", "%q is a virtual model; a target must be a real model (account/model)", t.Ref)
			break
		}
		for _, op := range ops {
			if !providers.Supports(prov, op) {
				v.add(p+".target", "provider account %q cannot serve model type %q", ref.Account, op)
			}
		}
	}
	if refs[t.Ref] {
		v.add(p+".target", "duplicate target %q", yamlread.Clip(t.Ref))
	}
	refs[t.Ref] = true
	// The rules of one routing type are checked only when the type is
	// valid; an invalid one is reported once, on its own field.
	known := typ == WeightBased || typ == LatencyBased || typ == PriorityBased
	if t.Weight < 0 || t.Weight > MaxWeight {
		v.add(p+".weight", "must be 0..%d, got %d", MaxWeight, t.Weight)
	}
	if t.Weight != 0 && typ != WeightBased && known {
		v.add(p+".weight", "applies only to weight-based-routing")
	}
	if t.Priority < 0 {
		v.add(p+".priority", "must be 0 or more, got %d", t.Priority)
	}
	if t.Priority != 0 && typ != PriorityBased && known {
		v.add(p+".priority", "applies only to priority-based-routing")
	}
	if !t.SLA.IsZero() {
		if typ != PriorityBased && known {
			v.add(p+".sla_cutoff", "applies only to priority-based-routing")
		}
		v.duration(p+".sla_cutoff.time_per_output_token_ms", t.SLA.TimePerOutputToken)
		v.duration(p+".sla_cutoff.time_to_first_token_ms", t.SLA.TimeToFirstToken)
	}
	if t.Retry != nil {
		rp := p + ".retry_config"
		if t.Retry.Attempts < 0 || t.Retry.Attempts > 10 {
			v.add(rp+".attempts", "must be 0..10, got %d", t.Retry.Attempts)
		}
		v.duration(rp+".delay", t.Retry.Delay)
		v.codes(rp+".on_status_codes", t.Retry.OnStatusCodes)
	}
	v.codes(p+".fallback_status_codes", t.FallbackStatusCodes)
	for i, code := range t.FallbackErrorCodes {
		if code == "" || strings.ContainsFunc(code, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			v.add(fmt.Sprintf("%s.fallback_error_codes[%d]", p, i), "%q is not a provider error code (no spaces or control characters)", yamlread.Clip(code))
		}
	}
	mp := p + ".metadata_match"
	if len(t.MetadataMatch) > metadata.MaxKeys {
		v.add(mp, "%d keys, at most %d", len(t.MetadataMatch), metadata.MaxKeys)
	}
	for _, k := range slices.Sorted(maps.Keys(t.MetadataMatch)) {
		switch n := utf8.RuneCountInString(k); {
		case n == 0:
			v.add(mp, "empty key")
		case n > metadata.MaxKeyLen:
			v.add(mp, "key %q is longer than %d characters", yamlread.Clip(k), metadata.MaxKeyLen)
		case utf8.RuneCountInString(t.MetadataMatch[k]) > metadata.MaxValueLen:
			v.add(yamlread.Join(mp, k), "value longer than %d characters", metadata.MaxValueLen)
		}
	}
	hp := p + ".headers_override"
	canon := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(t.Headers.Set)) {
		switch {
		case !httpheader.ValidName(k):
			v.add(hp+".set", "%q is not a valid header name", yamlread.Clip(k))
		case !httpheader.ValidValue(t.Headers.Set[k]):
			v.add(yamlread.Join(hp+".set", k), "value contains a control character (CR, LF or NUL)")
		case canon[http.CanonicalHeaderKey(k)] != "":
			v.add(yamlread.Join(hp+".set", k), "same header as %q (header names ignore case)", canon[http.CanonicalHeaderKey(k)])
		default:
			canon[http.CanonicalHeaderKey(k)] = k
		}
	}
	for i, k := range t.Headers.Remove {
		if !httpheader.ValidName(k) {
			v.add(fmt.Sprintf("%s.remove[%d]", hp, i), "%q is not a valid header name", yamlread.Clip(k))
		}
	}
	v.params(p+".override_params", t.Params)
	v.duration(p+".request_timeout_ms", t.RequestTimeout)
	v.duration(p+".ttft_timeout_ms", t.TTFTTimeout)
	v.duration(p+".stream_idle_timeout_ms", t.StreamIdleTimeout)
	v.rateLimit(p+".rate_limit", t.RateLimit)
}

// MaxRateLimit is the largest budget a rate_limit may set.
const MaxRateLimit = 1 << 40

func (v *validator) rateLimit(p string, r target.RateLimit) {
	for _, b := range []struct {
		key string
		n   int
	}{{"requests_per_minute", r.RequestsPerMinute}, {"tokens_per_minute", r.TokensPerMinute}} {
		if b.n < 0 || b.n > MaxRateLimit {
			v.add(p+"."+b.key, "must be 0..%d, got %d", MaxRateLimit, b.n)
		}
	}
}

// params checks override_params as routing will send them: the keys set
// on a field of the typed request must have that field's type, and every
// other value must be sendable as JSON (one table, internal/overrides).
func (v *validator) params(p string, params map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if err := overrides.Check(k, params[k]); err != nil {
			if k == "" {
				v.add(p, "%v", err)
			} else {
				v.add(yamlread.Join(p, k), "%v", err)
			}
		}
	}
}

// duration checks a delay or timeout of a group built in Go (a manifest's
// must be positive, which LoadManifest checks). The value is shown with its unit,
// since a Go caller wrote a time.Duration, not milliseconds.
func (v *validator) duration(p string, d time.Duration) {
	if d < 0 {
		v.add(p, "must not be negative, got %v", d)
	}
}

func (v *validator) codes(p string, codes []int) {
	for i, c := range codes {
		if c < 100 || c > 599 {
			v.add(fmt.Sprintf("%s[%d]", p, i), "%d is not an HTTP status code", c)
		}
	}
}

// trim drops a package prefix such as "slug: " from an error's text.
func trim(err error) string {
	s := err.Error()
	if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(s, "slug:") {
		return rest
	}
	return s
}

// GroupWarnings returns what is allowed but probably a mistake, located
// as ValidateGroups' problems are: for now, weights of a weight-based
// virtual model that do not sum to 100 (they are relative shares, so
// routing works all the same). Only the catch-all targets, those without
// metadata_match, are summed: they are the pool most requests draw from,
// while targets with metadata_match form pools of their own. A Client
// reports them to its observers as EventConfigWarning.
func GroupWarnings(groups []Group) []*FieldError {
	var ws []*FieldError
	for _, g := range groups {
		for mi, m := range g.Models {
			if m.Routing.Type != WeightBased {
				continue
			}
			sum, n := 0, 0
			for _, t := range m.Routing.Targets {
				if len(t.MetadataMatch) == 0 {
					sum += max(min(t.Weight, MaxWeight), 0)
					n++
				}
			}
			if n > 0 && sum != 100 {
				ws = append(ws, &FieldError{
					Group: g.Name,
					Path:  fmt.Sprintf("integrations[%d].routing_config.load_balance_targets", mi),
					Msg:   fmt.Sprintf("weights sum to %d, not 100; they are taken as relative shares", sum),
				})
			}
		}
	}
	return ws
}
