package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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

// Errors is every problem found in a configuration. Validation reports
// them all at once rather than stopping at the first.
type Errors []*FieldError

func (es Errors) Error() string {
	if len(es) == 1 {
		return "config: " + es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each problem to errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Accounts tells validation which provider accounts exist and what they
// serve.
type Accounts map[string]providers.Provider

// Validate checks groups against every rule of SPEC §1–§3 and returns all
// problems as Errors, or nil. accounts are the registered provider
// accounts; known are virtual model names ("group/model") and slugs that
// already exist outside groups (a Client's other groups), which the
// groups' slugs must not collide with and their targets must not name.
func Validate(groups []Group, accounts Accounts, known map[string]bool) error {
	v := validator{accounts: accounts, names: map[string]string{}, groups: map[string]bool{}}
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
		v.group(&groups[gi])
	}
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

type validator struct {
	accounts Accounts
	names    map[string]string // group/model and slugs seen
	groups   map[string]bool
	slugs    map[string]string
	errs     Errors
	g        string
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Group: v.g, Path: path, Msg: fmt.Sprintf(format, args...)})
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
			v.add(p+".subject", "%q must look like user:<email>, team:<name> or virtualaccount:<name>", clip(c.Subject))
		case kind != "user" && kind != "team" && kind != "virtualaccount":
			v.add(p+".subject", "unknown subject kind %q (want user, team or virtualaccount)", clip(kind))
		}
		if c.Role != RoleUser && c.Role != RoleManager {
			v.add(p+".role_id", "unknown role %q (want %s or %s)", clip(string(c.Role)), RoleUser, RoleManager)
		}
		if seen[c.Subject] {
			v.add(p+".subject", "duplicate collaborator %q", clip(c.Subject))
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
		} else if what, dup := v.slugOwner(m.Slug); dup {
			v.add(p+".slug", "slug %q collides with %s", m.Slug, what)
		} else {
			v.slugs[m.Slug] = g.Name + "/" + m.Name
		}
	}
	var ops []providers.Operation
	typesSeen := map[ModelType]bool{}
	for i, t := range m.ModelTypes {
		op, ok := providers.ParseOperation(string(t))
		if !ok {
			v.add(fmt.Sprintf("%s.model_types[%d]", p, i), "unknown model type %q (want chat, completion or embedding)", clip(string(t)))
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

func (v *validator) slugOwner(s string) (string, bool) {
	if v.slugs == nil {
		v.slugs = map[string]string{}
	}
	if owner, ok := v.slugs[s]; ok {
		return "the slug of " + owner, true
	}
	if what, ok := v.names[s]; ok {
		return what + " " + strconv.Quote(s), true
	}
	return "", false
}

func (v *validator) routing(p string, r *Routing, ops []providers.Operation) {
	switch r.Type {
	case WeightBased, LatencyBased, PriorityBased:
	case "":
		v.add(p+".type", "required (weight-based-routing, latency-based-routing or priority-based-routing)")
	default:
		v.add(p+".type", "unknown routing type %q (want weight-based-routing, latency-based-routing or priority-based-routing)", clip(string(r.Type)))
	}
	if r.Sticky != nil {
		sp := p + ".sticky_routing"
		if r.Type != WeightBased {
			v.add(sp, "applies only to weight-based-routing")
		}
		if r.Sticky.TTL < MinStickyTTL || r.Sticky.TTL > MaxStickyTTL {
			v.add(sp+".ttl_seconds", "%d is out of range %d..%d", int64(r.Sticky.TTL.Seconds()), int(MinStickyTTL.Seconds()), int(MaxStickyTTL.Seconds()))
		}
		if len(r.Sticky.SessionIdentifiers) == 0 {
			v.add(sp+".session_identifiers", "at least one session identifier is required")
		}
		for i, id := range r.Sticky.SessionIdentifiers {
			ip := fmt.Sprintf("%s.session_identifiers[%d]", sp, i)
			switch id.Source {
			case FromHeaders:
				if !validHeaderName(id.Key) {
					v.add(ip+".key", "%q is not a valid header name", clip(id.Key))
				}
			case FromMetadata:
				if id.Key == "" {
					v.add(ip+".key", "required")
				}
			default:
				v.add(ip+".source", "unknown source %q (want headers or metadata)", clip(string(id.Source)))
			}
		}
	}
	v.duration(p+".request_timeout_ms", r.RequestTimeout)
	v.duration(p+".ttft_timeout_ms", r.TTFTTimeout)
	v.duration(p+".stream_idle_timeout_ms", r.StreamIdleTimeout)
	tp := p + ".load_balance_targets"
	switch {
	case len(r.Targets) == 0:
		v.add(tp, "at least one target is required")
	case len(r.Targets) > strategy.MaxTargets:
		v.add(tp, "%d targets, at most %d allowed", len(r.Targets), strategy.MaxTargets)
	}
	refs := map[string]bool{}
	positive := false
	for i := range r.Targets {
		t := &r.Targets[i]
		v.target(fmt.Sprintf("%s[%d]", tp, i), r.Type, t, ops, refs)
		positive = positive || t.Weight > 0
	}
	if r.Type == WeightBased && len(r.Targets) > 0 && !positive {
		v.add(tp, "weight-based-routing needs at least one target with a positive weight")
	}
}

func (v *validator) target(p string, typ RoutingType, t *target.Target, ops []providers.Operation, refs map[string]bool) {
	ref, err := slug.ParseRef(t.Ref)
	switch {
	case err != nil:
		v.add(p+".target", "%v", trim(err))
	case v.names[t.Ref] != "":
		v.add(p+".target", "%q is a virtual model; a target must be a real model (account/model)", t.Ref)
	default:
		prov, ok := v.accounts[ref.Account]
		if !ok {
			v.add(p+".target", "unknown provider account %q (register it with routing.WithProvider)", clip(ref.Account))
			break
		}
		for _, op := range ops {
			if !providers.Supports(prov, op) {
				v.add(p+".target", "provider account %q cannot serve model type %q", ref.Account, op)
			}
		}
	}
	if refs[t.Ref] {
		v.add(p+".target", "duplicate target %q", clip(t.Ref))
	}
	refs[t.Ref] = true
	if t.Weight < 0 {
		v.add(p+".weight", "must be 0 or more, got %d", t.Weight)
	}
	if t.Weight != 0 && typ != WeightBased && typ != "" {
		v.add(p+".weight", "applies only to weight-based-routing")
	}
	if t.Priority < 0 {
		v.add(p+".priority", "must be 0 or more, got %d", t.Priority)
	}
	if t.Priority != 0 && typ != PriorityBased && typ != "" {
		v.add(p+".priority", "applies only to priority-based-routing")
	}
	if !t.SLA.IsZero() {
		if typ != PriorityBased && typ != "" {
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
	for k, val := range t.MetadataMatch {
		if k == "" {
			v.add(p+".metadata_match", "empty key")
		} else if len(val) > metadata.MaxValueLen {
			v.add(p+".metadata_match."+k, "value longer than %d characters", metadata.MaxValueLen)
		}
	}
	hp := p + ".headers_override"
	for _, k := range sortedKeys(t.Headers.Set) {
		if !validHeaderName(k) {
			v.add(hp+".set", "%q is not a valid header name", clip(k))
		} else if !validHeaderValue(t.Headers.Set[k]) {
			v.add(hp+".set."+k, "value contains a control character (CR, LF or NUL)")
		}
	}
	for i, k := range t.Headers.Remove {
		if !validHeaderName(k) {
			v.add(fmt.Sprintf("%s.remove[%d]", hp, i), "%q is not a valid header name", clip(k))
		}
	}
	v.duration(p+".request_timeout_ms", t.RequestTimeout)
	v.duration(p+".ttft_timeout_ms", t.TTFTTimeout)
	v.duration(p+".stream_idle_timeout_ms", t.StreamIdleTimeout)
}

func (v *validator) duration(p string, d interface{ Milliseconds() int64 }) {
	if ms := d.Milliseconds(); ms < 0 {
		v.add(p, "must not be negative, got %d", ms)
	}
}

func (v *validator) codes(p string, codes []int) {
	for i, c := range codes {
		if c < 100 || c > 599 {
			v.add(fmt.Sprintf("%s[%d]", p, i), "%d is not an HTTP status code", c)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validHeaderValue rejects values that could split or smuggle headers.
func validHeaderValue(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}

// clip keeps user input in error messages short.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// trim drops a package prefix such as "slug: " from an error's text.
func trim(err error) string {
	s := err.Error()
	if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(s, "slug:") {
		return rest
	}
	return s
}
