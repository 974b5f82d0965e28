package gemini

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// callState carries one call's attempt data (providers.Call) from a
// Provider method through genai to the transport, and carries back what
// the transport saw: whether the request left, the status, a Retry-After
// header, the credentials on the request and, for a stream, how its body
// ended.
//
// It travels as the request's context: it is a context.Context itself,
// embedding the caller's ctx and answering Value(stateKey{}) with itself,
// so per-call data never sits on the shared client. genai derives the
// request's context from the ctx it is given, so the transport finds the
// state with a Value lookup.
//
// For a unary call only the calling goroutine touches it. For a stream,
// the transport runs on the stream's reader goroutine and the fields it
// writes are read by Recv only after a channel operation that follows the
// write (the headers signal, or an item of the stream), so no lock is
// needed.
type callState struct {
	context.Context

	header http.Header
	remove []string
	stream bool

	// Set by the transport.
	sent       bool
	status     int
	retryAfter time.Duration
	secrets    redact.Secrets
	body       *watchBody
	headers    chan struct{} // closed when a stream's 2xx headers arrive
	headerOnce sync.Once
}

// stateKey is the context key under which a callState finds itself.
type stateKey struct{}

func newCallState(ctx context.Context, c *providers.Call, stream bool) *callState {
	s := &callState{Context: ctx, header: c.Header, remove: c.RemoveHeader, stream: stream}
	if stream {
		s.headers = make(chan struct{})
	}
	return s
}

// Value returns the state itself for stateKey and defers to the caller's
// ctx for every other key.
func (s *callState) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return s
	}
	return s.Context.Value(key)
}

// stateOf finds the callState a request was built with, if any.
func stateOf(ctx context.Context) *callState {
	if s, ok := ctx.(*callState); ok {
		return s
	}
	s, _ := ctx.Value(stateKey{}).(*callState)
	return s
}

// transport is the RoundTripper of every request the Provider sends. It
// applies the attempt's headers after genai has set its own (so an
// override of x-goog-api-key or User-Agent replaces genai's value rather
// than joining it, and RemoveHeader can strip anything genai set), bounds
// error bodies, and records what error translation needs. It keeps no
// per-call state: that lives in the request's callState.
type transport struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := stateOf(req.Context())
	if s == nil {
		return t.next.RoundTrip(req)
	}
	s.noteCredentials(req.Header)
	if len(s.header) > 0 || len(s.remove) > 0 {
		// A RoundTripper must not change the request it is given.
		req = req.Clone(req.Context())
		httpheader.Apply(req.Header, s.header, s.remove)
		s.noteCredentials(req.Header)
	}
	s.sent = true
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	s.status = resp.StatusCode
	switch {
	case resp.StatusCode >= http.StatusBadRequest:
		if d, ok := providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			s.retryAfter = d
		}
		// genai reads an error body whole; a broken proxy must not make
		// one attempt buffer without bound.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), Closer: resp.Body}
	case s.stream && resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusMultipleChoices:
		s.body = &watchBody{rc: resp.Body}
		resp.Body = s.body
		s.headerOnce.Do(func() { close(s.headers) })
	}
	return resp, nil
}

// maxErrorBody is the most of an error response that is read: far more
// than any provider's error object, far less than a runaway page.
const maxErrorBody = 1 << 20

// limitedBody reads at most maxErrorBody of a body and closes the original.
type limitedBody struct {
	io.Reader
	io.Closer
}

// watchBody is a stream's response body as genai's event reader sees it.
// It records how the body ended, and hands the reader a clean io.EOF in
// place of a read error: genai logs every read error through the standard
// log package, and the stream's own Recv reports the failure instead,
// with the recorded cause.
type watchBody struct {
	rc      io.ReadCloser
	err     error // the read error, if the body failed
	eof     bool  // the body ended (cleanly or not)
	tail    [4]byte
	tailLen int
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.remember(p[:n])
	}
	if err != nil {
		b.eof = true
		if err != io.EOF {
			b.err = err
		}
		return n, io.EOF
	}
	return n, nil
}

// remember keeps the last four bytes read, to tell whether the body ended
// at an event boundary.
func (b *watchBody) remember(p []byte) {
	if len(p) >= len(b.tail) {
		copy(b.tail[:], p[len(p)-len(b.tail):])
		b.tailLen = len(b.tail)
		return
	}
	keep := min(b.tailLen, len(b.tail)-len(p))
	copy(b.tail[:], b.tail[b.tailLen-keep:b.tailLen])
	copy(b.tail[keep:], p)
	b.tailLen = keep + len(p)
}

// endedMidEvent reports whether the body ended without the blank line
// that closes a server-sent event: the last event was cut off.
func (b *watchBody) endedMidEvent() bool {
	if !b.eof {
		return false
	}
	t := string(b.tail[:b.tailLen])
	return b.tailLen > 0 && !strings.HasSuffix(t, "\n\n") && !strings.HasSuffix(t, "\r\n\r\n")
}

func (b *watchBody) Close() error { return b.rc.Close() }

// noteCredentials remembers the credentials on h: x-goog-api-key (the
// Gemini API key, also Vertex express mode), and the token of an
// Authorization header, which an override may set.
func (s *callState) noteCredentials(h http.Header) {
	s.secrets.Add(h.Get("X-Goog-Api-Key"))
	if v := h.Get("Authorization"); v != "" {
		if i := strings.IndexByte(v, ' '); i >= 0 {
			v = v[i+1:]
		}
		s.secrets.Add(strings.TrimSpace(v))
	}
}
