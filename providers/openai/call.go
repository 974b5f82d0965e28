package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// callState carries one call's attempt data (providers.Call) from a
// Provider method through go-openai to the doer, and carries back what
// the doer saw (status, Retry-After, credentials, the stream body).
//
// It travels as the request's context: it is a context.Context itself,
// embedding the caller's ctx and answering Value(stateKey{}) with itself.
// That keeps per-call data off the shared client (go-openai has no
// per-request hooks) at the cost of one allocation per call, the state.
// Only the goroutine making the call touches it: go-openai calls the
// doer synchronously, so no locking is needed.
type callState struct {
	context.Context

	header   http.Header
	remove   []string
	extra    map[string]any
	keepBody bool // a stream: hand the response body back to ChatStream

	// Set by the doer.
	sent       bool // the request reached the HTTP client
	status     int  // the response status, 0 if none arrived
	retryAfter time.Duration
	limits     providers.RateLimits // read from an error's or a stream's response
	secrets    redact.Secrets       // credentials seen on the request, for redaction
	// sentHeader is the header of a request sent as go-openai built
	// it, whose credentials are not in secrets until credentials
	// notes them.
	sentHeader http.Header
	body       io.ReadCloser
}

// stateKey is the context key under which a callState finds itself.
type stateKey struct{}

func newCallState(ctx context.Context, c *providers.Call) *callState {
	st := &callState{}
	st.init(ctx, c)
	return st
}

func (s *callState) init(ctx context.Context, c *providers.Call) {
	if ctx == nil {
		// A nil ctx would panic deep inside net/http; treat it as
		// Background rather than crash on input.
		ctx = context.Background()
	}
	s.Context = ctx
	s.header = c.Header
	s.remove = c.RemoveHeader
	s.extra = c.Extra
}

// Value returns the state itself for stateKey and defers to the caller's
// ctx for every other key, so cancellation, deadlines and values behave
// exactly as the caller's ctx does.
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

// doer is the HTTPDoer go-openai sends every request through. It applies
// the attempt's headers and extra body fields, and records what error
// translation needs from the response. It holds no per-call state: that
// lives in the request's callState, so one doer serves concurrent calls.
type doer struct {
	next goopenai.HTTPDoer
}

// Do implements goopenai.HTTPDoer.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	s := stateOf(req.Context())
	if s == nil {
		return d.next.Do(req)
	}
	if len(s.header) == 0 && len(s.remove) == 0 && !s.keepBody {
		// The request goes with the headers go-openai set, which
		// nothing changes from here on; its credential is read only
		// if translate needs it to redact an error.
		s.sentHeader = req.Header
	} else {
		// The credential go-openai set, before the attempt's headers
		// may replace or remove it: either one may be echoed back by
		// a server.
		s.noteCredentials(req.Header)
		httpheader.Apply(req.Header, s.header, s.remove)
		if len(s.header) > 0 {
			s.noteCredentials(req.Header)
		}
	}
	if len(s.extra) > 0 {
		if err := setExtra(req, s.extra); err != nil {
			return nil, err
		}
	}

	s.sent = true
	resp, err := d.next.Do(req)
	if resp == nil {
		return resp, err
	}
	s.status = resp.StatusCode
	if err != nil {
		// Only a failed CheckRedirect; the body is already closed.
		return resp, err
	}
	if noAnswer(resp.StatusCode) {
		// go-openai would decode a 1xx or 3xx body as a success; it is
		// not one, and translate reports it as such.
		_ = resp.Body.Close()
		return nil, errNoAnswer
	}
	if resp.StatusCode >= http.StatusBadRequest || s.keepBody {
		// A unary success carries its headers on the response
		// go-openai returns; an error or a stream has only these.
		s.limits = providers.ParseRateLimits(resp.Header, time.Now())
	}
	if resp.StatusCode >= http.StatusBadRequest {
		s.retryAfter = retryAfter(resp.Header, time.Now())
		// go-openai reads an error body whole; a broken proxy must not
		// make one attempt buffer without bound.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), Closer: resp.Body}
	}
	if s.keepBody {
		s.body = resp.Body
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

// errNoAnswer is the doer's error for a status that is neither success nor
// error; translate turns it into a 502.
var errNoAnswer = errors.New("openai: response is neither success nor error")

// noAnswer reports whether status is informational or a redirect that the
// HTTP client did not follow (304, a 3xx without Location, ...).
func noAnswer(status int) bool {
	return status < http.StatusOK || status >= http.StatusMultipleChoices && status < http.StatusBadRequest
}

// noteCredentials remembers the credentials on h: the token of an
// Authorization header (any scheme), and Azure's api-key / x-api-key.
//
// The keys are read as written, canonical, as Header.Get would look them
// up, without canonicalising them again on every request.
func (s *callState) noteCredentials(h http.Header) {
	if v := first(h, "Authorization"); v != "" {
		if i := strings.IndexByte(v, ' '); i >= 0 {
			v = v[i+1:]
		}
		s.secrets.Add(strings.TrimSpace(v))
	}
	s.secrets.Add(first(h, "Api-Key"))
	s.secrets.Add(first(h, "X-Api-Key"))
}

// credentials puts the credentials of a request sent as go-openai built
// it in s.secrets. Only translate calls it, on the goroutine that made
// the call, before anything redacts.
func (s *callState) credentials() {
	if h := s.sentHeader; h != nil {
		s.sentHeader = nil
		s.noteCredentials(h)
	}
}

// first returns h's first value for the canonical key, as h.Get(key).
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// setExtra rewrites req's JSON body with extra merged in at top level.
func setExtra(req *http.Request, extra map[string]any) error {
	if req.Body == nil || req.Body == http.NoBody {
		return errors.New("openai: extra body fields on a request without a body")
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return err
	}
	merged, err := mergeExtra(body, extra)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(merged))
	req.ContentLength = int64(len(merged))
	req.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(merged)), nil
	}
	return nil
}

// retryAfter reads how long an error response asks the caller to wait.
//
// OpenAI sends both retry-after-ms (milliseconds, possibly fractional) and
// Retry-After (whole seconds, rounded up from the same wait). The
// millisecond header wins when it is valid, as in OpenAI's own SDKs: it is
// the precise form of the same instruction, and the rounded one would make
// the router wait up to a second longer than asked, or give up on a
// deadline that the real wait fits in. Retry-After (seconds or an HTTP
// date) is used when retry-after-ms is absent or malformed.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if d, ok := providers.ParseRetryAfterMS(h.Get("Retry-After-Ms")); ok {
		return d
	}
	if d, ok := providers.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	return 0
}
