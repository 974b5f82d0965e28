package routing

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmroute/llmroute/internal/overrides"
	"github.com/llmroute/llmroute/internal/suggest"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/retry"
	"github.com/llmroute/llmroute/slug"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// snapshot is the Client's whole configuration, compiled for the hot path
// and never changed once published.
type snapshot struct {
	order  []string          // group names in the order they were added
	groups map[string]*group // by name
	models map[string]*model // by "group/model" and by slug
	names  []string          // the keys of models, sorted, for suggestions
	// few, when models has at most fewModels keys, holds the model of
	// each of names: lookup scans them rather than hash the name.
	few []*model
}

// fewModels is the most names a snapshot looks up by a scan: comparing
// a few strings, most of them by length alone, costs less than hashing
// the name, as Go's own maps skip hashing long keys in a small map.
const fewModels = 8

// lookup returns the model name calls, or nil.
func (s *snapshot) lookup(name string) *model {
	if s.few == nil {
		return s.models[name]
	}
	for i, n := range s.names {
		if n == name {
			return s.few[i]
		}
	}
	return nil
}

type group struct {
	cfg      Group
	name     string
	open     bool
	members  map[string]Role // subject → role
	hasTeams bool
}

type model struct {
	name       string // "group/model"
	group      *group
	ops        uint8 // bit per providers.Operation
	strategy   strategy.Strategy
	targets    []tgt
	noFallback strategy.Set
	catchAll   strategy.Set   // targets without metadata_match
	matchers   strategy.Set   // targets with metadata_match
	streamers  strategy.Set   // targets whose provider can stream
	rc         *RoutingConfig // what the model was compiled from
	health     *strategy.Health
	budgets    []*retry.Budget // one per target; nil with retry_budget disabled
	hedge      *hedging        // nil without hedge
	sticky     *sticky         // nil without sticky_routing
	index      map[string]int  // target ref → index
	refs       []string        // target refs by index

	// timed: a success's length matters to the model itself (its
	// latency statistics, or a strategy that observes outcomes).
	timed bool
}

type tgt struct {
	ref            string // "account/model"
	model          string // the provider's own model name
	prov           providers.Provider
	info           providers.Info
	policy         retry.Policy
	md             metadata.MD
	setHeader      http.Header
	removeHeader   []string
	params         overrides.Params
	hasPrompt      bool
	requestTimeout time.Duration
	ttftTimeout    time.Duration
	idleTimeout    time.Duration
	limit          stores.Limit   // zero: no rate_limit
	limitKey       string         // the budget's key: "group/model|account/model"
	budget         *stores.Budget // the budget in memory, without a Limiter; nil without a limit
	quota          *quota         // what the provider said of its budget
}

// build returns a new snapshot: old's groups with groups added or
// replacing those of the same name. It validates the result whole.
func (c *Client) build(old *snapshot, groups []Group) (*snapshot, error) {
	var all []Group
	var order []string
	replaced := map[string]bool{}
	for _, g := range groups {
		replaced[g.Name] = true
	}
	if old != nil {
		for _, name := range old.order {
			if !replaced[name] {
				all = append(all, old.groups[name].cfg)
				order = append(order, name)
			}
		}
	}
	all = append(all, groups...)
	if err := ValidateGroups(all, c.accounts, nil); err != nil {
		return nil, err
	}
	snap := &snapshot{groups: map[string]*group{}, models: map[string]*model{}}
	for i := range all {
		g := compileGroup(all[i])
		snap.groups[g.name] = g
		for mi := range g.cfg.Models {
			m, err := c.compileModel(old, g, mi)
			if err != nil {
				return nil, err
			}
			snap.models[m.name] = m
			if s := g.cfg.Models[mi].Slug; s != "" {
				snap.models[s] = m
			}
		}
	}
	for _, g := range groups {
		order = append(order, g.Name)
	}
	snap.order = order
	snap.names = slices.Sorted(maps.Keys(snap.models))
	if n := len(snap.names); n > 0 && n <= fewModels {
		snap.few = make([]*model, n)
		for i, name := range snap.names {
			snap.few[i] = snap.models[name]
		}
	}
	return snap, nil
}

