package bedrock

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/llmroute/llmroute/internal/redact"
	"github.com/llmroute/llmroute/providers"
)

// callState carries one call's attempt data (providers.Call) through the
// SDK to this package's middleware and HTTP doer, and carries back what
// they saw. It travels in the request's context, never on the shared
// client, so concurrent calls with different headers never see each
// other's.
//
// The SDK runs the middleware and sends the request on the calling
// goroutine (for ConverseStream too: only reading the events happens
// elsewhere), so the fields need no locking; the stream reads them only
// after ChatStream has returned.
type callState struct {
	header http.Header
	remove []string

	identified bool // credentials were resolved
	sent       bool // the request reached the HTTP client
	status     int  // the response status, 0 if none arrived
	retryAfter time.Duration
	secrets    redact.Secrets // credentials seen on the request, for redaction
}

type stateKey struct{}

func withState(ctx context.Context, c *providers.Call) (context.Context, *callState) {
	st := &callState{header: c.Header, remove: c.RemoveHeader}
	return context.WithValue(ctx, stateKey{}, st), st
}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// signerOwned are the headers SigV4 (or the bearer signer) writes itself,
// and the ones net/http derives from the request: an attempt's headers
// cannot set or remove them.
var signerOwned = map[string]bool{
	"Authorization":        true,
	"X-Amz-Date":           true,
	"X-Amz-Security-Token": true,
	"X-Amz-Content-Sha256": true,
	"Host":                 true,
	"Content-Length":       true,
	"Transfer-Encoding":    true,
}

// addMiddleware installs, on every operation's stack, the two steps that
// connect the SDK to the call's state: one notes that credentials were
// resolved (so a failure to get them is told apart from a bad request),
// the other applies the attempt's headers just before signing, so that
// every header the upstream sees is covered by the signature.
func addMiddleware(stack *middleware.Stack) error {
	identified := middleware.FinalizeMiddlewareFunc("llmroute.Identified",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if st := stateOf(ctx); st != nil {
				st.identified = true
			}
			return next.HandleFinalize(ctx, in)
		})
	if err := stack.Finalize.Insert(identified, "GetIdentity", middleware.After); err != nil {
		return err
	}
	headers := middleware.FinalizeMiddlewareFunc("llmroute.Headers",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if st := stateOf(ctx); st != nil {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					st.applyHeaders(req.Header)
				}
			}
			return next.HandleFinalize(ctx, in)
		})
	return stack.Finalize.Insert(headers, "Signing", middleware.Before)
}

// applyHeaders sets the attempt's headers on h (replacing any the SDK
// set) and then removes the attempt's RemoveHeader names, leaving the
// signer's own headers alone.
func (s *callState) applyHeaders(h http.Header) {
	for k, vs := range s.header {
		k = http.CanonicalHeaderKey(k)
		if signerOwned[k] {
			continue
		}
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, k := range s.remove {
		k = http.CanonicalHeaderKey(k)
		if !signerOwned[k] {
			h.Del(k)
		}
	}
}

// doer wraps the SDK's HTTP client: it records the credentials on the
// signed request (for redaction) and what error translation needs from
// the response, and bounds how much of an error body the SDK may buffer.
type doer struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// readCloser hides every method of a request body but Read and Close.
//
// The SDK closes the request body as soon as the response headers are
// back, and its body's WriteTo then returns io.EOF as an error. The HTTP
// transport may still be finishing the request write with a last copy
// (to check the body held no more than its Content-Length); io.Copy uses
// WriteTo when it can, takes that io.EOF for a failed write and closes
// the connection, under a response that is still being read: a stream
// cut short for no reason. Read after Close returns a plain io.EOF,
// which ends that copy cleanly.
type readCloser struct{ io.ReadCloser }

// maxErrorBody is the most of an error response the SDK is given: far
// more than any Bedrock error object, far less than a runaway page.
const maxErrorBody = 1 << 20

// Do implements the SDK's HTTPClient.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	st := stateOf(req.Context())
	if st == nil {
		return d.next.Do(req)
	}
	st.noteCredentials(req.Header)
	st.sent = true
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readCloser{req.Body}
	}
	resp, err := d.next.Do(req)
	if resp == nil {
		return resp, err
	}
	st.status = resp.StatusCode
	if resp.StatusCode >= http.StatusMultipleChoices && resp.Body != nil {
		st.retryAfter = retryAfter(resp.Header)
		// The SDK reads an error body whole, and for an event stream
		// operation never closes it: read a bounded copy here and close
		// the connection's body, so a runaway error page can neither
		// grow without bound nor hold the connection open.
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
	}
	return resp, err
}

// retryAfter reads the wait an error response asks for, or 0.
func retryAfter(h http.Header) time.Duration {
	if d, ok := providers.ParseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
		return d
	}
	return 0
}

// noteCredentials remembers the credentials on a signed request: the
// access key id of a SigV4 Authorization header ("Credential=AKID/..."),
// the token of a Bearer one (a Bedrock API key), and a session token.
// The secret access key itself never travels; a server cannot echo it.
func (s *callState) noteCredentials(h http.Header) {
	auth := h.Get("Authorization")
	switch {
	case strings.HasPrefix(auth, "AWS4-"):
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred := auth[i+len("Credential="):]
			if j := strings.IndexByte(cred, '/'); j >= 0 {
				s.secrets.Add(cred[:j])
			}
		}
	case auth != "":
		if i := strings.IndexByte(auth, ' '); i >= 0 {
			auth = auth[i+1:]
		}
		s.secrets.Add(strings.TrimSpace(auth))
	}
	s.secrets.Add(h.Get("X-Amz-Security-Token"))
}
