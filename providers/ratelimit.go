package providers

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimits is what a provider said about its rate limits on one
// response: how many requests and tokens its current window has left, and
// when the window is whole again. Providers send them on every response,
// successes and refusals alike (OpenAI and Azure OpenAI as
// x-ratelimit-*, Anthropic as anthropic-ratelimit-*), so a router can
// stop sending to a target whose budget is spent before the target
// answers 429. The zero value reports nothing.
type RateLimits struct {
	Requests, Tokens Quota
}

// Quota is one rate-limit budget as a response reported it. Its zero
// value reports nothing.
type Quota struct {
	// Reported is set when the response said how much is left; without
	// it the other fields mean nothing.
	Reported bool
	// Limit is the budget's size, 0 when the response did not say.
	Limit int64
	// Remaining is how much of it is left.
	Remaining int64
	// Reset is how long after the response the budget is whole again,
	// 0 when the response did not say.
	Reset time.Duration
}

// Exhausted reports whether the response said nothing is left.
func (q Quota) Exhausted() bool { return q.Reported && q.Remaining <= 0 }

// IsZero reports whether r reports nothing.
func (r RateLimits) IsZero() bool { return r == RateLimits{} }

// RateLimitReporter is an optional interface of a [Stream] whose
// provider reported rate limits with its response headers; RateLimits
// returns them (the zero RateLimits when it reported none). It is read
// once the stream is open, before its first Recv, and must be safe to
// call then and after Close.
type RateLimitReporter interface {
	RateLimits() RateLimits
}

// The headers [ParseRateLimits] reads, in canonical form so that a lookup
// costs no allocation.
const (
	hdrRemainingRequests = "X-Ratelimit-Remaining-Requests"
	hdrRemainingTokens   = "X-Ratelimit-Remaining-Tokens"
	hdrLimitRequests     = "X-Ratelimit-Limit-Requests"
	hdrLimitTokens       = "X-Ratelimit-Limit-Tokens"
	hdrResetRequests     = "X-Ratelimit-Reset-Requests"
	hdrResetTokens       = "X-Ratelimit-Reset-Tokens"

	hdrAnthropicRequestsRemaining    = "Anthropic-Ratelimit-Requests-Remaining"
	hdrAnthropicRequestsLimit        = "Anthropic-Ratelimit-Requests-Limit"
	hdrAnthropicRequestsReset        = "Anthropic-Ratelimit-Requests-Reset"
	hdrAnthropicTokensRemaining      = "Anthropic-Ratelimit-Tokens-Remaining"
	hdrAnthropicTokensLimit          = "Anthropic-Ratelimit-Tokens-Limit"
	hdrAnthropicTokensReset          = "Anthropic-Ratelimit-Tokens-Reset"
	hdrAnthropicInputTokensRemaining = "Anthropic-Ratelimit-Input-Tokens-Remaining"
	hdrAnthropicInputTokensLimit     = "Anthropic-Ratelimit-Input-Tokens-Limit"
	hdrAnthropicInputTokensReset     = "Anthropic-Ratelimit-Input-Tokens-Reset"
)

// ParseRateLimits reads the rate-limit headers of a provider's response,
// received at now:
//
//   - OpenAI and Azure OpenAI: x-ratelimit-{limit,remaining,reset}-requests
//     and -tokens, whose resets are durations such as "1s", "6m0s" or
//     "20ms";
//   - Anthropic: anthropic-ratelimit-requests-{limit,remaining,reset} and
//     anthropic-ratelimit-tokens-* (the most restrictive token limit in
//     effect), or anthropic-ratelimit-input-tokens-* when those are
//     absent, whose resets are RFC 3339 times.
//
// A budget whose remaining count is missing or malformed is not reported;
// a malformed limit or reset is left 0. A reset in the past is 0. Header
// names are matched in their canonical form, as net/http stores them. A
// zero now means time.Now, read only when a reset is a time.
func ParseRateLimits(h http.Header, now time.Time) RateLimits {
	if len(h) == 0 || len(h) <= scanMax && !mentionsRateLimits(h) {
		return RateLimits{}
	}
	return parseRateLimits(h, now)
}