func compileGroup(cfg Group) *group {
	cfg = cloneGroup(cfg)
	g := &group{cfg: cfg, name: cfg.Name, open: len(cfg.Collaborators) == 0, members: map[string]Role{}}
	for _, col := range cfg.Collaborators {
		g.members[col.Subject] = col.Role
		if strings.HasPrefix(col.Subject, "team:") {
			g.hasTeams = true
		}
	}
	return g
}

func (c *Client) compileModel(old *snapshot, g *group, mi int) (*model, error) {
	vm := &g.cfg.Models[mi]
	m := &model{name: g.name + "/" + vm.Name, group: g, rc: &vm.Routing}
	for _, t := range vm.Types() {
		op, _ := providers.ParseOperation(string(t))
		m.ops |= 1 << op
	}
	rc := &vm.Routing
	weights := make([]int, len(rc.Targets))
	prios := make([]int, len(rc.Targets))
	m.targets = make([]tgt, len(rc.Targets))
	m.index = make(map[string]int, len(rc.Targets))
	m.refs = make([]string, len(rc.Targets))
	if rc.Sticky != nil {
		ids := slices.Clone(rc.Sticky.SessionIdentifiers)
		for i := range ids {
			if ids[i].Source == FromHeaders {
				ids[i].Key = http.CanonicalHeaderKey(ids[i].Key)
			}
		}
		m.sticky = &sticky{ttl: rc.Sticky.TTL, ids: ids}
	}
	for i := range rc.Targets {
		t := &rc.Targets[i]
		weights[i], prios[i] = t.Weight, t.Priority
		ref, _ := slug.ParseRef(t.Ref) // validated
		// Compile fails only where overrides.Check does, and validate
		// checked every key with it.
		p, _ := overrides.Compile(t.Params)
		_, hasPrompt := t.Params[overrides.PromptVersion]
		m.targets[i] = tgt{
			ref:            t.Ref,
			model:          ref.Model,
			prov:           c.accounts[ref.Account],
			info:           providers.Describe(c.accounts[ref.Account]),
			policy:         retry.NewPolicy(t.RetryOrDefault(), t.FallbackCodesOrDefault(), t.FallbackErrorCodes...),
			md:             t.MetadataMatch,
			setHeader:      canonicalHeaders(t.Headers.Set),
			removeHeader:   t.Headers.Remove,
			params:         p,
			hasPrompt:      hasPrompt,
			requestTimeout: orDefault(t.RequestTimeout, rc.RequestTimeout),
			ttftTimeout:    orDefault(t.TTFTTimeout, rc.TTFTTimeout),
			idleTimeout:    orDefault(t.StreamIdleTimeout, rc.StreamIdleTimeout),
			limit:          limitOf(t, rc),
			limitKey:       m.name + "|" + t.Ref,
			quota:          c.limits.quotaFor(t.Ref),
		}
		if tg := &m.targets[i]; !tg.limit.IsZero() && c.limits.limiter == nil {
			tg.budget = c.limits.budgetFor(tg.limitKey)
		}
		m.index[t.Ref] = i
		m.refs[i] = t.Ref
		bit := strategy.Of(i)
		if _, ok := m.targets[i].prov.(providers.Streamer); ok {
			m.streamers |= bit
		}
		if t.NoFallback {
			m.noFallback |= bit
		}
		if len(t.MetadataMatch) > 0 {
			m.matchers |= bit
		} else {
			m.catchAll |= bit
		}
	}
	m.budgets = compileBudgets(rc.RetryBudget, len(rc.Targets))
	m.hedge = compileHedge(rc.Hedge, len(rc.Targets))
	m.health = reuseHealth(old, m, rc)
	if m.health == nil {
		slas := make([]target.SLACutoff, len(rc.Targets))
		for i := range rc.Targets {
			slas[i] = rc.Targets[i].SLA
		}
		h, err := strategy.NewHealth(len(rc.Targets), strategy.HealthOptions{
			SLA: slas, Cooldown: c.cooldown,
			NoStats: rc.Type != LatencyBased, // SLA cutoffs keep them anyway
		})
		if err != nil {
			return nil, err
		}
		m.health = h
	}
	var err error
	switch rc.Type {
	case PriorityBased:
		m.strategy, err = strategy.NewPriority(prios)
	case LatencyBased:
		m.strategy, err = strategy.NewLatency(m.health.Stats())
	default:
		m.strategy, err = strategy.NewWeighted(weights)
	}
	if err != nil {
		return nil, err
	}
	_, observes := m.strategy.(strategy.Observer)
	m.timed = observes || m.health.KeepsStats()
	return m, nil
}

