package anthropic_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
)

// setLimits writes Anthropic's rate-limit headers for a spent request
// budget that is whole again in about 2 s.
func setLimits(w http.ResponseWriter) {
	reset := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	w.Header().Set("anthropic-ratelimit-requests-limit", "50")
	w.Header().Set("anthropic-ratelimit-requests-remaining", "0")
	w.Header().Set("anthropic-ratelimit-requests-reset", reset)
	w.Header().Set("anthropic-ratelimit-tokens-limit", "80000")
	w.Header().Set("anthropic-ratelimit-tokens-remaining", "79000")
	w.Header().Set("anthropic-ratelimit-tokens-reset", reset)
}

// checkLimits compares reported rate limits with setLimits', the resets
// within the second the RFC 3339 times round them to.
func checkLimits(t *testing.T, got providers.RateLimits) {
	t.Helper()
	for _, q := range []*providers.Quota{&got.Requests, &got.Tokens} {
		if q.Reset <= 0 || q.Reset > 2*time.Second {
			t.Errorf("reset %v; want within 2s", q.Reset)
		}
		q.Reset = 0
	}
	want := providers.RateLimits{
		Requests: providers.Quota{Reported: true, Limit: 50, Remaining: 0},
		Tokens:   providers.Quota{Reported: true, Limit: 80000, Remaining: 79000},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("rate limits (-got +want):\n%s", diff)
	}
}

// Every answer reports Anthropic's rate limits: a success on its
// Header(), a refusal in its *providers.Error, a stream through
// providers.RateLimitReporter.
func TestRateLimitsReported(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			setLimits(w)
			writeJSON(w, http.StatusOK, helloJSON)
		})
		resp, err := newProvider(t, s).Chat(ctx, chatRequest())
		if err != nil {
			t.Fatal(err)
		}
		checkLimits(t, providers.ParseRateLimits(resp.Header(), time.Now()))
	})
	t.Run("refusal", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			setLimits(w)
			writeJSON(w, http.StatusTooManyRequests, errorJSON("rate_limit_error", "Number of requests has exceeded your rate limit"))
		})
		_, err := newProvider(t, s).Chat(ctx, chatRequest())
		checkLimits(t, asProviderError(t, err).RateLimits)
	})
	t.Run("stream", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			setLimits(w)
			writeSSE(w, helloStream()...)
		})
		st, err := newProvider(t, s).ChatStream(ctx, chatRequest())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rr, ok := st.(providers.RateLimitReporter)
		if !ok {
			t.Fatalf("stream %T does not report rate limits", st)
		}
		checkLimits(t, rr.RateLimits())
	})
	t.Run("stream refused", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			setLimits(w)
			writeJSON(w, http.StatusTooManyRequests, errorJSON("rate_limit_error", "slow down"))
		})
		_, err := newProvider(t, s).ChatStream(ctx, chatRequest())
		checkLimits(t, asProviderError(t, err).RateLimits)
	})
}
