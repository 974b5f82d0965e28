package strategy

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"math/rand/v2"
	"time"
)

// MaxTargets is the most targets one virtual model may have.
const MaxTargets = 64

// ErrNoCandidates is returned by Pick when it is given no candidates.
var ErrNoCandidates = errors.New("strategy: no candidate targets")

// Set is a set of target indices, bit i standing for target i.
type Set uint64

// All returns the set of the first n targets.
func All(n int) Set {
	if n >= MaxTargets {
		return ^Set(0)
	}
	return Set(1)<<n - 1
}

// Of returns the set holding the given indices.
func Of(idx ...int) Set {
	var s Set
	for _, i := range idx {
		s |= 1 << i
	}
	return s
}

// Has reports whether i is in s.
func (s Set) Has(i int) bool { return i >= 0 && i < MaxTargets && s&(1<<i) != 0 }

// Indices yields the targets in s, in ascending order.
//
//	for i := range cand.Indices() { ... }
func (s Set) Indices() iter.Seq[int] {
	return func(yield func(int) bool) {
		for ; s != 0; s &= s - 1 {
			if !yield(bits.TrailingZeros64(uint64(s))) {
				return
			}
		}
	}
}

// Len returns the number of targets in s.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// nth returns the index of the k-th (0-based) member of s; s must have
// more than k members.
func (s Set) nth(k int) int {
	for ; k > 0; k-- {
		s &= s - 1
	}
	return bits.TrailingZeros64(uint64(s))
}

// PickInfo is what a Strategy picks from.
type PickInfo struct {
	// Candidates are the targets the pick may return; never empty.
	Candidates Set
	// Now is the time of the pick, for strategies that keep statistics.
	Now time.Time
	// Rand is a uniform random number in [0, 1).
	Rand float64
	// First is set when the pick is the call's first target, and clear
	// when it is a fallback. Strategies that order fallbacks differently
	// from first picks (Latency) read it; others ignore it.
	First bool
}

// PickResult is a Strategy's pick.
type PickResult struct {
	// Index is the picked target.
	Index int
	// Cause, optional, says how the strategy picked it; a Plan reports
	// it in Step.Cause.
	Cause Cause
}

// Outcome is the result of calling a picked target, fed back to the
// strategy and to health tracking.
type Outcome struct {
	// Index is the target.
	Index int
	// Start is when the attempt began; Latency is how long it took.
	Start   time.Time
	Latency time.Duration
	// TTFT is the time to the first content chunk of a stream, or 0.
	TTFT time.Duration
	// OutputTokens is the number of tokens the target produced, or 0
	// when unknown.
	OutputTokens int
	// Status is the upstream status: 200 for success.
	Status int
	// Err is the attempt's error, nil on success.
	Err error
}

// Strategy picks one target from a set of candidates. Implementations must
// be safe for concurrent use and must not allocate on the hot path.
type Strategy interface {
	Pick(PickInfo) (PickResult, error)
}

// Observer is a Strategy (or anything else) that learns from outcomes.
// Plan.Done feeds a Strategy that is an Observer, and the plan's Health,
// every outcome of every target, however the target was picked. The
// built-in Latency strategy is not an Observer: it reads the Stats its
// Health records, so each outcome is recorded once.
type Observer interface {
	Observe(Outcome)
}

// Func adapts a function to the Strategy interface.
type Func func(PickInfo) (PickResult, error)

// Pick calls f.
func (f Func) Pick(in PickInfo) (PickResult, error) { return f(in) }

// Weighted is weight-based routing: a target is picked with probability
// weight/Σweights over the candidates. Targets of weight 0 are picked only
// when no candidate has a positive weight, and then uniformly; so a weight
// of 0 means "never first while a weighted target is eligible, still a
// fallback". A Weighted is immutable and safe for concurrent use.
type Weighted struct {
	weights [MaxTargets]uint32
	n       int
}

// NewWeighted returns the weight-based strategy for targets with the given
// weights. A weight must be 0 or more.
func NewWeighted(weights []int) (*Weighted, error) {
	if len(weights) > MaxTargets {
		return nil, fmt.Errorf("strategy: %d targets, at most %d allowed", len(weights), MaxTargets)
	}
	w := &Weighted{n: len(weights)}
	for i, x := range weights {
		if x < 0 || x > 1<<24 {
			return nil, fmt.Errorf("strategy: target %d: weight %d out of range 0..%d", i, x, 1<<24)
		}
		w.weights[i] = uint32(x)
	}
	return w, nil
}

// Pick draws one candidate by weight.
func (w *Weighted) Pick(in PickInfo) (PickResult, error) {
	c := in.Candidates & All(w.n)
	if c == 0 {
		return PickResult{}, ErrNoCandidates
	}
	var total uint64
	for i := range c.Indices() {
		total += uint64(w.weights[i])
	}
	if total == 0 {
		return PickResult{Index: c.nth(uniform(in.Rand, c.Len()))}, nil
	}
	x := uint64(in.Rand * float64(total))
	if x >= total {
		x = total - 1
	}
	last := 0
	for i := range c.Indices() {
		wi := uint64(w.weights[i])
		if wi == 0 {
			continue
		}
		if x < wi {
			return PickResult{Index: i}, nil
		}
		x -= wi
		last = i
	}
	return PickResult{Index: last}, nil
}

// Priority is priority-based routing: the candidate with the lowest
// priority number is picked; among equal priorities the pick is uniform,
// spreading load. A Priority is immutable and safe for concurrent use.
type Priority struct {
	prio [MaxTargets]int
	n    int
}

// NewPriority returns the priority-based strategy for targets with the
// given priorities (0 highest). A priority must be 0 or more.
func NewPriority(priorities []int) (*Priority, error) {
	if len(priorities) > MaxTargets {
		return nil, fmt.Errorf("strategy: %d targets, at most %d allowed", len(priorities), MaxTargets)
	}
	p := &Priority{n: len(priorities)}
	for i, x := range priorities {
		if x < 0 {
			return nil, fmt.Errorf("strategy: target %d: priority %d is negative", i, x)
		}
		p.prio[i] = x
	}
	return p, nil
}

// Pick returns the candidate of lowest priority number.
func (p *Priority) Pick(in PickInfo) (PickResult, error) {
	c := in.Candidates & All(p.n)
	if c == 0 {
		return PickResult{}, ErrNoCandidates
	}
	best, ties := -1, Set(0)
	for i := range c.Indices() {
		switch {
		case best < 0 || p.prio[i] < best:
			best, ties = p.prio[i], 1<<i
		case p.prio[i] == best:
			ties |= 1 << i
		}
	}
	if ties&(ties-1) == 0 {
		return PickResult{Index: bits.TrailingZeros64(uint64(ties))}, nil
	}
	return PickResult{Index: ties.nth(uniform(in.Rand, ties.Len()))}, nil
}

// uniform maps r in [0, 1) to 0..n-1.
func uniform(r float64, n int) int {
	k := int(r * float64(n))
	if k >= n {
		k = n - 1
	}
	if k < 0 {
		k = 0
	}
	return k
}

// defaultRand is the random source when a Plan is given none.
func defaultRand() float64 { return rand.Float64() }
