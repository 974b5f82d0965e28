package retry

import (
	"sync/atomic"
	"time"
)

// Retry budget defaults.
const (
	// DefaultBudgetPercent is the share of a target's calls that its
	// retries (and hedges) may add.
	DefaultBudgetPercent = 20
	// DefaultBudgetMinPerSecond is the floor of retries a target may
	// take per second whatever its traffic, so that a quiet target can
	// still retry.
	DefaultBudgetMinPerSecond = 1
	// BudgetWindow is how far back a budget counts calls and retries.
	BudgetWindow = 10 * time.Second
)

// budgetSlots is one slot a second of BudgetWindow.
const budgetSlots = int(BudgetWindow / time.Second)

// Budget keeps the retries of one target within a share of the calls it
// received recently, the way Finagle's and Envoy's retry budgets do: over
// the last BudgetWindow, retries may number at most percent% of the calls
// plus minPerSecond for each second of the window. When every call fails,
// per-call retry rules alone multiply the load on a struggling provider by
// the number of tries; a budget caps that at 1 + percent%.
//
// A Budget is safe for concurrent use and allocates nothing: each second
// of the window is a slot of two atomic counters tagged with their second.
// Times come from the caller (Call and Retry take now), so a virtual clock
// works. The zero Budget is not usable; create one with [NewBudget].
type Budget struct {
	ratio float64 // percent / 100
	floor float64 // retries the window allows whatever the traffic
	calls [budgetSlots]atomic.Uint64
	tries [budgetSlots]atomic.Uint64
}

// NewBudget returns a budget letting retries add percent% of the calls
// plus minPerSecond retries a second. percent ≤ 0 and minPerSecond < 0
// mean their defaults.
func NewBudget(percent int, minPerSecond float64) *Budget {
	if percent <= 0 {
		percent = DefaultBudgetPercent
	}
	if minPerSecond < 0 {
		minPerSecond = DefaultBudgetMinPerSecond
	}
	return &Budget{ratio: float64(percent) / 100, floor: minPerSecond * BudgetWindow.Seconds()}
}

// Call counts a first try sent to the target at now.
func (b *Budget) Call(now time.Time) {
	sec := now.Unix()
	s := slot(&b.calls, sec)
	for !s.CompareAndSwap(bump(s, sec)) {
	}
}

// Retry reports whether one more retry (or hedge) fits the budget at now,
// and counts it when it does. The check and the count are one
// compare-and-swap of the second's slot, so concurrent retries never
// take more than the budget allows between them.
func (b *Budget) Retry(now time.Time) bool {
	sec := now.Unix()
	s := slot(&b.tries, sec)
	for {
		old, next := bump(s, sec)
		// sum reads s again: if it no longer holds old, the swap
		// below fails and the check is made again.
		if float64(sum(&b.tries, sec)+1) > b.ratio*float64(sum(&b.calls, sec))+b.floor {
			return false
		}
		if s.CompareAndSwap(old, next) {
			return true
		}
	}
}

// A slot packs the second it counts (its low 32 bits) with its count (the
// high 32 bits), so one compare-and-swap moves it to a new second.
func pack(sec int64, n uint64) uint64 { return n<<32 | uint64(uint32(sec)) }

// slot returns sec's slot: sec modulo the window, counted from below for
// a time before 1970 (a virtual clock's), so that a window across Unix
// second 0 gives each of its seconds a slot of its own.
func slot(slots *[budgetSlots]atomic.Uint64, sec int64) *atomic.Uint64 {
	i := sec % int64(budgetSlots)
	if i < 0 {
		i += int64(budgetSlots)
	}
	return &slots[i]
}

// bump returns what s holds and what it would hold with one more count
// at sec: a slot still tagged with an older second starts again from 1.
func bump(s *atomic.Uint64, sec int64) (old, next uint64) {
	old = s.Load()
	if uint32(old) == uint32(sec) {
		return old, old + 1<<32
	}
	return old, pack(sec, 1)
}

// sum counts what the slots hold for the window ending at sec.
func sum(slots *[budgetSlots]atomic.Uint64, sec int64) uint64 {
	var n uint64
	for i := range slots {
		v := slots[i].Load()
		if age := uint32(sec) - uint32(v); age < uint32(budgetSlots) {
			n += v >> 32
		}
	}
	return n
}
