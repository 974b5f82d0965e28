package anthropic

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/llmroute/llmroute/internal/redact"
)

// callState is what one call learns while the SDK sends its request, for
// the translation of its errors: whether the request went out, its
// status, and the credentials it carried (to redact them).
//
// It reaches the middleware through the request's context. Only the
// goroutine making the call writes it: the SDK runs middlewares
// synchronously, before Messages.New or NewStreaming returns.
type callState struct {
	parent context.Context // the caller's ctx
	ctx    context.Context // parent carrying the state, for the SDK

	sent    bool           // the request reached the HTTP client
	status  int            // the response status, 0 if none arrived
	secrets redact.Secrets // credentials seen on the request
}

// stateKey is the context key of a call's state.
type stateKey struct{}

func newCallState(ctx context.Context) *callState {
	st := &callState{parent: ctx}
	st.ctx = context.WithValue(ctx, stateKey{}, st)
	return st
}

// attemptMiddleware is the innermost middleware: it sees the request as
// the HTTP client gets it, credentials included, and its response.
func attemptMiddleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	st, _ := req.Context().Value(stateKey{}).(*callState)
	if st == nil {
		return next(req)
	}
	st.noteCredentials(req.Header)
	st.sent = true
	resp, err := next(req)
	if resp == nil || err != nil {
		return resp, err
	}
	st.status = resp.StatusCode
	if resp.StatusCode < http.StatusOK || resp.StatusCode >= http.StatusMultipleChoices && resp.StatusCode < http.StatusBadRequest {
		// Neither an answer nor an error: the SDK would read the body
		// as a message.
		_ = resp.Body.Close()
		return nil, errNoAnswer
	}
	if resp.StatusCode >= http.StatusBadRequest {
		// The SDK reads an error body whole; a broken proxy must not
		// make one attempt buffer without bound.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), Closer: resp.Body}
	}
	return resp, nil
}

// errNoAnswer is the error of a response that is neither a success nor
// an error (1xx, or a 3xx the HTTP client did not follow).
var errNoAnswer = errors.New("anthropic: response is neither success nor error")

// maxErrorBody is the most of an error response that is read: far more
// than any error object, far less than a runaway page.
const maxErrorBody = 1 << 20

type limitedBody struct {
	io.Reader
	io.Closer
}

// noteCredentials remembers the credentials on h: the token of an
// Authorization header (any scheme) and an X-Api-Key.
func (s *callState) noteCredentials(h http.Header) {
	if v := h.Get("Authorization"); v != "" {
		if _, tok, ok := strings.Cut(v, " "); ok {
			v = tok
		}
		s.secrets.Add(strings.TrimSpace(v))
	}
	s.secrets.Add(strings.TrimSpace(h.Get("X-Api-Key")))
}
