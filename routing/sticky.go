package routing

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
)

// WithStore sets where sticky-session pins live. The default is an
// in-memory store bounded to stores.DefaultMaxEntries sessions, private to
// the Client; services running many replicas share one, such as
// stores/redis. A Store failure never fails a call: the call is routed
// without its pin and observers get an EventStoreError.
func WithStore(st stores.Store) Option {
	return func(s *settings) {
		if st == nil {
			s.errs = append(s.errs, errors.New("routing: WithStore: nil store"))
			return
		}
		s.store = st
	}
}

// sticky is a virtual model's compiled sticky_routing.
type sticky struct {
	ttl time.Duration
	ids []SessionIdentifier
}

// stickyState is one call's sticky session: its key and the target pinned
// when the call began (-1 for none).
type stickyState struct {
	key    string
	pinned int
}

// pin looks up the call's session: no key when any identifier is
// missing; otherwise the pinned target, if the Store has one this model
// still has. It fills r.sticky and returns the pin as a Set.
func (c *Client) pin(ctx context.Context, r *run, md metadata.MD) strategy.Set {
	st := r.m.sticky
	r.sticky = stickyState{pinned: -1}
	if st == nil {
		return 0
	}
	var buf [4]string // most sessions have few identifiers: no allocation
	values := buf[:0]
	if len(st.ids) > len(buf) {
		values = make([]string, 0, len(st.ids))
	}
	for _, id := range st.ids {
		var v string
		if id.Source == FromHeaders {
			// Keys were canonicalised at load, so the lookup needs
			// no allocation; a caller's map literal may still use
			// another case.
			v = headerValue(r.reqHeader, id.Key)
		} else {
			v = md[id.Key]
		}
		if v == "" {
			return 0
		}
		values = append(values, v)
	}
	r.sticky.key = stores.SessionKey(r.m.name, values)
	p, ok, err := c.store.GetPin(ctx, r.sticky.key, st.ttl)
	if err != nil {
		c.observe(ctx, Event{Kind: EventStoreError, Model: r.m.name, Err: err})
		return 0
	}
	if !ok {
		return 0
	}
	i, ok := r.m.index[p.Target]
	if !ok {
		return 0
	}
	r.sticky.pinned = i
	return strategy.Of(i)
}

// repin moves the session's pin to the target that served it, when that
// is not the one already pinned (whose TTL the lookup refreshed).
func (c *Client) repin(r *run, served int) {
	if r.sticky.key == "" || r.sticky.pinned == served {
		return
	}
	t := &r.m.targets[served]
	if err := c.store.SetPin(r.ctx, r.sticky.key, stores.Pin{Target: t.ref}, r.m.sticky.ttl); err != nil {
		c.observe(r.ctx, Event{Kind: EventStoreError, Model: r.m.name, Err: err})
		return
	}
	r.sticky.pinned = served
}

// headerValue returns the first value of the header named by the canonical
// key, also when the caller's map spells the key in another case.
func headerValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, key) {
			return vs[0]
		}
	}
	return ""
}
