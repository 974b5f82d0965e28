package stores

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"sync"
	"time"
)

// Limiter keeps rate-limit budgets, each named by a key and holding up to
// two amounts, requests and tokens, that refill at a steady rate. Routing
// asks it, before each request to a target with a rate_limit, whether the
// target's budget has room; services that run many replicas give them one
// shared Limiter (stores/redis), so that together they stay within each
// budget.
//
// Every budget is a generic cell rate algorithm (GCRA) bucket: Limit.
// Requests requests (and Limit.Tokens tokens) per Limit.Period, all of
// which may be spent at once, refilling continuously. So in any span of
// time T a budget admits at most its size plus what refills in T: with
// 60 requests per minute, at most 60 + T/1s requests in T.
//
// Take charges one Take's amounts to its budget's requests and tokens
// together, or to neither:
//
//   - Allowed: every amount fitted and was charged.
//   - Not allowed: nothing was charged, and RetryAfter says how long until
//     the same Take would fit, if nothing else were charged meanwhile.
//   - An amount larger than the whole budget is charged as the whole
//     budget: it waits until the budget is full, then spends all of it.
//   - With Debt, the amounts are charged whatever is left, and the Take is
//     always allowed: for tokens that an answer used beyond their
//     estimate. A budget runs at most one Period into debt; what would go
//     further is dropped.
//   - Negative Tokens give tokens back (an estimate that was too high),
//     never more than makes the budget full.
//
// Implementations must be safe for concurrent use and must answer or
// fail promptly: routing calls Take on the path of every call to a limited
// target. A Take error never fails a call: routing falls back to a local
// share of the budget, and tells its observers.
type Limiter interface {
	Take(ctx context.Context, t Take) (Taken, error)
}

// LimiterFunc adapts a function to Limiter.
type LimiterFunc func(ctx context.Context, t Take) (Taken, error)

// Take calls f.
func (f LimiterFunc) Take(ctx context.Context, t Take) (Taken, error) { return f(ctx, t) }

// Limit is the size of a budget.
type Limit struct {
	// Requests and Tokens are the budget's amounts per Period; 0 means
	// no limit on that amount.
	Requests, Tokens int
	// Period is how long the budget takes to refill from empty; 0 means
	// a minute.
	Period time.Duration
}

// IsZero reports whether l limits nothing.
func (l Limit) IsZero() bool { return l.Requests == 0 && l.Tokens == 0 }

// Take asks a Limiter to charge amounts to a budget.
type Take struct {
	// Key names the budget. Limiters that share state keep budgets of
	// the same key together, so it must name the same thing in every
	// replica.
	Key string
	// Limit is the budget's size. A budget's state is kept in time, not
	// in counts, so a Limit that changes between Takes applies from the
	// next Take on.
	Limit Limit
	// Requests is how many requests to charge: 1 to admit a request, 0
	// to correct tokens only. It must not be negative.
	Requests int
	// Tokens is how many tokens to charge; negative gives them back.
	Tokens int
	// Debt charges the amounts whatever is left: the Take is always
	// allowed.
	Debt bool
	// Now is the time of the Take for a Limiter that keeps time in the
	// process (Memory); zero means time.Now. A Limiter whose state lives
	// in a server reads the server's clock instead, which all replicas
	// share.
	Now time.Time
}

// Taken is a Limiter's answer.
type Taken struct {
	// Allowed is set when the amounts were charged.
	Allowed bool
	// RetryAfter, when not Allowed, is how long until the same Take
	// would be allowed.
	RetryAfter time.Duration
}

// Errors for a Take a Limiter cannot make sense of.
var (
	errLimitKey    = errors.New("stores: limiter key is empty")
	errLimitAmount = errors.New("stores: limiter requests to charge must not be negative")
	errLimitSize   = errors.New("stores: limit amounts and period must not be negative")
)

// CheckTake returns an error when t is not a Take a Limiter can charge:
// an empty key, negative requests, or a negative limit or period. Every
// Limiter checks a Take with it first.
func CheckTake(t Take) error {
	switch {
	case t.Key == "":
		return errLimitKey
	case t.Requests < 0:
		return errLimitAmount
	case t.Limit.Requests < 0 || t.Limit.Tokens < 0 || t.Limit.Period < 0:
		return errLimitSize
	}
	return nil
}

