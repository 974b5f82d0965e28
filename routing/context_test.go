package routing

import (
	"context"
	"net/http"
	"testing"
	"time"
)

type otherKey struct{}

func TestContextValues(t *testing.T) {
	h1 := http.Header{"A": {"1"}}
	h2 := http.Header{"B": {"2"}}
	tr1, tr2 := new(Trace), new(Trace)

	bg := context.Background()
	if v := valuesFrom(bg); v != nil {
		t.Fatalf("valuesFrom(Background) = %+v; want nil", v)
	}
	if s, ok := SubjectFrom(bg); s != "" || ok {
		t.Errorf("SubjectFrom(Background) = %q, %t; want \"\", false", s, ok)
	}

	// Each With adds its value to those of its parent, across other
	// layers, and overrides the parent's own.
	ctx := WithSubject(bg, "user:a")
	ctx = context.WithValue(ctx, otherKey{}, "x")
	ctx = WithHeaders(ctx, h1)
	ctx = WithTrace(ctx, tr1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	child := WithSubject(WithHeaders(ctx, h2), "user:b")
	child = WithTrace(child, tr2)

	check := func(name string, ctx context.Context, h http.Header, tr *Trace, sub string) {
		t.Helper()
		v := valuesFrom(ctx)
		if v == nil {
			t.Fatalf("%s: no routing values", name)
		}
		if len(v.headers) != len(h) || v.headers == nil || v.headers.Get("A") != h.Get("A") || v.headers.Get("B") != h.Get("B") {
			t.Errorf("%s: headers = %v; want %v", name, v.headers, h)
		}
		if v.trace != tr {
			t.Errorf("%s: trace = %p; want %p", name, v.trace, tr)
		}
		if s, ok := SubjectFrom(ctx); s != sub || !ok {
			t.Errorf("%s: SubjectFrom = %q, %t; want %q, true", name, s, ok, sub)
		}
		if got := ctx.Value(otherKey{}); got != "x" {
			t.Errorf("%s: another key's value = %v; want x", name, got)
		}
	}
	check("parent", ctx, h1, tr1, "user:a")
	check("child", child, h2, tr2, "user:b")

	// An empty subject is a subject set.
	if s, ok := SubjectFrom(WithSubject(bg, "")); s != "" || !ok {
		t.Errorf("SubjectFrom(WithSubject(\"\")) = %q, %t; want \"\", true", s, ok)
	}

	// Cancellation passes through the routing values' layers as through
	// context.WithValue's: at once, with no goroutine to relay it.
	grandchild, stop := context.WithTimeout(child, time.Hour)
	defer stop()
	cancel()
	if err := grandchild.Err(); err != context.Canceled {
		t.Errorf("grandchild's Err() right after its ancestor's cancel = %v; want context.Canceled", err)
	}
}

func TestContextValuesNilParentPanics(t *testing.T) {
	// As context.WithValue does: a nil parent is a programming error.
	defer func() {
		if recover() == nil {
			t.Error("WithHeaders(nil, h) did not panic")
		}
	}()
	_ = WithHeaders(nil, http.Header{}) //nolint:staticcheck // the nil context is the point

}
