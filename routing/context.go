package routing

import (
	"context"
	"net/http"
)

// The routing values a context carries (WithHeaders, WithSubject,
// WithTrace) sit together in one context node, so that a call finds all
// of them in one walk up its context rather than one walk each. Each
// With function adds a node holding its parent's routing values with its
// own on top, so a value set closer to the call overrides one set
// further up, as with context.WithValue.
type values struct {
	headers    http.Header
	trace      *Trace
	subject    string
	hasSubject bool
}

type valuesKey struct{}

// valuesCtx is a context carrying the routing values v.
type valuesCtx struct {
	context.Context
	v values
}

func (c *valuesCtx) Value(key any) any {
	if _, ok := key.(valuesKey); ok {
		return &c.v
	}
	return c.Context.Value(key)
}

func (c *valuesCtx) String() string {
	if s, ok := c.Context.(interface{ String() string }); ok {
		return s.String() + ".WithRoutingValues"
	}
	return "context.WithRoutingValues"
}

// with returns a child of ctx carrying ctx's routing values changed by
// set. Like context.WithValue, it panics on a nil ctx.
func with(ctx context.Context, set func(*values)) context.Context {
	if ctx == nil {
		panic("cannot create context from nil parent")
	}
	c := &valuesCtx{Context: ctx}
	if v := valuesFrom(ctx); v != nil {
		c.v = *v
	}
	set(&c.v)
	return c
}

// valuesFrom returns ctx's routing values, nil when it has none.
func valuesFrom(ctx context.Context) *values {
	v, _ := ctx.Value(valuesKey{}).(*values)
	return v
}

// WithHeaders returns a context carrying the caller's request headers.
// They are sent upstream on every attempt (a target's headers_override
// applies on top) and are where sticky routing reads header session
// identifiers. The Client never modifies h; the caller must not modify it
// during the call.
func WithHeaders(ctx context.Context, h http.Header) context.Context {
	return with(ctx, func(v *values) { v.headers = h })
}

// WithSubject returns a context carrying the calling subject, such as
// "user:alice@example.com", "team:search" or "virtualaccount:billing",
// which access control checks against a group's collaborators.
func WithSubject(ctx context.Context, subject string) context.Context {
	return with(ctx, func(v *values) { v.subject, v.hasSubject = subject, true })
}

// SubjectFrom returns the subject set with WithSubject.
func SubjectFrom(ctx context.Context) (string, bool) {
	if v := valuesFrom(ctx); v != nil {
		return v.subject, v.hasSubject
	}
	return "", false
}

// WithTrace returns a context whose calls record what happened into tr:
// the resolved target and every attempt. tr is reset at the start of each
// call; use one Trace per call.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return with(ctx, func(v *values) { v.trace = tr })
}
