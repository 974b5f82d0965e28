package retry

import (
	"net/http"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/llmroute/llmroute/target"
)

const (
	// MaxDelay caps the exponential step before jitter, so a wait is at
	// most MaxDelay×(1+Jitter), as in the backoff module and gRPC.
	MaxDelay = 20 * time.Second
	// MaxRetryAfter is the longest Retry-After a call waits for; a
	// longer one means fall back at once.
	MaxRetryAfter = 60 * time.Second
	// Jitter is the randomisation factor applied to each delay: a delay
	// d becomes a uniform draw from [d×(1−Jitter), d×(1+Jitter)]. At
	// 0.25 successive delays never overlap, so they always grow until
	// the step reaches MaxDelay.
	Jitter = 0.25
)

// Decision is what the attempt loop does after a failed try.
type Decision uint8

// Decisions.
const (
	// Stop returns the error to the caller.
	Stop Decision = iota
	// Again retries on the same target.
	Again
	// Fallback moves on to the next target in the call's order.
	Fallback
)

// String names d.
func (d Decision) String() string {
	switch d {
	case Stop:
		return "stop"
	case Again:
		return "retry"
	case Fallback:
		return "fallback"
	}
	return "unknown"
}

// codeSet is a set of HTTP statuses 0..1023 as a bitmap, so a lookup on the
// hot path is two instructions and allocates nothing.
type codeSet [16]uint64

func newCodeSet(codes []int) codeSet {
	var s codeSet
	for _, c := range codes {
		if c >= 0 && c < 1024 {
			s[c>>6] |= 1 << (c & 63)
		}
	}
	return s
}

func (s *codeSet) has(c int) bool {
	return c >= 0 && c < 1024 && s[c>>6]&(1<<(c&63)) != 0
}

// Policy is one target's retry and fallback rules, compiled for the hot
// path. Its zero value never retries and never falls back (but a timeout
// still falls back). A Policy is immutable and safe for concurrent use.
type Policy struct {
	attempts   int
	delay      time.Duration
	retry      codeSet
	fallback   codeSet
	errorCodes []string // provider error codes that fall back at once
}

// NewPolicy compiles r (with defaults already filled in, see
// target.Target.RetryOrDefault), the fallback statuses and any provider
// error codes that fall back whatever their status
// (target.Target.FallbackErrorCodes).
func NewPolicy(r target.Retry, fallbackCodes []int, fallbackErrorCodes ...string) Policy {
	return Policy{
		attempts:   r.Attempts,
		delay:      r.Delay,
		retry:      newCodeSet(r.OnStatusCodes),
		fallback:   newCodeSet(fallbackCodes),
		errorCodes: slices.Clone(fallbackErrorCodes),
	}
}

// Tries returns the most tries a call makes on the target: 1 + attempts.
func (p *Policy) Tries() int { return 1 + p.attempts }

// Classify decides what follows a failed try (1-based) that ended with
// status. A status listed for retries is retried while tries remain; after
// that, a status listed for fallback (and a timeout, 408, always) moves on
// to the next target; anything else stops the call.
func (p *Policy) Classify(status, try int) Decision {
	if try < 1+p.attempts && p.retry.has(status) {
		return Again
	}
	if p.FallsBack(status) {
		return Fallback
	}
	return Stop
}

// ClassifyError is Classify for a failure that carries the provider's own
// error code: a code listed in the target's fallback_error_codes falls
// back at once, never retried on this target, whatever its status.
func (p *Policy) ClassifyError(status int, code string, try int) Decision {
	if code != "" && slices.Contains(p.errorCodes, code) {
		return Fallback
	}
	return p.Classify(status, try)
}

// Retries reports whether status is retried on the same target.
func (p *Policy) Retries(status int) bool { return p.retry.has(status) }

// FallsBack reports whether status moves a call to the next target.
func (p *Policy) FallsBack(status int) bool {
	return status == http.StatusRequestTimeout || p.fallback.has(status)
}

// Backoff yields the waits before the successive retries on one target
// within one call. It is a small value meant to live on the attempt loop's
// stack; it is not safe for concurrent use.
type Backoff struct {
	exp backoff.ExponentialBackOff
}

// zeroClock satisfies backoff.Clock; the loop never sets MaxElapsedTime, so
// the backoff module never needs real time.
type zeroClock struct{}

func (zeroClock) Now() time.Time { return time.Time{} }

// Backoff starts the waits for one target: the target's delay, doubling
// for each retry, capped at MaxDelay.
func (p *Policy) Backoff() Backoff {
	b := Backoff{exp: backoff.ExponentialBackOff{
		InitialInterval: p.delay,
		Multiplier:      2, // delay × 2^(n-1)
		MaxInterval:     MaxDelay,
		Stop:            backoff.Stop,
		Clock:           zeroClock{},
	}}
	b.exp.Reset()
	return b
}

// Next returns the wait before the next retry: the next exponential step
// jittered by ±Jitter using r (a uniform number in [0, 1)); a longer
// retryAfter replaces it. ok is false when retryAfter exceeds
// MaxRetryAfter: do not wait, fall back.
func (b *Backoff) Next(retryAfter time.Duration, r float64) (d time.Duration, ok bool) {
	step := b.exp.NextBackOff()
	if retryAfter > MaxRetryAfter {
		return 0, false
	}
	d = Jittered(step, r)
	if retryAfter > d {
		d = retryAfter
	}
	return d, true
}

// Jittered spreads d uniformly over [d×(1−Jitter), d×(1+Jitter)] using r
// in [0, 1), so that many clients failing together do not retry together.
func Jittered(d time.Duration, r float64) time.Duration {
	if d <= 0 {
		return 0
	}
	lo := float64(d) * (1 - Jitter)
	return time.Duration(lo + r*2*Jitter*float64(d))
}

// Fits reports whether waiting d from now still leaves the deadline (if
// any) in the future. When it does not, the loop falls back at once rather
// than sleep into a deadline it cannot meet.
func Fits(now time.Time, d time.Duration, deadline time.Time, hasDeadline bool) bool {
	return !hasDeadline || now.Add(d).Before(deadline)
}
