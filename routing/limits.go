package routing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// ErrRateLimited: every target the call could use was skipped before
// anything was sent, because its rate_limit budget had no room or its
// provider said it had no requests or tokens left. The error is a
// *RateLimitError, whose StatusCode is 429 and whose RetryAfter says when
// the first target has room again.
var ErrRateLimited = errors.New("routing: rate limited")

// RateLimitError is a call that found every target it could use at its
// rate limit, and sent nothing. It matches ErrRateLimited with errors.Is
// and answers the same behaviour interfaces as a provider's 429 (so a
// router above this one classifies it as one).
type RateLimitError struct {
	// Model is the virtual model as called.
	Model string
	// Skipped are the targets the call skipped, in order.
	Skipped []Skip
	// FreeAt is when the first of them has room again, on the Client's
	// clock.
	FreeAt time.Time

	wait time.Duration
}

// Error names the model and when a target frees up.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("routing: ")
	b.WriteString(strconv.Quote(e.Model))
	b.WriteString(": every target is at its rate limit (")
	for i, s := range e.Skipped {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Target)
		b.WriteString(": ")
		b.WriteString(s.Reason.String())
	}
	b.WriteString("); the first frees in ")
	b.WriteString(e.wait.String())
	return b.String()
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// StatusCode returns 429.
func (e *RateLimitError) StatusCode() int { return http.StatusTooManyRequests }

// RetryAfter returns how long after the call the first target has room
// again.
func (e *RateLimitError) RetryAfter() time.Duration { return e.wait }

// ErrorCode returns "rate_limited".
func (e *RateLimitError) ErrorCode() string { return "rate_limited" }

// SkipReason says why a call passed a target over.
type SkipReason uint8

// Skip reasons.
const (
	// SkipRateLimit: the target's rate_limit budget had no room.
	SkipRateLimit SkipReason = iota + 1
	// SkipProviderLimit: the target's provider said, on an earlier
	// response, that it had no requests or tokens left until a reset.
	SkipProviderLimit
	// SkipIneligible: the target's metadata_match did not hold for the
	// request's metadata (or, with no target matching, it was not a
	// catch-all), so the call could not use it. Recorded in the Trace
	// only, before any attempt.
	SkipIneligible
)

// String names r: "rate_limit", "provider_limit" or "ineligible".
func (r SkipReason) String() string {
	switch r {
	case SkipRateLimit:
		return "rate_limit"
	case SkipProviderLimit:
		return "provider_limit"
	case SkipIneligible:
		return "ineligible"
	}
	return "unknown"
}

// Skip is a target a call passed over without sending it anything: not
// an attempt, so it counts in no attempt total and nothing is held
// against the target's health. A target skipped at its limit is passed
// over as if it had not been picked (or, when a retry was skipped, the
// call falls back); an ineligible one is never picked. An unhealthy
// target is not skipped but tried after the healthy ones: its attempts
// say "demoted".
type Skip struct {
	// Target is "account/model".
	Target string
	// Reason says why.
	Reason SkipReason
	// At is when the call skipped it; FreeAt when it has room again, as
	// far as the Limiter or the provider said, on the Client's clock
	// (zero for an ineligible target, which has no limit to wait for).
	At, FreeAt time.Time
}

// WithLimiter sets where rate_limit budgets are kept. The default is an
// in-memory stores.MemoryLimiter private to the Client; services running
// many replicas share one, such as stores/redis, so that together they
// stay within each target's budget. A Limiter failure never fails a call:
// for a second after it, the Client enforces its own share of each budget
// (the budget divided by WithReplicas) in memory, and observers get an
// EventLimiterError.
func WithLimiter(l stores.Limiter) Option {
	return func(s *settings) {
		if l == nil {
			s.errs = append(s.errs, errors.New("routing: WithLimiter: nil limiter"))
			return
		}
		s.limiter = l
	}
}

// WithReplicas says how many replicas of the service share the Client's
// Limiter: while the Limiter fails, each enforces 1/n of every budget (at
// least one request and one token a minute), so that together they stay
// within it. The default is 1.
func WithReplicas(n int) Option {
	return func(s *settings) {
		if n < 1 {
			s.errs = append(s.errs, fmt.Errorf("routing: WithReplicas(%d): must be at least 1", n))
			return
		}
		s.replicas = n
	}
}

// sharedRetry is how long the Client keeps to its own view after a
// Limiter or HealthStore failure before it asks again: a store that is
// down must not cost every call its timeout.
const sharedRetry = time.Second

