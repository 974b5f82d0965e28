package routing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmroute/llmroute/internal/virtualtime"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/stores"
)

// TeamResolver tells access control which teams a subject belongs to, so
// that a collaborator "team:<name>" admits its members. It is called only
// for groups that list a team and only when the subject is not listed
// itself.
type TeamResolver interface {
	// Teams returns the names (without the "team:" prefix) of the teams
	// subject belongs to.
	Teams(ctx context.Context, subject string) ([]string, error)
}

// TeamResolverFunc adapts a function to TeamResolver.
type TeamResolverFunc func(ctx context.Context, subject string) ([]string, error)

// Teams calls f.
func (f TeamResolverFunc) Teams(ctx context.Context, subject string) ([]string, error) {
	return f(ctx, subject)
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	accounts  Accounts
	groups    []Group
	defaultMD metadata.MD
	clock     Clock
	rand      func() float64
	admins    map[string]bool
	teams     TeamResolver
	restart   bool
	store     stores.Store
	observers []Observer
	manifests []*Manifest
	cooldown  time.Duration
	limiter   stores.Limiter
	replicas  int
	shared    stores.HealthStore
	errs      []error
}

// WithProvider registers a provider account under name; targets name it
// as "name/<model>", and a target is split at its first '/', so name
// must hold none.
func WithProvider(name string, p providers.Provider) Option {
	return func(s *settings) {
		switch {
		case p == nil:
			s.errs = append(s.errs, fmt.Errorf("routing: WithProvider(%q): nil provider", name))
		case s.accounts[name] != nil:
			s.errs = append(s.errs, fmt.Errorf("routing: WithProvider(%q): account registered twice", name))
		default:
			s.accounts[name] = p
		}
	}
}

// WithGroup adds a group of virtual models defined in Go.
func WithGroup(g Group) Option {
	return func(s *settings) { s.groups = append(s.groups, g) }
}

// WithDefaultMetadata sets metadata merged under every request's metadata
// (the request wins on a conflict), such as the deployment's
// tfy_gateway_region.
func WithDefaultMetadata(md metadata.MD) Option {
	return func(s *settings) {
		s.defaultMD = make(metadata.MD, len(md))
		for k, v := range md {
			s.defaultMD[k] = v
		}
	}
}

// Clock is the Client's source of time: what it reads for statistics,
// health, pins and traces, and how it waits between retries. Tests rarely
// need one: the default uses the runtime's clock and timers, which
// testing/synctest already virtualises. A simulator that replays traffic
// in its own virtual time supplies one. Per-attempt timeouts, stream
// timers and a stream's own timing (its TTFT and duration) use the
// runtime's clock and timers whatever the Clock. So do a hedged call's
// timer and goroutines, except under the simulator's clock (package
// simulate), which runs them in its virtual time.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx is done and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// systemClock is the runtime's clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// since is the time elapsed from t, a time the Client's clock gave. On
// the runtime's clock it is time.Since, which reads only the monotonic
// clock (half of what time.Now reads) and measures the same.
func (c *Client) since(t time.Time) time.Duration {
	if c.sysClock {
		return time.Since(t)
	}
	return c.now().Sub(t)
}

// WithClock sets the Client's clock; the default is the runtime's.
func WithClock(clock Clock) Option {
	return func(s *settings) {
		if clock == nil {
			s.errs = append(s.errs, errors.New("routing: WithClock: nil clock"))
			return
		}
		s.clock = clock
	}
}

// WithRand sets the source of uniform random numbers in [0, 1) used for
// weighted picks, tie breaks and jitter; the default is math/rand/v2. It
// must be safe for concurrent use.
func WithRand(r func() float64) Option {
	return func(s *settings) {
		if r == nil {
			s.errs = append(s.errs, errors.New("routing: WithRand: nil source"))
			return
		}
		s.rand = r
	}
}

