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

// stickyState is one call's sticky session: the values of its session
// identifiers, its key once built, and the target pinned when the call
// began (-1 for none).
type stickyState struct {
	session bool // every identifier has a value
	// The identifiers' values: in buf (n of them), or in more when
	// there are more than buf holds.
	buf  [4]string
	n    int
	more []string
	// key is the session key, built when a Store needs it as a
	// string: a Memory looks pins up without it.
	key    string
	pinned int
}

// values returns the session identifiers' values, in order.
func (s *stickyState) values() []string {
	if s.more != nil {
		return s.more
	}
	return s.buf[:s.n]
}

// sessionKey returns the call's session key, built on first use.
func (r *run) sessionKey() string {
	if r.sticky.key == "" {
		r.sticky.key = stores.SessionKey(r.m.name, r.sticky.values())
	}
	return r.sticky.key
}

// pin looks up the call's session: none when any identifier is missing;
// otherwise the pinned target, if the Store has one this model still
// has. It fills r.sticky and returns the pin as a Set.
//
// A Memory store is asked with the key's parts (Memory.GetSessionPin),
// so that a call finding its pin builds no key string; the Memory the
// Client made itself reads the Client's clock, so it is given the time
// the call began rather than reading the clock again.
func (c *Client) pin(ctx context.Context, r *run, md metadata.MD) strategy.Set {
	st := r.m.sticky
	r.sticky = stickyState{pinned: -1}
	if st == nil {
		return 0
	}
	s := &r.sticky
	if len(st.ids) > len(s.buf) {
		s.more = make([]string, 0, len(st.ids))
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
		if s.more != nil {
			s.more = append(s.more, v)
		} else {
			s.buf[s.n] = v
			s.n++
		}
	}
	s.session = true
	var p stores.Pin
	var ok bool
	var err error
	if mem := c.memory; mem != nil {
		var now time.Time
		if c.ownMemory {
			now = r.start
		}
		p, ok, err = mem.GetSessionPin(ctx, r.m.name, s.values(), st.ttl, now)
	} else {
		p, ok, err = c.store.GetPin(ctx, r.sessionKey(), st.ttl)
	}
	if err != nil {
		c.observe(ctx, Event{Kind: EventStoreError, Model: r.m.name, Err: err})
		return 0
	}
	if !ok {
		return 0
	}
	i, ok := r.m.targetIndex(p.Target)
	if !ok {
		return 0
	}
	r.sticky.pinned = i
	return strategy.Of(i)
}

// scanTargets is the most targets a model finds a pinned target among by
// comparing names rather than by its index map.
const scanTargets = 8

// targetIndex returns the index of the target named ref in m. Most
// models have a few targets: comparing ref with each name costs less
// than hashing it, and a pin from the Client's own Memory holds the very
// string the model compiled, which compares equal at once (a string
// comparison looks at the lengths and data pointers before the bytes).
func (m *model) targetIndex(ref string) (int, bool) {
	if len(m.refs) <= scanTargets {
		for i, r := range m.refs {
			if r == ref {
				return i, true
			}
		}
		return -1, false
	}
	i, ok := m.index[ref]
	return i, ok
}

// repin moves the session's pin to the target that served it, when that
// is not the one already pinned (whose TTL the lookup refreshed).
func (c *Client) repin(r *run, served int) {
	if !r.sticky.session || r.sticky.pinned == served {
		return
	}
	t := &r.m.targets[served]
	if err := c.store.SetPin(r.ctx, r.sessionKey(), stores.Pin{Target: t.ref}, r.m.sticky.ttl); err != nil {
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
