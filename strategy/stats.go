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
	// sampleGap spaces a target's successful samples: a success that
	// ends within sampleGap of the target's last recorded sample is not
	// recorded (a failure always is). So a target takes at most about
	// 1,000 successful samples a second, however many calls it serves.
	sampleGap = time.Millisecond
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
// A target takes at most one successful sample a millisecond: a success
// that ends within 1 ms of the target's last recorded sample (before or
// after it) is not recorded. At 10 calls a second to a target about one
// success in a hundred is left out, at 100 a second about one in ten;
// which ones depends on when they end, not on how long they took, so
// the mean is unchanged and only fills more slowly. At thousands of
// calls a second the samples are a thinned stream, and the last 100 of
// them span at least a tenth of a second rather than a few
// milliseconds. It keeps such targets from recording every call under
// one lock, which on a multi-core machine cost more than the rest of
// the call. Failures are always recorded.
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
// Memory is fixed: a ring of 100 samples per target. Deciding to leave
// a success out reads one atomic and takes no lock. Recording takes a
// small lock of that target only, for a constant amount of work: the
// target's sums are running sums, which gain the new sample and lose the
// one it evicts. Reading, as [Latency.Pick] does, takes no lock and
// allocates nothing: each target's means are published in atomics when a
// sample is recorded, with the time at which the oldest sample in a
// window expires; only after that time has passed does a reader (if the
// target's lock is free) or the next record sum the window afresh.
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
	last    atomic.Int64  // end of the last sample recorded (Unix ns)

	mu     sync.Mutex
	epoch  int64 // the time sample weights are relative to (Unix ns)
	ring   [statsSamples]sample
	next   int   // ring index of the next write
	n      int   // samples held
	failed int   // failure samples held
	now    int64 // latest time seen, so windows never move backwards
	sums   sums  // of the samples in their windows
	// slowq holds the ring indices of the successes in the 20-minute
	// window that no later success outdoes, oldest first: their TPOTs
	// fall from front to back, so the front is the slowest (see count).
	slowq ringq
}

// sums are a target's running sums over the samples counted in its
// windows (sample.in). Counts and µs sums are integers, so exact.
//
// The recency-weighted mean is Σ w·tpot / Σ w, with each sample's weight
// fixed when it is recorded relative to the target's epoch, a fixed
// reference time: weights never change as time passes, since a common
// factor cancels out of the ratio, so the two sums can gain and lose
// samples like the others. They are float64 sums; each addition or
// subtraction rounds, by at most 2^-53 of the sum at that time. werr
// and serr bound the rounding so far in units of 2^-53 (the sums of the
// magnitudes each step rounded), and when either would exceed 2^-32 of
// its sum the sums are made afresh from the ring. In steady use that
// never happens: the weights of new samples grow (they double every 30 s
// of the epoch's age), so past rounding shrinks against the sums. It
// happens when subtraction leaves a sum much smaller than it was (an
// evicted sample far newer than those that remain, which only outcomes
// recorded far out of order do). So the published mean, rounded to the
// µs, is the mean of the samples held to 2^-31 of it.
type sums struct {
	n, tn, sn, stn    int     // samples; successful streams; SLA samples; SLA streams
	tsum, ssum, stsum uint64  // µs: TTFT; SLA TPOT; SLA TTFT
	wsum, wtotal      float64 // Σ w·tpot (µs) and Σ w over the 20 min
	werr, serr        float64 // bounds of the rounding in wtotal and wsum, in 2^-53 units
	until             int64   // no counted sample leaves a window before this
}

// maxRounding is how large werr or serr may grow against its sum, in
// 2^-53 units: 2^21, so rounding stays under 2^-32 of each sum.
const maxRounding = 1 << 21

// ringq is a deque of ring indices, in a ring of its own. An index is a
// uint8, as a packed mean's count is 8 bits (see pack): statsSamples
// must stay at most 255 for both, which the array below checks when
// compiling.
type ringq struct {
	q          [statsSamples]uint8
	head, size int
}

var _ [math.MaxUint8 - statsSamples]struct{}

func (q *ringq) front() int { return int(q.q[q.head]) }
func (q *ringq) back() int  { return int(q.q[(q.head+q.size-1)%statsSamples]) }
func (q *ringq) popFront()  { q.head, q.size = (q.head+1)%statsSamples, q.size-1 }
func (q *ringq) popBack()   { q.size-- }
func (q *ringq) pushBack(i int) {
	q.q[(q.head+q.size)%statsSamples] = uint8(i)
	q.size++
}

// sample is one call. Durations are kept in microseconds to keep the ring
// small (32 bytes a sample); that is far finer than any LLM latency.
type sample struct {
	at   int64   // end of the attempt, Unix ns
	w    float64 // recency weight, 2^((at − epoch)/recency)
	tpot uint32  // µs
	ttft int32   // µs; 0 when not a stream; failedTTFT marks a failure
	in   windows // the windows whose sums count it
}

// windows is a set of the statistics windows a sample is counted in.
type windows uint8

const (
	inWindow windows = 1 << iota // the 20 minutes (and the last 100 calls)
	inSLA                        // the 3 minutes of SLA means
)

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
	// minutes among the samples held (at most the last 100);
	// SLATTFTSamples and SLATTFT the successful streams among
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
	if !failure && t.recent(smp.at) {
		return
	}
	if failure {
		smp.tpot = micros(max(o.Latency, s.penalty()))
		smp.ttft = failedTTFT
	} else {
		smp.tpot = micros(TPOT(o))
		smp.ttft = int32(min(micros(o.TTFT), math.MaxInt32))
	}
	t.mu.Lock()
	t.add(smp)
	t.mu.Unlock()
}

