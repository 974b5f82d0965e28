package routing

import (
	"context"
	"net/http"
)

type (
	headersKey struct{}
	subjectKey struct{}
	traceKey   struct{}
)

// WithHeaders returns a context carrying the caller's request headers.
// They are sent upstream on every attempt (a target's headers_override
// applies on top) and are where sticky routing reads header session
// identifiers. The Client never modifies h; the caller must not modify it
// during the call.
func WithHeaders(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, headersKey{}, h)
}

func headersFrom(ctx context.Context) http.Header {
	h, _ := ctx.Value(headersKey{}).(http.Header)
	return h
}

// WithSubject returns a context carrying the calling subject, such as
// "user:alice@example.com", "team:search" or "virtualaccount:billing",
// which access control checks against a group's collaborators.
func WithSubject(ctx context.Context, subject string) context.Context {
	return context.WithValue(ctx, subjectKey{}, subject)
}

// SubjectFrom returns the subject set with WithSubject.
func SubjectFrom(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(subjectKey{}).(string)
	return s, ok
}

// WithTrace returns a context whose calls record what happened into tr:
// the resolved target and every attempt. tr is reset at the start of each
// call; use one Trace per call.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

func traceFrom(ctx context.Context) *Trace {
	tr, _ := ctx.Value(traceKey{}).(*Trace)
	return tr
}