// gate keeps a failing Limiter or HealthStore from being asked again for
// sharedRetry after it failed.
type gate struct {
	until atomic.Int64 // Unix ns on the Client's clock: not asked before then; 0 when it has not failed
}

// open reports whether the store may be asked at now, and the mark it
// read, which passed takes.
func (g *gate) open(now int64) (mark int64, ok bool) {
	mark = g.until.Load()
	return mark, mark == 0 || now >= mark
}

// shut notes a failure at now.
func (g *gate) shut(now int64) { g.until.Store(now + int64(sharedRetry)) }

// passed notes that the store answered after open returned mark: the
// failure is forgotten, unless another came since.
func (g *gate) passed(mark int64) {
	if mark != 0 {
		g.until.CompareAndSwap(mark, 0)
	}
}

// limits is the Client's rate-limit state.
type limits struct {
	limiter  stores.Limiter       // WithLimiter's; nil: each target's own budget, in memory
	local    stores.MemoryLimiter // each budget's share, while limiter fails
	replicas int
	down     gate // limiter not asked while shut

	mu      sync.Mutex
	quotas  map[string]*quota         // by target ref, shared by every model
	budgets map[string]*stores.Budget // by budget key, without a Limiter
}

// budgetFor returns the in-memory budget of key, made on first use and
// kept across reconfigurations, so that a target's budget survives a
// manifest applied while it serves.
func (l *limits) budgetFor(key string) *stores.Budget {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.budgets == nil {
		l.budgets = map[string]*stores.Budget{}
	}
	b := l.budgets[key]
	if b == nil {
		b = new(stores.Budget)
		l.budgets[key] = b
	}
	return b
}

// quota is what a target's provider last said of its budget: no request
// is sent to it before until (Unix ns on the Client's clock).
type quota struct {
	until atomic.Int64
}

// quotaFor returns the quota of the target ref, made on first use: a
// provider's budget belongs to its account and model, whichever virtual
// model routes to it.
func (l *limits) quotaFor(ref string) *quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quotas == nil {
		l.quotas = map[string]*quota{}
	}
	q := l.quotas[ref]
	if q == nil {
		q = new(quota)
		l.quotas[ref] = q
	}
	return q
}

// unknownReset is how long a target is skipped when its provider said it
// has nothing left but not when that changes.
const unknownReset = time.Second

// note records the rate limits a response of the target reported at
// received: a spent budget keeps calls away until its reset. Reports that
// say there is room never shorten a wait, since responses of concurrent
// calls arrive in any order.
func (q *quota) note(rl providers.RateLimits, received time.Time) {
	var d time.Duration
	if rl.Requests.Exhausted() {
		d = max(d, orDefault(rl.Requests.Reset, unknownReset))
	}
	if rl.Tokens.Exhausted() {
		d = max(d, orDefault(rl.Tokens.Reset, unknownReset))
	}
	if d == 0 {
		return
	}
	until := received.Add(d).UnixNano()
	for {
		cur := q.until.Load()
		if cur >= until || q.until.CompareAndSwap(cur, until) {
			return
		}
	}
}

// limitOf is a target's compiled rate_limit: its own, else the routing
// default.
func limitOf(t *target.Target, rc *RoutingConfig) stores.Limit {
	r := t.RateLimit
	if r.IsZero() {
		r = rc.RateLimit
	}
	return stores.Limit{Requests: r.RequestsPerMinute, Tokens: r.TokensPerMinute}
}

// share is this replica's part of lim while the shared Limiter fails.
func (l *limits) share(lim stores.Limit) stores.Limit {
	if l.replicas <= 1 {
		return lim
	}
	if lim.Requests > 0 {
		lim.Requests = max(1, lim.Requests/l.replicas)
	}
	if lim.Tokens > 0 {
		lim.Tokens = max(1, lim.Tokens/l.replicas)
	}
	return lim
}

// charge is what an attempt was charged before it was sent: a request and
// the estimated tokens of its prompt and output, with the Limiter that
// took them.
type charge struct {
	tokens         bool // tokens are limited: correct the estimate after
	local          bool // charged to the local share
	prompt, output int
}