// reuseHealth keeps a model's health and latency history across a
// reconfiguration that leaves its targets and SLA cutoffs as they were, so
// applying a manifest does not forget an outage or a slow target.
func reuseHealth(old *snapshot, m *model, rc *RoutingConfig) *strategy.Health {
	if old == nil {
		return nil
	}
	prev := old.models[m.name]
	if prev == nil || prev.health == nil || len(prev.targets) != len(rc.Targets) {
		return nil
	}
	// A change of routing type changes what the health records (latency
	// samples or only failures), so it starts afresh.
	if prev.rc.Type != rc.Type {
		return nil
	}
	for i := range rc.Targets {
		if prev.targets[i].ref != rc.Targets[i].Ref || prev.rc.Targets[i].SLA != rc.Targets[i].SLA {
			return nil
		}
	}
	return prev.health
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// cloneGroup deep-copies the parts of a group a caller could change after
// handing it over.
func cloneGroup(g Group) Group {
	g.Collaborators = slices.Clone(g.Collaborators)
	g.Models = slices.Clone(g.Models)
	for i := range g.Models {
		m := &g.Models[i]
		m.ModelTypes = slices.Clone(m.ModelTypes)
		if m.Routing.Sticky != nil {
			s := *m.Routing.Sticky
			s.SessionIdentifiers = slices.Clone(s.SessionIdentifiers)
			m.Routing.Sticky = &s
		}
		m.Routing.Targets = slices.Clone(m.Routing.Targets)
		for j := range m.Routing.Targets {
			t := &m.Routing.Targets[j]
			if t.Retry != nil {
				r := *t.Retry
				r.OnStatusCodes = slices.Clone(r.OnStatusCodes)
				t.Retry = &r
			}
			t.FallbackStatusCodes = slices.Clone(t.FallbackStatusCodes)
			t.FallbackErrorCodes = slices.Clone(t.FallbackErrorCodes)
			t.MetadataMatch = cloneMap(t.MetadataMatch)
			t.Headers.Set = cloneMap(t.Headers.Set)
			t.Headers.Remove = slices.Clone(t.Headers.Remove)
			if t.Params != nil {
				p := make(map[string]any, len(t.Params))
				for k, v := range t.Params {
					p[k] = v
				}
				t.Params = p
			}
		}
	}
	return g
}

func cloneMap[M ~map[string]string](m M) M {
	if m == nil {
		return nil
	}
	out := make(M, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// resolve finds the virtual model a call names and checks the caller may
// call it with op.
func (c *Client) resolve(ctx context.Context, snap *snapshot, name string, op providers.Operation) (*model, error) {
	m := snap.lookup(name)
	if m == nil {
		// A name in a closed group the caller may not use is forbidden
		// whether or not the model exists, with the same words, so the
		// answer reveals nothing of the group's contents.
		if gname, _, ok := strings.Cut(name, "/"); ok {
			if g := snap.groups[gname]; g != nil {
				if ok, why := c.authorize(ctx, g, RoleUser); !ok {
					return nil, forbidden(strconv.Quote(name), why)
				}
			}
		}
		return nil, c.unknown(ctx, snap, name)
	}
	if ok, why := c.authorize(ctx, m.group, RoleUser); !ok {
		return nil, forbidden(strconv.Quote(name), why)
	}
	if m.ops&(1<<op) == 0 {
		return nil, fmt.Errorf("%w: %s does not serve %s", ErrUnsupportedOperation, strconv.Quote(name), op)
	}
	return m, nil
}

// unknown is the error for a name the Client does not serve. It suggests
// the nearest name the caller may call, never one of a group closed to
// them.
func (c *Client) unknown(ctx context.Context, snap *snapshot, name string) error {
	if name != "" {
		visible := func(n string) bool {
			ok, _ := c.authorize(ctx, snap.models[n].group, RoleUser)
			return ok
		}
		if s := suggest.ClosestAllowed(name, snap.names, visible); s != "" {
			return fmt.Errorf("%w %s (did you mean %s?)", ErrUnknownModel, strconv.Quote(name), strconv.Quote(s))
		}
	}
	return fmt.Errorf("%w %s", ErrUnknownModel, strconv.Quote(name))
}

// forbidden is the error of a refusal to do what, with why when there is a
// reason the caller can act on.
func forbidden(what, why string) error {
	if why == "" {
		return fmt.Errorf("%w: %s", ErrForbidden, what)
	}
	return fmt.Errorf("%w: %s: %s", ErrForbidden, what, why)
}

// noSubject is why a closed group refuses a context that carries no
// subject: most often the caller forgot to set one.
const noSubject = "no subject in the context: set one with routing.WithSubject"

func (c *Client) isAdmin(ctx context.Context) bool {
	if len(c.admins) == 0 {
		return false
	}
	sub, _ := SubjectFrom(ctx)
	return c.admins[sub]
}

// authorize reports whether the subject in ctx holds at least role on g.
// Open groups admit every caller; a Manager may do what a User may. When
// it refuses, why is a reason the caller can act on, if there is one: no
// subject in ctx, or a team lookup that failed (a resolver outage must not
// look like a plain refusal). why never depends on the group's models.
func (c *Client) authorize(ctx context.Context, g *group, need Role) (ok bool, why string) {
	if g.open && (need == RoleUser || len(c.admins) == 0) {
		return true, ""
	}
	sub, _ := SubjectFrom(ctx)
	if c.admins[sub] {
		return true, ""
	}
	if sub == "" {
		return false, noSubject
	}
	if r, ok := g.members[sub]; ok && allows(r, need) {
		return true, ""
	}
	if g.hasTeams && c.teams != nil && !strings.HasPrefix(sub, "team:") {
		teams, err := c.teams.Teams(ctx, sub)
		if err != nil {
			return false, fmt.Sprintf("looking up the teams of %s: %v", sub, err)
		}
		for _, t := range teams {
			if r, ok := g.members["team:"+t]; ok && allows(r, need) {
				return true, ""
			}
		}
	}
	return false, ""
}

func allows(have, need Role) bool {
	return have == RoleManager || have == need
}

// eligible returns the targets a request with metadata md may use: the
// targets whose metadata_match holds, when any does;
// otherwise the catch-all targets.
func (m *model) eligible(md metadata.MD) (strategy.Set, error) {
	var matched strategy.Set
	for i := range m.matchers.Indices() {
		if md.Matches(m.targets[i].md) {
			matched |= 1 << i
		}
	}
	if matched != 0 {
		return matched, nil
	}
	if m.catchAll != 0 {
		return m.catchAll, nil
	}
	var unmet []string
	for i := range m.matchers.Indices() {
		for _, k := range md.Unmet(m.targets[i].md) {
			if !slices.Contains(unmet, k) {
				unmet = append(unmet, k)
			}
		}
	}
	slices.Sort(unmet)
	return 0, fmt.Errorf("%w for %s: request metadata does not match on %s", ErrNoEligibleTarget, strconv.Quote(m.name), strings.Join(unmet, ", "))
}
