package providers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// remainingHeaders are the headers whose presence makes ParseRateLimits
// report a budget: the ones its quick check must never miss.
var remainingHeaders = []string{
	hdrRemainingRequests, hdrRemainingTokens,
	hdrAnthropicRequestsRemaining, hdrAnthropicTokensRemaining, hdrAnthropicInputTokensRemaining,
}

func TestMentionsRateLimitsKnowsEveryRemainingHeader(t *testing.T) {
	for _, k := range remainingHeaders {
		if !mentionsRateLimits(http.Header{k: {"1"}}) {
			t.Errorf("mentionsRateLimits misses %s", k)
		}
		// Among other headers too, wherever iteration finds it.
		h := http.Header{"Content-Type": {"application/json"}, "Date": {"x"}, "Content-Length": {"3"}, k: {"1"}}
		if !mentionsRateLimits(h) {
			t.Errorf("mentionsRateLimits misses %s among others", k)
		}
	}
	for _, h := range []http.Header{
		{"Content-Type": {"application/json"}},
		{"X-Ratelimit-Limit-Requests": {"60"}, "X-Ratelimit-Reset-Requests": {"1s"}},
		{"X-Request-Id": {"abc"}, "Anthropic-Organization-Id": {"o"}},
	} {
		if mentionsRateLimits(h) {
			t.Errorf("mentionsRateLimits(%v) = true, want false", h)
		}
	}
}

// FuzzParseRateLimitsQuickCheck compares ParseRateLimits, which looks at
// the keys of a small header first, with the lookups alone, on headers of
// up to a dozen keys drawn from the rate-limit families and others.
func FuzzParseRateLimitsQuickCheck(f *testing.F) {
	f.Add([]byte{0, 1, 2}, "59", "1s")
	f.Add([]byte{3, 4, 5, 6, 7}, "0", "2026-11-24T12:00:02Z")
	f.Add([]byte{20, 21, 22, 23, 24, 25, 26, 27, 28, 0}, "7", "")
	f.Add([]byte{}, "1", "1")
	names := []string{
		hdrRemainingRequests, hdrRemainingTokens, hdrLimitRequests, hdrLimitTokens, hdrResetRequests, hdrResetTokens,
		hdrAnthropicRequestsRemaining, hdrAnthropicRequestsLimit, hdrAnthropicRequestsReset,
		hdrAnthropicTokensRemaining, hdrAnthropicTokensLimit, hdrAnthropicTokensReset,
		hdrAnthropicInputTokensRemaining, hdrAnthropicInputTokensLimit, hdrAnthropicInputTokensReset,
		"Content-Type", "Content-Length", "Date", "X-Request-Id", "Openai-Processing-Ms",
		"X-Ratelimit-Remaining", "Anthropic-Ratelimit", "X-Ratelimit-Remaining-Requests-Extra",
		"X-Ratelimit-Remaining-Req", "Anthropic-Organization-Id", "Server", "Via", "Cf-Ray", "Set-Cookie",
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, keys []byte, value, reset string) {
		if len(keys) > 12 {
			keys = keys[:12]
		}
		h := http.Header{}
		for i, k := range keys {
			name := names[int(k)%len(names)]
			switch {
			case k >= 128:
				// A key present with no value.
				h[name] = nil
			case strings.Contains(name, "Reset"):
				h[name] = []string{reset}
			case i%3 == 2:
				h[name] = []string{reset}
			default:
				h[name] = []string{value}
			}
		}
		got, want := ParseRateLimits(h, now), parseRateLimits(h, now)
		if got != want {
			t.Fatalf("ParseRateLimits(%v) = %+v, the lookups say %+v", h, got, want)
		}
	})
}