// admit decides, before anything is sent, whether try on t may go. It
// skips a target whose provider said it is out of requests or tokens, or
// whose rate_limit budget has no room; a skip is recorded, and the plan
// is told so the call goes on to the next target. It also confirms a
// probe with the shared health, when there is one. It charges the request
// and its estimated tokens to the target's budget.
func admit[Req, Resp any](r *run, o *op[Req, Resp], t *tgt, step strategy.Step, try int, req *Req) (charge, bool) {
	c := r.c
	if try == 1 && step.Reason == strategy.ReasonProbe && c.shared != nil && !r.claim(t) {
		// Another replica probes it: pick again among the others.
		r.plan.Skip()
		return charge{}, false
	}
	until := t.quota.until.Load()
	if until == 0 && t.limit.IsZero() {
		return charge{}, true
	}
	now := r.plan.Now()
	if r.made > 0 || try > 1 {
		// Time has passed since the call began: tries, waits.
		now = c.now()
	}
	if until != 0 && now.UnixNano() < until {
		r.skip(t, try, SkipProviderLimit, now, time.Unix(0, until))
		return charge{}, false
	}
	if t.limit.IsZero() {
		return charge{}, true
	}
	var ch charge
	if t.limit.Tokens > 0 {
		ch.tokens = true
		ch.prompt, ch.output = o.estimate(*req)
	}
	tk := stores.Take{Key: t.limitKey, Limit: t.limit, Requests: 1, Tokens: ch.prompt + ch.output, Now: now}
	var got stores.Taken
	if t.budget != nil {
		got = t.budget.Take(tk)
	} else {
		got, ch.local = c.take(r.ctx, r.m.name, t, tk, false)
	}
	if !got.Allowed {
		r.skip(t, try, SkipRateLimit, now, now.Add(got.RetryAfter))
		return charge{}, false
	}
	return ch, true
}

// take charges tk to the Limiter, or to this replica's share of the
// budget when local is set, or when the Limiter fails or failed within the
// last sharedRetry. It reports whether the local share took it.
func (c *Client) take(ctx context.Context, model string, t *tgt, tk stores.Take, local bool) (stores.Taken, bool) {
	l := c.limits
	if !local {
		ns := tk.Now.UnixNano()
		if mark, ok := l.down.open(ns); ok {
			got, err := l.limiter.Take(ctx, tk)
			if err == nil {
				l.down.passed(mark)
				return got, false
			}
			l.down.shut(ns)
			if len(c.observers) > 0 {
				c.observe(ctx, Event{Kind: EventLimiterError, Model: model, Target: t.ref, Err: err})
			}
		}
	}
	tk.Limit = l.share(tk.Limit)
	got, _ := l.local.Take(ctx, tk)
	return got, true
}

// skip records that the call passed t over on this try: in the Trace, to
// the observers and in the call's skips; the plan takes back its step,
// or, for a retry, the call falls back.
func (r *run) skip(t *tgt, try int, reason SkipReason, at, freeAt time.Time) {
	sk := Skip{Target: t.ref, Reason: reason, At: at, FreeAt: freeAt}
	r.skipped = append(r.skipped, sk)
	if tr := r.tr; tr != nil {
		tr.Skipped = append(tr.Skipped, sk)
	}
	if len(r.c.observers) > 0 {
		r.c.observe(r.ctx, Event{Kind: EventSkip, Model: r.m.name, Target: t.ref, Skip: sk})
	}
	if try == 1 {
		r.plan.Skip()
	} else {
		r.fallback = true
	}
}

// rateLimited is the call's error when every target it could use was
// skipped.
func (r *run) rateLimited() error {
	e := &RateLimitError{Model: r.name, Skipped: r.skipped}
	for i, s := range r.skipped {
		if i == 0 || s.FreeAt.Before(e.FreeAt) {
			e.FreeAt = s.FreeAt
		}
	}
	e.wait = max(e.FreeAt.Sub(r.skipped[len(r.skipped)-1].At), 0)
	return e
}

// settle is what the limits learn when an attempt ends: the rate limits
// its response reported, and its tokens, which correct the estimate it
// was charged (given back, or charged beyond the budget as a debt).
// Called from the attempt's finish; a success with nothing to learn
// costs a few comparisons.
func (r *run) settle(a *attempt, err error, dur time.Duration) {
	if err == nil && a.header == nil && !a.charge.tokens {
		return
	}
	r.learn(a, err, dur)
}

