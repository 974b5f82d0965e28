package soak_test

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The machine under the soak: keeping the process from starving itself,
// measuring when it could not run, and counting what it holds.

// heapInuse returns the bytes of heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// openFDs returns the process's open file descriptors and what each
// refers to, or nil where /proc/self/fd does not exist.
func openFDs() map[string]string {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	fds := make(map[string]string, len(entries))
	for _, e := range entries {
		what, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[e.Name()] = what
	}
	return fds
}

// poll calls f until it reports ok, for up to 5 s, and returns its last
// value.
func poll(f func() (int, bool)) (int, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, ok := f()
		if ok || time.Now().After(deadline) {
			return n, ok
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGroup waits for wg for up to d and reports whether it finished.
func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// routingStacks returns the stacks of goroutines inside the library, for
// a report of a hang or a leak.
func routingStacks() string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "llmroute/routing.") || strings.Contains(g, "llmroute/providers/") {
			out = append(out, g)
			if len(out) == 10 {
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// stalls records the times the process could not run the library at its
// pace, from two witnesses: a probe that sleeps a few milliseconds at a
// time, yields to every goroutine waiting to run and allocates, and notes
// each time that took longer than it should (the whole process stood
// still, or the collector held it up); and the pacer, which marks each
// moment goroutines waited long to be scheduled (the process was short of
// CPU, and every goroutine a Close or a cancellation wakes waits its
// turn). On a machine shared with other work either can last seconds; the
// timing bounds allow for the stalls during the interval they judge, so
// they blame only the library.
type stalls struct {
	mu  sync.Mutex
	ivs []interval // by end; they may overlap
	max time.Duration
}

type interval struct{ begin, end time.Time }

// The probe sleeps stallTick; a cycle more than stallMin late counts as a
// stall. Shorter delays are the ordinary cost of a busy machine: the few
// hand-offs between a Close and Recv's return cannot add them up to
// anything near a bound.
const (
	stallTick = 5 * time.Millisecond
	stallMin  = 50 * time.Millisecond
)

// stallSink keeps the probe's allocation from being optimised away.
var stallSink []byte

func (st *stalls) probe(ctx context.Context) {
	for ctx.Err() == nil {
		t0 := time.Now()
		time.Sleep(stallTick)
		// A timer wakes its goroutine ahead of the queue; Gosched
		// sends it to the back, where a goroutine woken by a channel
		// or a closed connection waits. A large allocation waits, as
		// any goroutine's may, for a collection to start or for its
		// share of the marking work.
		runtime.Gosched()
		stallSink = make([]byte, 40<<10)
		now := time.Now()
		if late := now.Sub(t0) - stallTick; late > stallMin {
			st.add(now.Add(-late), now)
		}
	}
}

// add records that the process could not keep pace from begin to end.
func (st *stalls) add(begin, end time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	i := len(st.ivs)
	for i > 0 && st.ivs[i-1].end.After(end) {
		i--
	}
	st.ivs = slices.Insert(st.ivs, i, interval{begin, end})
	st.max = max(st.max, end.Sub(begin))
}

// during returns how long, between from and to, the process could not
// keep pace: the union of the stalls within, so that overlapping ones
// count once.
func (st *stalls) during(from, to time.Time) time.Duration {
	st.mu.Lock()
	i, _ := slices.BinarySearchFunc(st.ivs, from, func(iv interval, t time.Time) int { return iv.end.Compare(t) })
	var in []interval
	for ; i < len(st.ivs) && st.ivs[i].end.Sub(to) <= st.max; i++ {
		iv := st.ivs[i]
		iv.begin, iv.end = later(iv.begin, from), earlier(iv.end, to)
		if iv.end.After(iv.begin) {
			in = append(in, iv)
		}
	}
	st.mu.Unlock()
	return union(in)
}

// summary returns how many stalls there were, how long the process could
// not keep pace in all, and the longest stall.
func (st *stalls) summary() (n int, total, longest time.Duration) {
	st.mu.Lock()
	in := slices.Clone(st.ivs)
	st.mu.Unlock()
	return len(in), union(in), st.max
}

// union returns the time the intervals cover together.
func union(ivs []interval) time.Duration {
	slices.SortFunc(ivs, func(a, b interval) int { return a.begin.Compare(b.begin) })
	var total time.Duration
	var reach time.Time
	for _, iv := range ivs {
		if iv.begin.Before(reach) {
			iv.begin = reach
		}
		if iv.end.After(iv.begin) {
			total += iv.end.Sub(iv.begin)
			reach = iv.end
		}
	}
	return total
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// pacer limits the calls in flight while the process is short of CPU.
// The soak's load is meant to stress the library, not to starve it: with
// hundreds of goroutines waiting to run, a goroutine woken by Close or a
// cancellation waits its turn for longer than any bound could allow, and
// the timing checks would blame the library for the machine. The pacer
// watches how long goroutines wait to run: while the slowest wait long it
// cuts the number of calls in flight by a quarter, and while they run
// promptly it lets the number grow back, up to one call per worker.
type pacer struct {
	stalls *stalls // where saturated moments are recorded
	max    int64
	limit  atomic.Int64
	active atomic.Int64
	// Samples taken, and the sum of the limits, for the log.
	samples, limits atomic.Int64
}

// pacerLimit is the longest 99th-percentile wait to run at which the
// number of calls in flight may still grow; pacerFloor the fewest calls
// the pacer ever allows. A moment whose 99th-percentile wait passes
// pacerSaturated is a stall: the few hand-offs from a Close to Recv's
// return may each wait that long.
const (
	pacerLimit     = 25 * time.Millisecond
	pacerFloor     = 8
	pacerSaturated = 100 * time.Millisecond
)

func newPacer(max int, st *stalls) *pacer {
	p := &pacer{max: int64(max), stalls: st}
	p.limit.Store(int64(max))
	return p
}

func (p *pacer) run(ctx context.Context) {
	samples := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	var prev []uint64
	var last time.Time
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		h := samples[0].Value.Float64Histogram()
		now := time.Now()
		if prev != nil {
			limit := p.limit.Load()
			wait := quantile(h, prev, 0.99)
			if wait > pacerSaturated.Seconds() {
				p.stalls.add(last, now)
			}
			if wait > pacerLimit.Seconds() {
				limit = max(pacerFloor, limit*3/4)
			} else {
				limit = min(p.max, limit+4)
			}
			p.limit.Store(limit)
			p.samples.Add(1)
			p.limits.Add(limit)
		}
		prev = append(prev[:0], h.Counts...)
		last = now
	}
}

// admit waits for a place for one more call in flight and reports
// whether it got one before ctx was done; done gives the place back.
func (p *pacer) admit(ctx context.Context) bool {
	for ctx.Err() == nil {
		n := p.active.Load()
		if n < p.limit.Load() && p.active.CompareAndSwap(n, n+1) {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

func (p *pacer) done() { p.active.Add(-1) }

// meanLimit is the mean number of calls the pacer allowed in flight.
func (p *pacer) meanLimit() int64 { return p.limits.Load() / max(1, p.samples.Load()) }

// quantile returns the upper bound of the bucket holding quantile q of
// the observations h added since the counts prev.
func quantile(h *metrics.Float64Histogram, prev []uint64, q float64) float64 {
	var n uint64
	for i, c := range h.Counts {
		n += c - prev[i]
	}
	if n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c - prev[i]
		if seen >= want {
			return h.Buckets[i+1]
		}
	}
	return h.Buckets[len(h.Buckets)-1]
}

func TestStallsDuring(t *testing.T) {
	t0 := time.Now()
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var st stalls
	// Stood still over [50ms, 100ms] and [200ms, 300ms]; the pacer saw
	// [280ms, 320ms] saturated, and [60ms, 70ms], reported late.
	st.add(ms(50), ms(100))
	st.add(ms(200), ms(300))
	st.add(ms(280), ms(320))
	st.add(ms(60), ms(70))
	tests := []struct {
		from, to int
		want     int // ms
	}{
		{0, 40, 0},
		{0, 400, 170},
		{60, 120, 40},
		{250, 260, 10},
		{90, 210, 20},
		{290, 500, 30},
		{330, 500, 0},
	}
	for _, tt := range tests {
		if got, want := st.during(ms(tt.from), ms(tt.to)), time.Duration(tt.want)*time.Millisecond; got != want {
			t.Errorf("during(%dms, %dms) = %v, want %v", tt.from, tt.to, got, want)
		}
	}
	if n, total, longest := st.summary(); n != 4 || total != 170*time.Millisecond || longest != 100*time.Millisecond {
		t.Errorf("summary() = %d, %v, %v; want 4, 170ms, 100ms", n, total, longest)
	}
}

func TestQuantile(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{0, 0.001, 0.01, 0.1, math.Inf(1)},
		Counts:  []uint64{95, 14, 2, 1},
	}
	// Since prev: 90 waits under 1ms, 9 under 10ms, 1 under 100ms.
	prev := []uint64{5, 5, 1, 1}
	tests := []struct {
		q    float64
		want float64
	}{
		{0.5, 0.001},
		{0.9, 0.001},
		{0.99, 0.01},
		{1, 0.1},
	}
	for _, tt := range tests {
		if got := quantile(h, prev, tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := quantile(h, h.Counts, 0.99); got != 0 {
		t.Errorf("quantile of no new waits = %v, want 0", got)
	}
}