// scanMax is the most keys a header may have for [ParseRateLimits] to
// look at every key before looking any up: a response of a few headers
// and none about rate limits (a compatible server's, a proxy's) is told
// by one pass over them, where the lookups would hash every name sought.
// A larger header is looked up at once.
const scanMax = 8

// The prefixes every remaining-count header [ParseRateLimits] reads starts
// with; without one of those, it reports nothing.
const (
	prefixOpenAIRemaining = "X-Ratelimit-Remaining-"
	prefixAnthropic       = "Anthropic-Ratelimit-"
)

// mentionsRateLimits reports whether a key of h has a prefix that a
// remaining-count header has.
func mentionsRateLimits(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, prefixOpenAIRemaining) || strings.HasPrefix(k, prefixAnthropic) {
			return true
		}
	}
	return false
}

// parseRateLimits is [ParseRateLimits] for a header that may report them.
func parseRateLimits(h http.Header, now time.Time) RateLimits {
	var r RateLimits
	if v := h[hdrRemainingRequests]; len(v) > 0 {
		r.Requests = quota(v[0], first(h[hdrLimitRequests]), first(h[hdrResetRequests]), parseResetDuration, now)
	}
	if v := h[hdrRemainingTokens]; len(v) > 0 {
		r.Tokens = quota(v[0], first(h[hdrLimitTokens]), first(h[hdrResetTokens]), parseResetDuration, now)
	}
	if !r.Requests.Reported {
		if v := h[hdrAnthropicRequestsRemaining]; len(v) > 0 {
			r.Requests = quota(v[0], first(h[hdrAnthropicRequestsLimit]), first(h[hdrAnthropicRequestsReset]), parseResetTime, now)
		}
	}
	if !r.Tokens.Reported {
		if v := h[hdrAnthropicTokensRemaining]; len(v) > 0 {
			r.Tokens = quota(v[0], first(h[hdrAnthropicTokensLimit]), first(h[hdrAnthropicTokensReset]), parseResetTime, now)
		} else if v := h[hdrAnthropicInputTokensRemaining]; len(v) > 0 {
			r.Tokens = quota(v[0], first(h[hdrAnthropicInputTokensLimit]), first(h[hdrAnthropicInputTokensReset]), parseResetTime, now)
		}
	}
	return r
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// quota reads one budget; remaining must be a whole number.
func quota(remaining, limit, reset string, parseReset func(string, time.Time) time.Duration, now time.Time) Quota {
	n, ok := count(remaining)
	if !ok {
		return Quota{}
	}
	q := Quota{Reported: true, Remaining: n}
	q.Limit, _ = count(limit)
	if reset != "" {
		q.Reset = parseReset(strings.TrimSpace(reset), now)
	}
	return q
}

// count reads a non-negative whole number of at most 18 digits.
func count(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 18 || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// maxReset bounds a reported reset: a provider's window is a minute, a
// day at most, and a wild value must not park a target for years.
const maxReset = 24 * time.Hour

// parseResetDuration reads OpenAI's reset, a Go-style duration ("1s",
// "6m0s", "20ms", "1m30.5s"); a bare number is seconds, as some
// compatible servers send.
func parseResetDuration(s string, _ time.Time) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || secs != secs || secs < 0 || secs > maxReset.Seconds() {
			return 0
		}
		d = time.Duration(secs * float64(time.Second))
	}
	return clampReset(d)
}

// parseResetTime reads Anthropic's reset, an RFC 3339 time.
func parseResetTime(s string, now time.Time) time.Duration {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0
	}
	if now.IsZero() {
		now = time.Now()
	}
	return clampReset(t.Sub(now))
}

func clampReset(d time.Duration) time.Duration {
	return max(min(d, maxReset), 0)
}
