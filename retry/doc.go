// Package retry holds the three small decisions of llmroute's attempt loop,
// kept apart so each can be read and tested alone (see docs/behaviour.md,
// Retries and fallback):
//
//   - classify: after a failed try, retry on the same target, fall back to
//     the next target, or stop ([Policy.Classify]);
//   - delay: how long to wait before a retry, from the try number, the
//     provider's Retry-After and a random number ([Backoff.Next]);
//   - budget: whether that wait still fits before the caller's deadline
//     ([Fits]).
//
// Delays grow exponentially from the target's delay with ±25% jitter,
// the exponential steps computed by github.com/cenkalti/backoff/v4, capped at MaxDelay. A
// Retry-After longer than the computed delay replaces it. A Retry-After
// longer than MaxRetryAfter is not waited for: the call falls back at
// once, because a provider asking for minutes of quiet will not serve this
// call in time.
//
//	p := retry.NewPolicy(t.RetryOrDefault(), t.FallbackCodesOrDefault())
//	bo := p.Backoff()
//	switch p.Classify(status, try) {
//	case retry.Again:
//		wait, ok := bo.Next(retryAfter, rand.Float64())
//		if ok && retry.Fits(time.Now(), wait, deadline, hasDeadline) {
//			// sleep wait, then try again
//		}
//	case retry.Fallback:
//		// next target
//	}
package retry
