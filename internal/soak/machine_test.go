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

// stalls records the times the process could not run: a probe that
// sleeps a few milliseconds at a time, then yields to every goroutine
// waiting to run, and notes each time either took longer than it should.
// On a machine shared with other work a whole process can stand still
// for a second, and a process short of CPU makes every goroutine that
// wakes up wait its turn; the timing bounds allow for the stalls measured
// during the interval they judge, so they blame only the library.
type stalls struct {
	mu   sync.Mutex
	ends []time.Time     // when each stall ended, in order
	lens []time.Duration // how long it lasted
	max  time.Duration
}

// The probe sleeps stallTick; a cycle more than stallMin late counts as a
// stall.
const (
	stallTick = 5 * time.Millisecond
	stallMin  = 5 * time.Millisecond
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
			st.mu.Lock()
			st.ends = append(st.ends, now)
			st.lens = append(st.lens, late)
			st.max = max(st.max, late)
			st.mu.Unlock()
		}
	}
}

// during returns how long the process stood still between from and to.
func (st *stalls) during(from, to time.Time) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	var total time.Duration
	i, _ := slices.BinarySearchFunc(st.ends, from, time.Time.Compare)
	for ; i < len(st.ends); i++ {
		end := st.ends[i]
		begin := end.Add(-st.lens[i])
		if !begin.Before(to) {
			break
		}
		if begin.Before(from) {
			begin = from
		}
		if end.After(to) {
			end = to
		}
		total += end.Sub(begin)
	}
	return total
}

func (st *stalls) summary() (n int, total, longest time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, l := range st.lens {
		total += l
	}
	return len(st.lens), total, st.max
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
	max    int64
	limit  atomic.Int64
	active atomic.Int64
	// Samples taken, and the sum of the limits, for the log.
	samples, limits atomic.Int64
}

// pacerLimit is the longest 99th-percentile wait to run at which the
// number of calls in flight may still grow; pacerFloor the fewest calls
// the pacer ever allows.
const (
	pacerLimit = 25 * time.Millisecond
	pacerFloor = 8
)

func newPacer(max int) *pacer {
	p := &pacer{max: int64(max)}
	p.limit.Store(int64(max))
	return p
}

func (p *pacer) run(ctx context.Context) {
	samples := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	var prev []uint64
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
		if prev != nil {
			limit := p.limit.Load()
			if quantile(h, prev, 0.99) > pacerLimit.Seconds() {
				limit = max(pacerFloor, limit*3/4)
			} else {
				limit = min(p.max, limit+4)
			}
			p.limit.Store(limit)
			p.samples.Add(1)
			p.limits.Add(limit)
		}
		prev = append(prev[:0], h.Counts...)
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
	// Stood still over [50ms, 100ms] and [200ms, 300ms].
	st.ends = []time.Time{ms(100), ms(300)}
	st.lens = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}
	tests := []struct {
		from, to int
		want     time.Duration
	}{
		{0, 40, 0},
		{0, 400, 150 * time.Millisecond},
		{60, 120, 40 * time.Millisecond},
		{250, 260, 10 * time.Millisecond},
		{90, 210, 20 * time.Millisecond},
		{310, 500, 0},
	}
	for _, tt := range tests {
		if got := st.during(ms(tt.from), ms(tt.to)); got != tt.want {
			t.Errorf("during(%dms, %dms) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
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
