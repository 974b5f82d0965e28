package routing

import (
	"time"

	"github.com/llmroute/llmroute/strategy"
)

// Trace is what one call did: the virtual model, the target that served
// it, and every attempt. Fill one with WithTrace. A Trace belongs to one
// call at a time; read it after the call returns (or, for a stream, after
// Recv has returned an error or io.EOF).
type Trace struct {
	// Model is the virtual model as called ("group/model" or a slug).
	Model string
	// VirtualModel is the resolved "group/model".
	VirtualModel string
	// Resolved is the target that served the call, "account/model", as
	// a gateway reports it in x-tfy-resolved-model; empty when none did.
	Resolved string
	// Attempts are every attempt, in order.
	Attempts []Attempt
	// Skipped are the targets the call passed over, sending them
	// nothing, in order: first those its metadata made ineligible, then
	// those at their rate limits. They are not attempts.
	Skipped []Skip
	// Notes record decisions a caller may want to know about, such as a
	// prompt_version_fqn override not sent because the request carries
	// tools.
	Notes []string
}

// Attempt is one try on one target.
type Attempt struct {
	// Target is "account/model".
	Target string
	// Try is the 1-based try on this target.
	Try int
	// Reason is why the target was tried: picked first, sticky pin,
	// recovery probe, fallback, or demoted (unhealthy, tried last).
	Reason strategy.Reason
	// Cause refines Reason: why a demoted or probed target was unhealthy
	// (repeated failures, an SLA breach) or how the strategy picked it
	// (latency fast band, exploring a cold target, fastest fallback).
	Cause strategy.Cause
	// Retry is true when this try repeats a failed one on the same
	// target; Fallback is true for the first try on a target after
	// another target failed.
	Retry, Fallback bool
	// Hedge is true for a try started beside a late one (see the
	// virtual model's hedge setting).
	Hedge bool
	// BudgetExhausted is true when this failure would have been retried
	// but the target's retry budget was spent, so the call fell back or
	// stopped instead.
	BudgetExhausted bool
	// Wait is the delay slept before this try.
	Wait time.Duration
	// Start and Duration time the try.
	Start    time.Time
	Duration time.Duration
	// Status is the upstream status: 200 on success, 408 for a timeout,
	// 502 for a transport failure, 0 when the call was cancelled or the
	// request refused.
	Status int
	// Class is the outcome: "ok", "retry", "fallback", "stop",
	// "canceled" (the caller gave up or closed the stream),
	// "hedge_cancelled" (another try of a hedged call won first),
	// "invalid" (the provider refused to send what the caller wrote),
	// "interrupted" (a stream broke after its first content chunk) or
	// "panic" (the provider panicked). Only retry, fallback, stop and
	// interrupted count against the target.
	Class string
	// Err is the attempt's error, nil on success.
	Err error
	// TTFT is the time to the first content chunk (streams), TPOT the
	// time per output token, when measured.
	TTFT, TPOT time.Duration
}

// Why says in a few words why the target was tried: the Reason, with its
// Cause when there is one, such as "demoted, sla-tpot" or
// "picked, fast-band".
func (a *Attempt) Why() string {
	if c := a.Cause.String(); c != "" {
		return a.Reason.String() + ", " + c
	}
	return a.Reason.String()
}

// reset readies tr for a new call.
func (tr *Trace) reset(model string) {
	tr.Model = model
	tr.VirtualModel = ""
	tr.Resolved = ""
	tr.Attempts = tr.Attempts[:0]
	tr.Skipped = tr.Skipped[:0]
	tr.Notes = tr.Notes[:0]
}
