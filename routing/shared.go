package routing

import (
	"context"
	"errors"
	"time"

	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
)

// WithSharedHealth makes the replicas that share hs judge their targets'
// health together (see stores.HealthStore): failures are counted
// fleet-wide, so the failures that demote a target may come from any
// replica; a demotion reaches every replica on its next call, which reads
// the virtual model's records first (one store round trip); and one probe
// per cooldown tests a demoted target fleet-wide, claimed in the store by
// whichever replica's call picks it first. Demotions and recoveries are
// reported as EventHealth by the replica whose outcome caused them, once
// for the fleet.
//
// Replicas sharing a store must configure the virtual model alike (its
// targets, and WithProbeCooldown): records are kept by virtual model and
// target, and the cooldown a replica claims a probe for is its own.
//
// A HealthStore failure never fails a call: for a second after it, the
// Client judges health on its own, as without shared health, and
// observers get an EventHealthStoreError. Records expire at the end of
// their failure window, so a replica that went away leaves nothing stale
// behind.
func WithSharedHealth(hs stores.HealthStore) Option {
	return func(s *settings) {
		if hs == nil {
			s.errs = append(s.errs, errors.New("routing: WithSharedHealth: nil store"))
			return
		}
		s.shared = hs
	}
}

// shared is the Client's shared health.
type shared struct {
	store stores.HealthStore
	down  gate // store not asked while shut
}

// sharedFailed notes a HealthStore failure at now and tells observers.
func (c *Client) sharedFailed(ctx context.Context, model string, now int64, err error) {
	c.shared.down.shut(now)
	if len(c.observers) > 0 {
		c.observe(ctx, Event{Kind: EventHealthStoreError, Model: model, Err: err})
	}
}

// syncHealth brings the model's health up to date with the records the
// replicas share, before the call plans: a target another replica
// demoted is unhealthy here too, one that recovered elsewhere (or whose
// record expired) is healthy. It remembers which targets were down, so
// that a success on one of them is reported.
func (c *Client) syncHealth(ctx context.Context, r *run, now time.Time) {
	s := c.shared
	if s == nil {
		return
	}
	ns := now.UnixNano()
	mark, ok := s.down.open(ns)
	if !ok {
		return
	}
	m := r.m
	st, err := s.store.LoadHealth(ctx, stores.HealthQuery{Model: m.name, Targets: m.refs, Now: now})
	if err == nil && len(st.Records) != len(m.refs) {
		err = errors.New("routing: the HealthStore answered for another number of targets")
	}
	if err != nil {
		c.sharedFailed(ctx, m.name, ns, err)
		return
	}
	s.down.passed(mark)
	for i, rec := range st.Records {
		if rec.Down(now) {
			r.sharedDown |= strategy.Of(i)
			m.health.Adopt(i, rec.Since, rec.Until)
		} else {
			m.health.Clear(i, now)
		}
	}
}

// claim takes the probe of t in the shared store; a failing store leaves
// the probe to this replica, as without shared health.
func (r *run) claim(t *tgt) bool {
	c := r.c
	now := r.plan.Now()
	ns := now.UnixNano()
	if _, ok := c.shared.down.open(ns); !ok {
		return true
	}
	_, _, cooldown := r.m.health.Settings()
	got, err := c.shared.store.ClaimProbe(r.ctx, stores.ProbeClaim{Model: r.m.name, Target: t.ref, Cooldown: cooldown, Now: now})
	if err != nil {
		c.sharedFailed(r.ctx, r.m.name, ns, err)
		return true
	}
	return got.Claimed
}

// shareHealth reports an attempt's outcome to the shared store, and
// returns the change to tell observers: the fleet's (the store decides
// once for every replica), or local, this Client's own, when there is no
// shared health or the store failed. Called from the attempt's finish,
// after the local health has recorded the outcome.
func (r *run) shareHealth(a *attempt, o *strategy.Outcome, local strategy.Change) strategy.Change {
	c := r.c
	if c.shared == nil {
		return local
	}
	success, failure := strategy.Counts(*o)
	if !failure && !(success && (local == strategy.Recovered || r.sharedDown.Has(a.index))) {
		// Nothing the fleet needs to hear: a success of a healthy
		// target, or an outcome that says nothing about it.
		return strategy.Unchanged
	}
	end := o.Start.Add(o.Latency)
	ns := end.UnixNano()
	if _, ok := c.shared.down.open(ns); !ok {
		return local
	}
	failures, window, cooldown := r.m.health.Settings()
	ctx := r.ctx
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	res, err := c.shared.store.ReportHealth(ctx, stores.HealthReport{
		Model: r.m.name, Target: a.t.ref, Failed: failure, Start: o.Start, End: end,
		Failures: failures, Window: window, Cooldown: cooldown,
	})
	if err != nil {
		c.sharedFailed(ctx, r.m.name, ns, err)
		return local
	}
	switch {
	case res.Demoted:
		r.m.health.Adopt(a.index, res.Record.Since, res.Record.Until)
		return strategy.Demoted
	case res.Recovered:
		r.m.health.Clear(a.index, o.Start)
		r.sharedDown &^= strategy.Of(a.index)
		return strategy.Recovered
	case res.Record.Down(end):
		r.m.health.Adopt(a.index, res.Record.Since, res.Record.Until)
	}
	return strategy.Unchanged
}
