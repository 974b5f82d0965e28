package providers_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
)

// header builds an http.Header from name, value pairs, canonicalising the
// names as net/http does for a response.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseRateLimits(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want providers.RateLimits
	}{
		{"none", nil, providers.RateLimits{}},
		{"unrelated headers", header("Content-Type", "application/json"), providers.RateLimits{}},
		{"openai, both budgets", header(
			"x-ratelimit-limit-requests", "60",
			"x-ratelimit-remaining-requests", "59",
			"x-ratelimit-reset-requests", "1s",
			"x-ratelimit-limit-tokens", "150000",
			"x-ratelimit-remaining-tokens", "149984",
			"x-ratelimit-reset-tokens", "6m0s",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true, Limit: 60, Remaining: 59, Reset: time.Second},
			Tokens:   providers.Quota{Reported: true, Limit: 150000, Remaining: 149984, Reset: 6 * time.Minute},
		}},
		{"openai, requests spent", header(
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-reset-requests", "20ms",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true, Remaining: 0, Reset: 20 * time.Millisecond},
		}},
		{"openai, fractional and bare-second resets", header(
			"x-ratelimit-remaining-requests", "3",
			"x-ratelimit-reset-requests", "1m30.5s",
			"x-ratelimit-remaining-tokens", "7",
			"x-ratelimit-reset-tokens", "2",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true, Remaining: 3, Reset: 90*time.Second + 500*time.Millisecond},
			Tokens:   providers.Quota{Reported: true, Remaining: 7, Reset: 2 * time.Second},
		}},
		{"malformed remaining is not reported", header(
			"x-ratelimit-remaining-requests", "lots",
			"x-ratelimit-reset-requests", "1s",
			"x-ratelimit-remaining-tokens", "-5",
		), providers.RateLimits{}},
		{"malformed limit and reset are left 0", header(
			"x-ratelimit-limit-requests", "sixty",
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-reset-requests", "soon",
		), providers.RateLimits{Requests: providers.Quota{Reported: true}}},
		{"negative and huge resets are clamped", header(
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-reset-requests", "-3s",
			"x-ratelimit-remaining-tokens", "0",
			"x-ratelimit-reset-tokens", "9000h",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true},
			Tokens:   providers.Quota{Reported: true, Reset: 24 * time.Hour},
		}},
		{"anthropic", header(
			"anthropic-ratelimit-requests-limit", "50",
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2026-11-24T12:00:02Z",
			"anthropic-ratelimit-tokens-limit", "80000",
			"anthropic-ratelimit-tokens-remaining", "79000",
			"anthropic-ratelimit-tokens-reset", "2026-11-24T12:00:30Z",
			"anthropic-ratelimit-input-tokens-remaining", "1",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true, Limit: 50, Remaining: 0, Reset: 2 * time.Second},
			Tokens:   providers.Quota{Reported: true, Limit: 80000, Remaining: 79000, Reset: 30 * time.Second},
		}},
		{"anthropic input tokens when the combined budget is absent", header(
			"anthropic-ratelimit-input-tokens-limit", "40000",
			"anthropic-ratelimit-input-tokens-remaining", "0",
			"anthropic-ratelimit-input-tokens-reset", "2026-11-24T12:01:00+00:00",
		), providers.RateLimits{
			Tokens: providers.Quota{Reported: true, Limit: 40000, Reset: time.Minute},
		}},
		{"anthropic reset in the past, or not RFC 3339", header(
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2026-11-24T11:59:00Z",
			"anthropic-ratelimit-tokens-remaining", "0",
			"anthropic-ratelimit-tokens-reset", "in a minute",
		), providers.RateLimits{
			Requests: providers.Quota{Reported: true},
			Tokens:   providers.Quota{Reported: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := providers.ParseRateLimits(tc.h, now)
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("ParseRateLimits (-got +want):\n%s", diff)
			}
		})
	}
}

func TestQuotaExhausted(t *testing.T) {
	for _, tc := range []struct {
		q    providers.Quota
		want bool
	}{
		{providers.Quota{}, false}, // not reported: nothing is known
		{providers.Quota{Reported: true, Remaining: 0}, true},
		{providers.Quota{Reported: true, Remaining: 1}, false},
	} {
		if got := tc.q.Exhausted(); got != tc.want {
			t.Errorf("%+v.Exhausted() = %t, want %t", tc.q, got, tc.want)
		}
	}
}

// limitedError is a user's own error that reports rate limits.
type limitedError struct{}

func (limitedError) Error() string   { return "limited" }
func (limitedError) StatusCode() int { return 429 }
func (limitedError) RateLimits() providers.RateLimits {
	return providers.RateLimits{Requests: providers.Quota{Reported: true, Reset: time.Second}}
}

func TestFromErrorRateLimits(t *testing.T) {
	want := providers.RateLimits{Requests: providers.Quota{Reported: true, Reset: time.Second}}
	pe, ok := providers.FromError(fmt.Errorf("call: %w", limitedError{}))
	if !ok {
		t.Fatal("FromError found no status")
	}
	if diff := cmp.Diff(pe.RateLimits, want); diff != "" {
		t.Errorf("RateLimits (-got +want):\n%s", diff)
	}
	own := &providers.Error{Status: 429, RateLimits: want}
	pe, _ = providers.FromError(fmt.Errorf("call: %w", own))
	if pe != own {
		t.Errorf("FromError did not return the chain's own *Error")
	}
	if pe, _ := providers.FromError(errors.Join(statusOnly(503))); !pe.RateLimits.IsZero() {
		t.Errorf("an error that reports no limits has RateLimits %+v", pe.RateLimits)
	}
}

func FuzzParseRateLimits(f *testing.F) {
	for _, s := range []string{"0", "59", "1s", "6m0s", "2026-11-24T12:00:02Z", "", "-1", "1e9", "99999999999999999999", "NaN", "inf"} {
		f.Add(s, s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, remaining, reset string) {
		for _, h := range []http.Header{
			header("x-ratelimit-remaining-requests", remaining, "x-ratelimit-reset-requests", reset,
				"x-ratelimit-remaining-tokens", remaining, "x-ratelimit-reset-tokens", reset),
			header("anthropic-ratelimit-requests-remaining", remaining, "anthropic-ratelimit-requests-reset", reset),
		} {
			r := providers.ParseRateLimits(h, now)
			for _, q := range []providers.Quota{r.Requests, r.Tokens} {
				if q.Remaining < 0 || q.Limit < 0 || q.Reset < 0 || q.Reset > 24*time.Hour {
					t.Fatalf("ParseRateLimits(%q, %q) = %+v: out of range", remaining, reset, q)
				}
				if !q.Reported && q != (providers.Quota{}) {
					t.Fatalf("ParseRateLimits(%q, %q) = %+v: values without Reported", remaining, reset, q)
				}
			}
		}
	})
}