func (r *run) learn(a *attempt, err error, dur time.Duration) {
	t := a.t
	if err != nil || len(a.header) > 0 {
		var rl providers.RateLimits
		if err != nil {
			if pe, ok := providers.FromError(err); ok {
				rl = pe.RateLimits
			}
		} else {
			rl = providers.ParseRateLimits(a.header, time.Time{})
		}
		// Only a spent budget changes the quota (note): a report of
		// room left costs no clock read.
		if rl.Requests.Exhausted() || rl.Tokens.Exhausted() {
			if a.unmeasured {
				// The response arrived at the end of the try.
				dur = r.c.since(a.rec.Start)
			}
			t.quota.note(rl, a.rec.Start.Add(dur))
		}
	}
	ch := a.charge
	if !ch.tokens || a.used <= 0 {
		// Not limited, or the provider did not say: the estimate
		// stands.
		return
	}
	delta := a.used - ch.prompt - ch.output
	if delta == 0 {
		return
	}
	tk := stores.Take{Key: t.limitKey, Limit: t.limit, Tokens: delta, Debt: delta > 0, Now: a.rec.Start.Add(dur)}
	if t.budget != nil {
		t.budget.Take(tk)
		return
	}
	ctx := r.ctx
	if ctx.Err() != nil {
		// The caller is gone, but what was used must still be counted.
		ctx = context.WithoutCancel(ctx)
	}
	r.c.take(ctx, r.m.name, t, tk, ch.local)
}

// The estimate of a request's tokens, before it is sent: prompt text in
// bytes / 4 (rounded up) plus perMessage tokens a message, and the most
// output the request allows (max_completion_tokens, else max_tokens; 0
// when it sets neither). Images and tool definitions are not counted.
const perMessage = 4

func textTokens(n int) int { return (n + 3) / 4 }

// chatEstimate estimates a chat request's tokens.
func chatEstimate(r providers.ChatRequest) (prompt, output int) {
	q := &r.Request
	n := 0
	for i := range q.Messages {
		m := &q.Messages[i]
		n += len(m.Content) + len(m.Name) + len(m.ReasoningContent)
		for _, p := range m.MultiContent {
			n += len(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
		if fc := m.FunctionCall; fc != nil {
			n += len(fc.Name) + len(fc.Arguments)
		}
		prompt += perMessage
	}
	prompt += textTokens(n)
	output = q.MaxCompletionTokens
	if output <= 0 {
		output = max(q.MaxTokens, 0)
	}
	return prompt, output
}

// completionEstimate estimates a completion request's tokens.
func completionEstimate(r providers.CompletionRequest) (prompt, output int) {
	return inputTokens(r.Request.Prompt), max(r.Request.MaxTokens, 0)
}

// embeddingEstimate estimates an embedding request's tokens.
func embeddingEstimate(r providers.EmbeddingRequest) (prompt, output int) {
	return inputTokens(r.Request.Input), 0
}

// inputTokens estimates a prompt or embedding input: a string, a list of
// them, or token ids.
func inputTokens(in any) int {
	switch v := in.(type) {
	case string:
		return textTokens(len(v))
	case []string:
		n := 0
		for _, s := range v {
			n += textTokens(len(s))
		}
		return n
	case []any:
		n := 0
		for _, e := range v {
			n += inputTokens(e)
		}
		return n
	case []int:
		return len(v)
	case [][]int:
		n := 0
		for _, ids := range v {
			n += len(ids)
		}
		return n
	}
	return 0
}

// usage is what a unary answer used, its output and total tokens (0:
// not reported), and its response's headers, which report the
// provider's rate limits. It is called directly, not through a function
// value, so the answer passes by pointer rather than being copied.
func usage[Resp any](resp *Resp) (output, total int, header http.Header) {
	switch r := any(resp).(type) {
	case *openai.ChatCompletionResponse:
		return r.Usage.CompletionTokens, r.Usage.TotalTokens, r.Header()
	case *openai.CompletionResponse:
		if r.Usage != nil {
			output, total = r.Usage.CompletionTokens, r.Usage.TotalTokens
		}
		return output, total, r.Header()
	case *openai.EmbeddingResponse:
		return 0, r.Usage.TotalTokens, r.Header()
	}
	// Only the three kinds above are unary answers; a new one needs
	// its case here.
	panic("routing: usage: not a unary answer")
}

// streamTokens is what a stream used: its reported usage, else the
// prompt's estimate and the output chunks counted.
func (u *upstream) streamTokens(prompt int) int {
	if us := u.usage; us != nil && us.TotalTokens > 0 {
		return us.TotalTokens
	}
	return prompt + u.outTokens
}
