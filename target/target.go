package target

import (
	"time"

	"github.com/llmroute/llmroute/metadata"
)

// Default retry and fallback rules, used when a target does not set its own
// (see docs/behaviour.md, Retries and fallback).
var (
	// DefaultRetryCodes are the statuses retried on the same target.
	DefaultRetryCodes = []int{429, 500, 502, 503}
	// DefaultFallbackCodes are the statuses that move a call on to the
	// next target once the tries on one are used up.
	DefaultFallbackCodes = []int{401, 403, 404, 429, 500, 502, 503}
)

const (
	// DefaultAttempts is how many retries follow the first try.
	DefaultAttempts = 2
	// DefaultDelay is the wait before the first retry; it doubles for
	// each retry after that.
	DefaultDelay = 100 * time.Millisecond
)

// Target is one entry of a virtual model's load_balance_targets. It is a
// plain value; a Client copies what it needs when it is configured, so a
// Target may be reused or changed afterwards without effect on a running
// Client.
type Target struct {
	// Ref names the real model as "account/model", where account is a
	// provider registered with routing.WithProvider and model is that
	// provider's own model (or Azure deployment) name.
	Ref string
	// Weight is the relative share of first picks for weight-based
	// routing. 0 means the target is never picked first while a target
	// with a positive weight is eligible, yet it still serves as a
	// fallback.
	Weight int
	// Priority orders targets for priority-based routing: 0 is tried
	// first, then 1, and so on; equal priorities share load.
	Priority int
	// Retry sets the tries on this target. Nil means the defaults:
	// 2 retries, 100 ms initial delay, on 429, 500, 502 and 503.
	Retry *Retry
	// FallbackStatusCodes are the statuses after which the call moves
	// on to the next target. Nil means DefaultFallbackCodes; an empty
	// non-nil slice means never fall back from this target (a timeout,
	// 408, still falls back).
	FallbackStatusCodes []int
	// FallbackErrorCodes are provider error codes, such as
	// "context_length_exceeded", after which the call moves on to the next
	// target at once, whatever the status: a longer-context model can take
	// over a request this one refused, which is never sent to this target
	// again. Nil means none.
	FallbackErrorCodes []string
	// NoFallback, when true, keeps this target out of every call's
	// fallback order: it may be picked first, never later
	// (fallback_candidate: false in a manifest).
	NoFallback bool
	// MetadataMatch, when set, makes the target eligible only for
	// requests whose metadata holds every pair. When any target with
	// a MetadataMatch matches a request, only the matching targets are
	// eligible; otherwise only the targets without one are.
	MetadataMatch metadata.MD
	// Headers adds, replaces or removes upstream HTTP headers.
	Headers HeadersOverride
	// Params replaces request parameters for this target
	// (override_params): known fields such as temperature, max_tokens,
	// top_p and stop are set on the typed request; any other key is sent
	// as an extra top-level JSON field.
	Params map[string]any
	// SLA, for priority-based routing, marks the target unhealthy while
	// its recent mean latency is above the cutoff.
	SLA SLACutoff
	// RequestTimeout bounds one attempt; 0 means only the caller's
	// context bounds it. An attempt that runs out of time is a 408.
	RequestTimeout time.Duration
	// TTFTTimeout bounds the wait for a stream's first content chunk;
	// 0 means no bound of its own.
	TTFTTimeout time.Duration
	// StreamIdleTimeout bounds the gap between two chunks of a stream
	// after its first content chunk; 0 means no bound of its own.
	StreamIdleTimeout time.Duration
}

// Retry is a target's retry_config.
type Retry struct {
	// Attempts is the number of retries after the first try; 0 means
	// no retries.
	Attempts int
	// Delay is the wait before the first retry, doubling for each one
	// after it (with jitter). 0 means DefaultDelay.
	Delay time.Duration
	// OnStatusCodes are the statuses that are retried. Nil means
	// DefaultRetryCodes; an empty non-nil slice means none.
	OnStatusCodes []int
}

// HeadersOverride is a target's headers_override.
type HeadersOverride struct {
	// Set adds or replaces upstream request headers.
	Set map[string]string
	// Remove strips upstream request headers, after Set.
	Remove []string
}

// IsZero reports whether h changes nothing.
func (h HeadersOverride) IsZero() bool { return len(h.Set) == 0 && len(h.Remove) == 0 }

// SLACutoff is a target's sla_cutoff. A zero field sets no cutoff.
type SLACutoff struct {
	// TimePerOutputToken is the highest acceptable mean time per
	// output token.
	TimePerOutputToken time.Duration
	// TimeToFirstToken is the highest acceptable mean time to the first
	// token of a stream.
	TimeToFirstToken time.Duration
}

// IsZero reports whether s sets no cutoff.
func (s SLACutoff) IsZero() bool { return s.TimePerOutputToken == 0 && s.TimeToFirstToken == 0 }

// RetryOrDefault returns t's retry rules with every default filled in.
func (t *Target) RetryOrDefault() Retry {
	if t.Retry == nil {
		return Retry{Attempts: DefaultAttempts, Delay: DefaultDelay, OnStatusCodes: DefaultRetryCodes}
	}
	r := *t.Retry
	if r.Delay == 0 {
		r.Delay = DefaultDelay
	}
	if r.OnStatusCodes == nil {
		r.OnStatusCodes = DefaultRetryCodes
	}
	return r
}

// FallbackCodesOrDefault returns t's fallback statuses with the default
// filled in.
func (t *Target) FallbackCodesOrDefault() []int {
	if t.FallbackStatusCodes == nil {
		return DefaultFallbackCodes
	}
	return t.FallbackStatusCodes
}
