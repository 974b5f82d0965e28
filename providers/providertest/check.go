package providertest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/llmroute/llmroute/providers"
)

// errWant is the error a behaviour must come to.
type errWant struct {
	status  int
	code    string // exact Code, if not ""
	anyCode bool   // any non-empty Code
	// retryAfter is the RetryAfter wanted; with retryAfterMin, the most
	// of a range.
	retryAfter, retryAfterMin time.Duration
	is                        error // errors.Is target, if not nil
}

func (w errWant) String() string {
	var parts []string
	if w.status != 0 {
		parts = append(parts, fmt.Sprintf("status %d", w.status))
	}
	switch {
	case w.code != "":
		parts = append(parts, fmt.Sprintf("code %q", w.code))
	case w.anyCode:
		parts = append(parts, "the provider's code")
	}
	switch {
	case w.retryAfterMin > 0:
		parts = append(parts, fmt.Sprintf("retry after %v to %v", w.retryAfterMin, w.retryAfter))
	case w.retryAfter > 0:
		parts = append(parts, fmt.Sprintf("retry after %v", w.retryAfter))
	}
	if w.is != nil {
		parts = append(parts, fmt.Sprintf("matching %v", w.is))
	}
	if len(parts) == 0 {
		return "any status"
	}
	return strings.Join(parts, ", ")
}

// checkFailure reports how err differs from want; what names the call.
func checkFailure(t *testing.T, what string, err error, want errWant) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s error = nil; want an error with %v", what, want)
		return
	case errors.Is(err, io.EOF):
		t.Errorf("%s error = %v, matching io.EOF; want an error with %v (a failure must never look like the end of an answer)", what, err, want)
		return
	}
	if want.is != nil && !errors.Is(err, want.is) {
		t.Errorf("%s error = %v (%T), not matching %v; want an error with %v", what, err, err, want.is, want)
	}
	if want.status == 0 && want.code == "" && !want.anyCode && want.retryAfter == 0 {
		return
	}
	pe, ok := providers.FromError(err)
	if !ok {
		t.Errorf("%s error = %v (%T), with no status; want a *providers.Error with %v", what, err, err, want)
		return
	}
	if want.status != 0 && pe.Status != want.status {
		t.Errorf("%s error status = %d; want %d\n\terror: %v", what, pe.Status, want.status, err)
	}
	if want.code != "" && pe.Code != want.code {
		t.Errorf("%s error code = %q; want %q\n\terror: %v", what, pe.Code, want.code, err)
	}
	if want.anyCode && pe.Code == "" {
		t.Errorf("%s error code is empty; want the provider's code\n\terror: %v", what, err)
	}
	switch {
	case want.retryAfterMin > 0:
		if pe.RetryAfter < want.retryAfterMin || pe.RetryAfter > want.retryAfter {
			t.Errorf("%s error RetryAfter = %v; want %v to %v\n\terror: %v", what, pe.RetryAfter, want.retryAfterMin, want.retryAfter, err)
		}
	case want.retryAfter > 0:
		if pe.RetryAfter != want.retryAfter {
			t.Errorf("%s error RetryAfter = %v; want %v\n\terror: %v", what, pe.RetryAfter, want.retryAfter, err)
		}
	}
}

// checkKey fails t if err, or any error in its chain, shows the harness's
// key, however it is printed (%#v shows every field of a struct error).
func (c *call) checkKey(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || c.h.Key == "" {
		return
	}
	for _, e := range chain(err) {
		var shows []string
		text := ""
		for _, format := range []string{"%v", "%+v", "%#v", "%q"} {
			if s := fmt.Sprintf(format, e); strings.Contains(s, c.h.Key) {
				shows = append(shows, format)
				text = s
			}
		}
		if len(shows) > 0 {
			t.Errorf("%s error %T shows the API key when printed with %s; want it never to:\n\t%s",
				what, e, strings.Join(shows, ", "), text)
		}
	}
}

// maxChain bounds how much of an error chain checkKey walks, in case an
// error wraps itself.
const maxChain = 64

// chain returns err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil || len(out) >= maxChain {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		}
	}
	walk(err)
	return out
}