// recent reports whether a sample ending at at would be within sampleGap
// of t's last recorded one, either side (outcomes may arrive out of
// order). It reads without the lock: two calls ending together may both
// find it false, and both are recorded.
func (t *tstat) recent(at int64) bool {
	d := at - t.last.Load()
	return d > -int64(sampleGap) && d < int64(sampleGap)
}

// add records smp in t's ring, evicting the oldest sample when it is full,
// and publishes t's summary: a constant amount of work, unless the epoch
// moves (every few hours), a sample has left a window by time, or the
// weighted sums need making afresh (see sums). t.mu must be held.
func (t *tstat) add(smp sample) {
	if t.n == 0 || smp.at-t.epoch > int64(maxEpochAge) {
		t.rebase(smp.at)
	}
	smp.w = math.Exp2(float64(smp.at-t.epoch) / float64(recency))
	t.now = max(t.now, smp.at)
	// Summing afresh anyway when a sample has left a window by time.
	fresh := t.now >= t.sums.until
	k := t.next
	if t.n == statsSamples {
		if !fresh {
			t.uncount(k)
		}
		if t.ring[k].failure() {
			t.failed--
		}
	}
	t.ring[k] = smp
	t.last.Store(smp.at)
	t.next = (k + 1) % statsSamples
	t.n = min(t.n+1, statsSamples)
	if smp.failure() {
		t.failed++
	}
	if fresh {
		t.recompute(t.now)
		return
	}
	t.count(k)
	if s := &t.sums; s.werr > maxRounding*s.wtotal || s.serr > maxRounding*s.wsum {
		t.recompute(t.now)
		return
	}
	t.publish()
}

// count adds ring[k] to the sums of the windows it is in as of t.now and
// to the slowest-success queue. t.mu must be held.
func (t *tstat) count(k int) {
	smp := &t.ring[k]
	s := &t.sums
	if smp.at <= t.now-int64(statsWindow) {
		smp.in = 0
		return
	}
	smp.in = inWindow
	s.until = min(s.until, smp.at+int64(statsWindow))
	s.n++
	wt := smp.w * float64(smp.tpot)
	s.wtotal += smp.w
	s.wsum += wt
	s.werr += s.wtotal + smp.w
	s.serr += s.wsum + wt
	if smp.failure() {
		return
	}
	for t.slowq.size > 0 && t.ring[t.slowq.back()].tpot <= smp.tpot {
		t.slowq.popBack()
	}
	t.slowq.pushBack(k)
	if smp.ttft > 0 {
		s.tn++
		s.tsum += uint64(smp.ttft)
	}
	if smp.at > t.now-int64(slaWindow) {
		smp.in |= inSLA
		s.until = min(s.until, smp.at+int64(slaWindow))
		s.sn++
		s.ssum += uint64(smp.tpot)
		if smp.ttft > 0 {
			s.stn++
			s.stsum += uint64(smp.ttft)
		}
	}
}

// uncount takes ring[k], the oldest sample, out of the sums and the
// slowest-success queue. t.mu must be held.
func (t *tstat) uncount(k int) {
	smp := &t.ring[k]
	s := &t.sums
	if t.slowq.size > 0 && t.slowq.front() == k {
		t.slowq.popFront()
	}
	if smp.in&inWindow != 0 {
		s.n--
		wt := smp.w * float64(smp.tpot)
		s.werr += s.wtotal + smp.w
		s.serr += s.wsum + wt
		s.wtotal -= smp.w
		s.wsum -= wt
		if smp.ttft > 0 {
			s.tn--
			s.tsum -= uint64(smp.ttft)
		}
	}
	if smp.in&inSLA != 0 {
		s.sn--
		s.ssum -= uint64(smp.tpot)
		if smp.ttft > 0 {
			s.stn--
			s.stsum -= uint64(smp.ttft)
		}
	}
	smp.in = 0
}

// rebase moves t's epoch to at and the weights of its samples with it;
// the next recompute sums them afresh. t.mu must be held.
func (t *tstat) rebase(at int64) {
	scale := math.Exp2(float64(t.epoch-at) / float64(recency))
	for k := range t.n {
		t.ring[k].w *= scale
	}
	t.epoch = at
	t.sums.until = math.MinInt64
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

// recompute sums t's windows afresh as of now (or of the latest time
// seen, if later) and publishes them. t.mu must be held.
func (t *tstat) recompute(now int64) {
	t.now = max(t.now, now)
	t.sums = sums{until: math.MaxInt64}
	t.slowq = ringq{}
	// Oldest first, so that the queue is in ring order.
	start := 0
	if t.n == statsSamples {
		start = t.next
	}
	cut := t.now - int64(statsWindow)
	for j := range t.n {
		k := start + j
		if k >= statsSamples {
			k -= statsSamples
		}
		if smp := &t.ring[k]; smp.at > cut {
			t.count(k)
		} else {
			smp.in = 0
		}
	}
	t.publish()
}

// publish stores t's sums for readers. t.mu must be held.
func (t *tstat) publish() {
	s := &t.sums
	var mean, slow uint64
	if s.n > 0 && s.wtotal > 0 {
		// Only the weights' ratios matter, so the mean holds until a
		// sample comes or goes.
		mean = uint64(s.wsum/s.wtotal + 0.5)
	}
	if t.slowq.size > 0 {
		slow = uint64(t.ring[t.slowq.front()].tpot)
	}
	n := uint64(s.n)
	t.lat.Store(pack(n, mean*n))
	t.ttft.Store(pack(uint64(s.tn), s.tsum))
	t.slaTPOT.Store(pack(uint64(s.sn), s.ssum))
	t.slaTTFT.Store(pack(uint64(s.stn), s.stsum))
	t.slow.Store(int64(slow) * int64(time.Microsecond))
	t.until.Store(s.until)
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