// Cost is the time one amount costs a budget of limit per period, in the
// budget's clock: GCRA keeps a budget as the time at which it is full
// again, and each unit of an amount moves that time on by period/limit.
// An amount beyond the budget costs a whole period, unless debt is set.
// Limiters use it so that every one charges alike.
func Cost(amount, limit int, period time.Duration, debt bool) time.Duration {
	if limit <= 0 || amount == 0 {
		return 0
	}
	if !debt && amount > limit {
		amount = limit
	}
	// A debt of more than a few periods is dropped anyway: bounding it
	// keeps the arithmetic in range.
	bound := 4 * int64(period)
	neg := amount < 0
	a := uint64(amount)
	if neg {
		a = -a
	}
	hi, lo := bits.Mul64(a, uint64(period))
	if hi != 0 || lo > math.MaxInt64 {
		if neg {
			return time.Duration(-bound)
		}
		return time.Duration(bound)
	}
	c := lo / uint64(limit)
	if !neg && lo%uint64(limit) > 0 {
		c++ // rounded up: a unit is never free
	}
	if c > uint64(bound) {
		c = uint64(bound)
	}
	if neg {
		return -time.Duration(c)
	}
	return time.Duration(c)
}

// MemoryLimiter is a Limiter that keeps budgets in the process: right
// for a service with one replica. It keeps one [Budget] per key it has
// been given (routing gives it one per limited target) and starts no
// goroutines.
//
// A MemoryLimiter is safe for concurrent use, never fails except on
// invalid input, and ignores its ctx. Take allocates nothing once a key
// has been seen. The zero MemoryLimiter is ready to use; it must not be
// copied after first use.
type MemoryLimiter struct {
	budgets sync.Map // key → *Budget
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an empty MemoryLimiter.
func NewMemoryLimiter() *MemoryLimiter { return new(MemoryLimiter) }

// Take implements [Limiter].
func (m *MemoryLimiter) Take(_ context.Context, t Take) (Taken, error) {
	if err := CheckTake(t); err != nil {
		return Taken{}, err
	}
	if t.Limit.IsZero() || t.Requests == 0 && t.Tokens == 0 {
		return Taken{Allowed: true}, nil
	}
	v, ok := m.budgets.Load(t.Key)
	if !ok {
		v, _ = m.budgets.LoadOrStore(t.Key, new(Budget))
	}
	return v.(*Budget).Take(t), nil
}

// Budget is one budget's state in the process, the GCRA cell a
// MemoryLimiter keeps for each key: the times at which its requests and
// its tokens are whole again. Code that holds on to a budget (routing's
// default, one per limited target) charges it without a key lookup.
//
// A Budget is safe for concurrent use; its zero value is a whole budget.
// It must not be copied after first use.
type Budget struct {
	mu       sync.Mutex
	requests int64 // Unix ns; in the past: whole
	tokens   int64
}

// Take charges t to b as [Limiter] describes; t.Key is not read, and t
// must be valid ([CheckTake]). It allocates nothing.
func (b *Budget) Take(t Take) Taken {
	period := t.Limit.Period
	if period == 0 {
		period = time.Minute
	}
	reqCost := Cost(t.Requests, t.Limit.Requests, period, t.Debt)
	tokCost := Cost(t.Tokens, t.Limit.Tokens, period, t.Debt)
	if reqCost == 0 && tokCost == 0 {
		return Taken{Allowed: true}
	}
	now := t.Now
	if now.IsZero() {
		now = time.Now()
	}
	ns := now.UnixNano()
	b.mu.Lock()
	defer b.mu.Unlock()
	req, reqWait := charge(b.requests, ns, reqCost, period, t.Debt)
	tok, tokWait := charge(b.tokens, ns, tokCost, period, t.Debt)
	if wait := max(reqWait, tokWait); wait > 0 {
		return Taken{RetryAfter: wait}
	}
	b.requests, b.tokens = req, tok
	return Taken{Allowed: true}
}

// charge is GCRA: the budget full again at tat (Unix ns) takes cost at
// now. It returns the new tat, or how long the charge must wait.
func charge(tat, now int64, cost, period time.Duration, debt bool) (int64, time.Duration) {
	if cost == 0 {
		return tat, 0
	}
	tat = max(tat, now)
	next := tat + int64(cost)
	switch {
	case cost < 0:
		next = max(next, now)
	case debt:
		next = min(next, now+2*int64(period))
	case next > now+int64(period):
		return tat, time.Duration(next - now - int64(period))
	}
	return next, 0
}
