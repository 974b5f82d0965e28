package strategy

import (
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// Statistics windows (see docs/behaviour.md, Picking and ordering, and
// Health).
const (
	// statsWindow and statsSamples bound a target's latency: the calls of
	// the last 20 minutes, at most the last 100.
	statsWindow  = 20 * time.Minute
	statsSamples = 100
	// slaWindow is the rolling window of SLA cutoffs.
	slaWindow = 3 * time.Minute
	// minSamples is how many samples a mean needs to count: a target
	// with fewer is cold (latency routing explores it) and never breaches
	// an SLA cutoff.
	minSamples = 3
	// failureFloor is what a failure costs when no target of the virtual
	// model has a successful sample to compare it with.
	failureFloor = time.Second
	// recency is the half-life of a sample's weight in a target's
	// latency: a sample 30 s older than another counts half as much, so
	// a target that recovered needs only a couple of fresh calls to show
	// it, not 20 minutes for its slow samples to age out.
	recency = 30 * time.Second
)

// Stats keeps each target's recent call statistics for one virtual model:
// time per output token (TPOT) and time to first token (TTFT), over the
// calls of the last 20 minutes and at most the last 100 calls of each
// target. [Latency] orders targets by it and [Health] checks SLA cutoffs
// against it.
//
// The latency [Latency] reads (Summary.TPOT) weighs recent samples over
// old ones: a sample's weight halves for every 30 s it is older than the
// target's newest, so a target that was slow and has recovered is judged
// by its last few calls. SLA means stay plain means over their 3 minutes.
//
// A call's TPOT is (latency − TTFT)/(output tokens − 1) for a stream
// (Outcome.TTFT > 0) of two or more tokens, latency/output tokens
// otherwise, and the whole latency when the token count is unknown (0),
// as for embeddings.
//
// A failure counts against a target (a fast 503 is not fast): it is a
// sample whose TPOT is the larger of its own latency and twice the slowest
// successful TPOT any target of the virtual model had in the last 20
// minutes (one second when there is none). So a target that fails one
// call in n looks about 2/n slower than it is, and one that only fails
// looks slower than every working target. Only failures that say
// something about the target count: the failures that count against its
// health (5xx, 429, 401, 403, 408, and a transport failure); a 400 or 404
// is ignored.
// SLA means (see [Summary]) count successful calls only: failures make a
// target unhealthy through [Health]'s failure count instead.
//
// Memory is fixed: a ring of 100 samples per target. Recording takes a
// small lock of that target only; reading, as [Latency.Pick] does, takes
// no lock and allocates nothing: each target's means are recomputed when
// a sample is recorded and published in atomics, with the time at which
// the oldest sample in a window expires, so a reader only recomputes (if
// the target's lock is free) after that time has passed.
//
// All times come from the outcomes (Start + Latency) and the now a reader
// passes; Stats never reads a clock. A zero now reads the last published
// values without expiring anything.
//
// A Stats is safe for concurrent use. Create one with [NewStats].
type Stats struct {
	t []tstat
}

// tstat is one target's samples and their published summary.
type tstat struct {
	// Published for lock-free readers; rewritten under mu.
	until   atomic.Int64  // the summary holds while now < until (Unix ns)
	lat     atomic.Uint64 // packed count, mean TPOT: 20 min, failures at penalty
	ttft    atomic.Uint64 // packed count, mean TTFT: 20 min, successful streams
	slaTPOT atomic.Uint64 // packed count, mean TPOT: 3 min, successes
	slaTTFT atomic.Uint64 // packed count, mean TTFT: 3 min, successful streams
	slow    atomic.Int64  // slowest successful TPOT of the 20 min (ns)

	mu     sync.Mutex
	epoch  int64 // the time sample weights are relative to (Unix ns)
	ring   [statsSamples]sample
	next   int   // ring index of the next write
	n      int   // samples held
	failed int   // failure samples held
	now    int64 // latest time seen, so windows never move backwards
}

// sample is one call. Durations are kept in microseconds to keep the ring
// small (24 bytes a sample); that is far finer than any LLM latency.
type sample struct {
	at   int64   // end of the attempt, Unix ns
	w    float64 // recency weight, 2^((at − epoch)/recency)
	tpot uint32  // µs
	ttft int32   // µs; 0 when not a stream; failedTTFT marks a failure
}

// maxEpochAge is how far a sample may be from its target's epoch before
// the epoch moves on: 2^(4h/30s) is far inside a float64, and moving it
// costs one pass over the ring every few hours.
const maxEpochAge = 4 * time.Hour

const failedTTFT = -1

func (s *sample) failure() bool { return s.ttft == failedTTFT }

// NewStats returns empty statistics for a virtual model of n targets.
func NewStats(n int) (*Stats, error) {
	if n < 0 || n > MaxTargets {
		return nil, fmt.Errorf("strategy: %d targets, want 0..%d", n, MaxTargets)
	}
	s := &Stats{t: make([]tstat, n)}
	for i := range s.t {
		s.t[i].until.Store(math.MaxInt64)
	}
	return s, nil
}

// Len returns the number of targets s was made for.
func (s *Stats) Len() int { return len(s.t) }

// Summary is one target's statistics at a moment. Means are zero when
// their count is.
type Summary struct {
	// Samples and TPOT cover the calls of the last 20 minutes, at most
	// the last 100, failures included at their penalty.
	Samples int
	TPOT    time.Duration
	// TTFTSamples and TTFT cover the successful streams among them.
	TTFTSamples int
	TTFT        time.Duration
	// SLASamples and SLATPOT cover the successful calls of the last 3
	// minutes; SLATTFTSamples and SLATTFT the successful streams among
	// them. These are what SLA cutoffs are checked against.
	SLASamples     int
	SLATPOT        time.Duration
	SLATTFTSamples int
	SLATTFT        time.Duration
}

// Summary returns target i's statistics as of now. An index out of range
// gives the zero Summary.
func (s *Stats) Summary(i int, now time.Time) Summary {
	if i < 0 || i >= len(s.t) {
		return Summary{}
	}
	t := &s.t[i]
	t.fresh(unixNano(now))
	var sum Summary
	sum.Samples, sum.TPOT = unpack(t.lat.Load())
	sum.TTFTSamples, sum.TTFT = unpack(t.ttft.Load())
	sum.SLASamples, sum.SLATPOT = unpack(t.slaTPOT.Load())
	sum.SLATTFTSamples, sum.SLATTFT = unpack(t.slaTTFT.Load())
	return sum
}

// Observe records an outcome of target o.Index. Outcomes of other
// statuses than success and the failures that count against health, and
// outcomes of an
// index out of range, are ignored. Observe allocates nothing.
func (s *Stats) Observe(o Outcome) {
	if o.Index < 0 || o.Index >= len(s.t) {
		return
	}
	switch classify(o) {
	case outcomeOK:
		s.record(o, false)
	case outcomeBad:
		s.record(o, true)
	}
}

// record adds a sample for o, a success or (failure) a failure.
func (s *Stats) record(o Outcome, failure bool) {
	t := &s.t[o.Index]
	smp := sample{at: unixNano(o.Start) + int64(o.Latency)}
	if failure {
		smp.tpot = micros(max(o.Latency, s.penalty()))
		smp.ttft = failedTTFT
	} else {
		smp.tpot = micros(TPOT(o))
		smp.ttft = int32(min(micros(o.TTFT), math.MaxInt32))
	}
	t.mu.Lock()
	if t.n == 0 || smp.at-t.epoch > int64(maxEpochAge) {
		t.rebase(smp.at)
	}
	smp.w = math.Exp2(float64(smp.at-t.epoch) / float64(recency))
	if t.n == statsSamples && t.ring[t.next].failure() {
		t.failed--
	}
	t.ring[t.next] = smp
	t.next = (t.next + 1) % statsSamples
	t.n = min(t.n+1, statsSamples)
	if failure {
		t.failed++
	}
	t.recompute(smp.at)
	t.mu.Unlock()
}

// rebase moves t's epoch to at and the weights of its samples with it.
// t.mu must be held.
func (t *tstat) rebase(at int64) {
	scale := math.Exp2(float64(t.epoch-at) / float64(recency))
	for k := range t.n {
		t.ring[k].w *= scale
	}
	t.epoch = at
}

// forgetFailures drops target i's failure samples. Health calls it when
// the target turns unhealthy: demotion then carries the failures, and the
// target's latency goes back to what its successful calls show, so that
// once it recovers it is judged by its speed, not by its outage.
func (s *Stats) forgetFailures(i int) {
	t := &s.t[i]
	t.mu.Lock()
	if t.failed > 0 {
		for k := range t.n {
			if t.ring[k].failure() {
				t.ring[k] = sample{at: math.MinInt64}
			}
		}
		t.failed = 0
		t.recompute(t.now)
	}
	t.mu.Unlock()
}

// penalty is the TPOT a failure is recorded at, unless its own latency
// is longer: twice the slowest recent successful TPOT of any target.
func (s *Stats) penalty() time.Duration {
	var slow int64
	for i := range s.t {
		slow = max(slow, s.t[i].slow.Load())
	}
	if slow == 0 {
		return failureFloor
	}
	return 2 * time.Duration(slow)
}

// tpot is an outcome's time per output token (see Stats).
// TPOT is an outcome's time per output token: for a stream,
// (total − TTFT)/(tokens − 1); otherwise total/tokens; with no token count
// (embeddings), the total latency.
func TPOT(o Outcome) time.Duration {
	switch {
	case o.OutputTokens >= 2 && o.TTFT > 0 && o.TTFT <= o.Latency:
		return (o.Latency - o.TTFT) / time.Duration(o.OutputTokens-1)
	case o.OutputTokens >= 1:
		return o.Latency / time.Duration(o.OutputTokens)
	}
	return o.Latency
}

// fresh recomputes t's summary if a sample has left a window since it was
// last computed. When another goroutine holds the lock it is recording a
// sample, which recomputes anyway, so fresh does not wait for it.
func (t *tstat) fresh(now int64) {
	if now != 0 && now >= t.until.Load() {
		t.refresh(now)
	}
}

// refresh is fresh's slow path, kept apart so that fresh inlines.
func (t *tstat) refresh(now int64) {
	if t.mu.TryLock() {
		if now >= t.until.Load() {
			t.recompute(now)
		}
		t.mu.Unlock()
	}
}

// recompute publishes t's means as of now (or of the latest time seen, if
// later). t.mu must be held.
func (t *tstat) recompute(now int64) {
	if now < t.now {
		now = t.now
	}
	t.now = now
	cut, cutSLA := now-int64(statsWindow), now-int64(slaWindow)
	until := int64(math.MaxInt64)
	var n, tn, tsum, sn, ssum, stn, stsum, slow uint64
	var wsum, wtotal float64
	for k := range t.n {
		s := &t.ring[k]
		if s.at <= cut {
			continue
		}
		until = min(until, s.at+int64(statsWindow))
		n++
		// Only the weights' ratios matter, so the mean holds until a
		// sample comes or goes.
		wsum += s.w * float64(s.tpot)
		wtotal += s.w
		if s.failure() {
			continue
		}
		slow = max(slow, uint64(s.tpot))
		if s.ttft > 0 {
			tn++
			tsum += uint64(s.ttft)
		}
		if s.at > cutSLA {
			until = min(until, s.at+int64(slaWindow))
			sn++
			ssum += uint64(s.tpot)
			if s.ttft > 0 {
				stn++
				stsum += uint64(s.ttft)
			}
		}
	}
	var mean uint64
	if wtotal > 0 {
		mean = uint64(wsum/wtotal + 0.5)
	}
	t.lat.Store(pack(n, mean*n))
	t.ttft.Store(pack(tn, tsum))
	t.slaTPOT.Store(pack(sn, ssum))
	t.slaTTFT.Store(pack(stn, stsum))
	t.slow.Store(int64(slow) * int64(time.Microsecond))
	t.until.Store(until)
}

// A packed mean holds a sample count in its top 8 bits and the mean in
// nanoseconds in the rest, so one atomic load reads both.
const (
	meanBits = 56
	meanMask = 1<<meanBits - 1
)

// pack packs a count and the sum of its samples in µs.
func pack(n, sumMicros uint64) uint64 {
	if n == 0 {
		return 0
	}
	hi, lo := bits.Mul64(sumMicros/n, uint64(time.Microsecond))
	mean := lo
	if hi != 0 || mean > meanMask {
		mean = meanMask
	}
	return n<<meanBits | mean
}

func unpack(v uint64) (int, time.Duration) {
	return int(v >> meanBits), time.Duration(v & meanMask)
}

// micros converts d to whole microseconds, clamped to uint32.
func micros(d time.Duration) uint32 {
	us := d / time.Microsecond
	switch {
	case us < 0:
		return 0
	case us > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(us)
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// outcomeClass is what an outcome says about its target.
type outcomeClass uint8

const (
	outcomeNeutral outcomeClass = iota // says nothing (400, 404, ...)
	outcomeOK                          // served
	outcomeBad                         // failed in a way that counts
)

// classify sorts an outcome: a success has no error and a status below
// 400 (0 included); the failures that count are 5xx, 429, 401, 403, 408,
// and an error without a status (a transport failure).
func classify(o Outcome) outcomeClass {
	switch s := o.Status; {
	case o.Err == nil && s < 400:
		return outcomeOK
	case s >= 500, s == 429, s == 401, s == 403, s == 408, s == 0:
		return outcomeBad
	}
	return outcomeNeutral
}