// SeededRand returns a deterministic source of uniform numbers in [0, 1)
// for WithRand, safe for concurrent use: the same seed gives the same
// picks, for tests, examples and simulations.
func SeededRand(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// WithAdmins names subjects that may call and change every group. An
// empty subject is an error: it would make every context that carries no
// subject an admin (WithAdmins(os.Getenv("ADMIN")) with the variable
// unset, say).
func WithAdmins(subjects ...string) Option {
	return func(s *settings) {
		for _, sub := range subjects {
			if sub == "" {
				s.errs = append(s.errs, errors.New("routing: WithAdmins: empty subject"))
				continue
			}
			s.admins[sub] = true
		}
	}
}

// WithTeamResolver sets how team membership is found for collaborators of
// the form "team:<name>".
func WithTeamResolver(r TeamResolver) Option {
	return func(s *settings) {
		if r == nil {
			s.errs = append(s.errs, errors.New("routing: WithTeamResolver: nil resolver"))
			return
		}
		s.teams = r
	}
}

// Client serves virtual models. It is safe for concurrent use. Its
// configuration is an immutable snapshot swapped atomically when it
// changes, so a call runs to the end on the configuration it started with.
//
// Create a Client with New. The zero Client (and a nil *Client) serves
// nothing: every call and change returns ErrNotCreated, never a panic.
type Client struct {
	snap      atomic.Pointer[snapshot]
	accounts  Accounts
	defaultMD metadata.MD
	clock     Clock
	sched     virtualtime.Scheduler // a hedged call's goroutines and timers
	now       func() time.Time
	sysClock  bool // clock is the runtime's: since reads only its monotonic clock
	rand      func() float64
	admins    map[string]bool
	teams     TeamResolver
	restart   bool
	store     stores.Store
	memory    *stores.Memory // store, when it is a Memory
	ownMemory bool           // memory is the Client's own, on its clock
	observers []Observer
	tracer    Tracer // the observers that are Tracers, or nil
	cooldown  time.Duration
	limits    *limits
	shared    *shared // nil without WithSharedHealth
}

// WithProbeCooldown sets how long an unhealthy target waits before one call
// may probe it (see docs/behaviour.md, Health); the default is
// strategy.DefaultCooldown, 15 s.
func WithProbeCooldown(d time.Duration) Option {
	return func(s *settings) {
		if d <= 0 {
			s.errs = append(s.errs, fmt.Errorf("routing: WithProbeCooldown(%v): must be positive", d))
			return
		}
		s.cooldown = d
	}
}

// New returns a Client serving the given groups over the given provider
// accounts. Every configuration problem is reported at once, each naming
// its field; a Client is returned only when there are none.
func New(opts ...Option) (*Client, error) {
	s := settings{
		accounts: Accounts{},
		clock:    systemClock{},
		rand:     rand.Float64,
		admins:   map[string]bool{},
	}
	for _, o := range opts {
		o(&s)
	}
	if len(s.errs) > 0 {
		return nil, errors.Join(s.errs...)
	}
	c := &Client{
		accounts:  s.accounts,
		defaultMD: s.defaultMD,
		clock:     s.clock,
		sched:     virtualtime.Runtime{},
		now:       s.clock.Now,
		rand:      s.rand,
		admins:    s.admins,
		teams:     s.teams,
		restart:   s.restart,
		store:     s.store,
		observers: s.observers,
		tracer:    tracerOf(s.observers),
		cooldown:  s.cooldown,
		limits:    &limits{limiter: s.limiter, replicas: max(s.replicas, 1)},
	}
	if o, ok := s.clock.(virtualtime.Owner); ok {
		c.sched = o.Scheduler()
	}
	_, c.sysClock = s.clock.(systemClock)
	if c.store == nil {
		c.store, c.ownMemory = stores.NewMemory(stores.WithClock(c.now)), true
	}
	c.memory, _ = c.store.(*stores.Memory)
	if s.shared != nil {
		c.shared = &shared{store: s.shared}
	}
	snap, err := c.build(nil, s.groups)
	if err != nil {
		for _, m := range s.manifests {
			err = m.Annotate(err)
		}
		return nil, err
	}
	c.snap.Store(snap)
	c.warn(context.Background(), s.groups, s.manifests...)
	return c, nil
}

// Groups returns a copy of the groups the Client serves now.
func (c *Client) Groups() []Group {
	if c == nil || c.snap.Load() == nil {
		return nil
	}
	snap := c.snap.Load()
	out := make([]Group, 0, len(snap.order))
	for _, name := range snap.order {
		out = append(out, cloneGroup(snap.groups[name].cfg))
	}
	return out
}

// SetGroup adds or replaces one group while the Client serves calls.
// Replacing a group that has collaborators requires the subject in ctx to
// be its Manager (or a Client admin); the new configuration is validated
// whole first, and a rejected one changes nothing. Calls in flight finish
// on the configuration they started with.
func (c *Client) SetGroup(ctx context.Context, g Group) error {
	return c.apply(ctx, []Group{g})
}

// apply replaces or adds groups atomically after checking the caller may
// manage each one.
func (c *Client) apply(ctx context.Context, groups []Group, manifests ...*Manifest) error {
	if c == nil {
		return ErrNotCreated
	}
	for {
		old := c.snap.Load()
		if old == nil {
			return ErrNotCreated
		}
		for i := range groups {
			if cur, ok := old.groups[groups[i].Name]; ok {
				if ok, why := c.authorize(ctx, cur, RoleManager); !ok {
					return forbidden(fmt.Sprintf("changing group %q needs the %s role", groups[i].Name, RoleManager), why)
				}
			} else if len(c.admins) > 0 && !c.isAdmin(ctx) {
				why := ""
				if sub, _ := SubjectFrom(ctx); sub == "" {
					why = noSubject
				}
				return forbidden(fmt.Sprintf("only a Client admin may add group %q", groups[i].Name), why)
			}
		}
		next, err := c.build(old, groups)
		if err != nil {
			return err
		}
		if c.snap.CompareAndSwap(old, next) {
			c.warn(ctx, groups, manifests...)
			return nil
		}
	}
}
