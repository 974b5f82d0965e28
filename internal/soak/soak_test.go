package soak_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/strategy"
)

var soakDuration = flag.Duration("soak.duration", 0,
	"how long TestSoak drives the Client; 0 means 30s when CI is set, 3s otherwise (1s with -short)")

// duration is how long TestSoak runs: CI runs the full 30 s, a developer's
// plain go test a short pass that still meets every fault.
func duration() time.Duration {
	if *soakDuration > 0 {
		return *soakDuration
	}
	if ci, err := strconv.ParseBool(os.Getenv("CI")); ci || (err != nil && os.Getenv("CI") != "") {
		return 30 * time.Second
	}
	if testing.Short() {
		return time.Second
	}
	return 3 * time.Second
}

// Bounds of the accounting. They are generous: a healthy library meets
// them by orders of magnitude, so only a real hang breaks them.
const (
	// closeBound is the longest Recv (or a call) may take to return
	// after Close or a cancellation.
	closeBound = time.Second
	// hangSlack is how far past its deadline a call may return.
	hangSlack = 2 * time.Second
	// maxDeadline is the longest deadline a call is given.
	maxDeadline = 4 * time.Second
)

// sentinelKey is every account's API key: no error may ever show it.
const sentinelKey = "sk-soak-SENTINEL-0123456789abcdefghijKLMN"

func TestSoak(t *testing.T) {
	rep := runSoak(t, soakOptions{duration: duration(), workers: 256, think: 20 * time.Millisecond, mixes: defaultMixes, coverage: true})
	for _, k := range rep.kinds() {
		t.Error(k)
	}
}

// TestSoakCatchesBadAnswers checks the soak's own eyes: servers that
// present a truncated answer, or another call's, as a complete success
// must be caught.
func TestSoakCatchesBadAnswers(t *testing.T) {
	tests := []struct {
		name string
		lie  fault
		want string
	}{
		{"truncated answer presented as complete", faultLieShort, vIncomplete},
		{"another call's answer", faultLieForeign, vForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mixes [numOps]mix
			for o := range mixes {
				mixes[o][tt.lie] = 1
			}
			rep := runSoak(t, soakOptions{duration: 300 * time.Millisecond, workers: 8, think: time.Millisecond, mixes: mixes})
			for o := range numOps {
				key := vkey(tt.want, op(o))
				if rep.v.count(key) == 0 {
					t.Errorf("no %q violation reported for %s calls; the soak reported:\n%s", tt.want, opNames[o], strings.Join(rep.kinds(), "\n"))
				}
			}
		})
	}
}

// tuning is one configuration the soak applies: weights, priorities and
// timeouts flip with each generation.
type tuning struct {
	gen                      int
	weights                  [3]int
	requestMS, ttftMS, idlMS int // 0: not set
}

var tunings = []tuning{
	{weights: [3]int{60, 30, 10}, requestMS: 800, ttftMS: 300, idlMS: 300},
	{weights: [3]int{10, 60, 30}, requestMS: 0, ttftMS: 600, idlMS: 700},
	{weights: [3]int{30, 10, 60}, requestMS: 1500, ttftMS: 0, idlMS: 400},
	{weights: [3]int{0, 50, 50}, requestMS: 500, ttftMS: 450, idlMS: 0},
}

var accounts = []string{"a", "b", "c"}

// manifest is the soak's group as tu configures it. The group has
// collaborators, so callers need their subject and changes the manager's.
func manifest(tu tuning) []byte {
	var b strings.Builder
	b.WriteString(`name: soak
type: provider-account/virtual-model
collaborators:
  - {subject: "user:ops", role_id: provider-account-manager}
  - {subject: "user:app", role_id: provider-account-access}
integrations:
`)
	model := func(name, routingType, types string, target func(i int) string) {
		fmt.Fprintf(&b, "  - name: %s\n    type: integration/model/virtual\n    model_types: [%s]\n    routing_config:\n      type: %s\n", name, types, routingType)
		for _, kv := range []struct {
			key string
			ms  int
		}{{"request_timeout_ms", tu.requestMS}, {"ttft_timeout_ms", tu.ttftMS}, {"stream_idle_timeout_ms", tu.idlMS}} {
			if kv.ms > 0 {
				fmt.Fprintf(&b, "      %s: %d\n", kv.key, kv.ms)
			}
		}
		b.WriteString("      load_balance_targets:\n")
		for i, acct := range accounts {
			fmt.Fprintf(&b, "        - target: %s/m\n          retry_config: {attempts: 1, delay: 20}\n%s", acct, target(i))
		}
	}
	model("weighted", "weight-based-routing", "chat", func(i int) string {
		return fmt.Sprintf("          weight: %d\n", tu.weights[i])
	})
	model("priority", "priority-based-routing", "chat", func(i int) string {
		return fmt.Sprintf("          priority: %d\n", (i+tu.gen)%len(accounts))
	})
	model("latency", "latency-based-routing", "chat", func(int) string { return "" })
	model("embed", "priority-based-routing", "embedding", func(i int) string {
		return fmt.Sprintf("          priority: %d\n", (i+tu.gen)%len(accounts))
	})
	return []byte(b.String())
}

type soakOptions struct {
	duration time.Duration
	workers  int
	think    time.Duration // a worker's longest pause between calls
	mixes    [numOps]mix
	// coverage makes a run that missed a fault, a plan or a kind of
	// outcome a violation: the soak must not pass by not looking.
	coverage bool
}

// soak is one run: the servers, the Client and the accounts of every call.
type soak struct {
	opt     soakOptions
	client  *routing.Client
	servers []*server
	reg     *registry
	tune    atomic.Pointer[tuning]
	v       violations
	stalls  stalls
	pacer   *pacer

	nextID   atomic.Int64
	started  atomic.Int64
	recorded atomic.Int64

	mu       sync.Mutex
	inflight map[int64]*call
	outcomes map[string]int
	plans    [numOps][numPlans]int

	applies atomic.Int64
	events  [8]atomic.Int64 // by routing.EventKind
	health  [4]atomic.Int64 // by routing.HealthChange
	// Attempts the traces say went to a demoted or a probed target.
	tracedDemoted, tracedProbes atomic.Int64
	// Streams whose StreamChunk hook counted a chunk dropped by Close.
	chunkOnClose atomic.Int64
}

// runSoak runs one soak and returns its report; it fails t only for
// problems of the harness itself.
func runSoak(t *testing.T, opt soakOptions) *soak {
	t.Helper()
	// The runtime opens its network poller's descriptors on first use
	// and keeps them: open them before counting.
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
	}
	goroutines0, fds0 := runtime.NumGoroutine(), openFDs()
	// Under the race detector the soak allocates fast enough to keep the
	// collector running all the time, and a goroutine that allocates
	// while a collection starts waits for it: on a busy machine, long
	// enough to break the timing bounds without the library at fault.
	// Collect less often; the heap check collects on its own.
	defer debug.SetGCPercent(debug.SetGCPercent(400))

	s := &soak{opt: opt, reg: newRegistry(), pacer: newPacer(opt.workers), inflight: map[int64]*call{}, outcomes: map[string]int{}}
	s.v.kinds = map[string]*vkind{}
	tu := tunings[0]
	s.tune.Store(&tu)
	opts := []routing.Option{
		routing.WithManifest(manifest(tu)),
		routing.WithProbeCooldown(300 * time.Millisecond),
		routing.WithObserver(hooks{s}),
	}
	var transports []*http.Transport
	for _, name := range accounts {
		srv := &server{name: name, key: sentinelKey, mixes: opt.mixes, reg: s.reg, tune: &s.tune, quit: make(chan struct{})}
		srv.srv = httptest.NewServer(srv)
		s.servers = append(s.servers, srv)
		cfg := goopenai.DefaultConfig(sentinelKey)
		cfg.BaseURL = srv.srv.URL + "/v1"
		// Enough idle connections for every worker, so the soak does
		// not churn through the machine's ephemeral ports.
		tr := &http.Transport{MaxIdleConnsPerHost: opt.workers}
		transports = append(transports, tr)
		cfg.HTTPClient = &http.Client{Transport: tr}
		opts = append(opts, routing.WithProvider(name, oai.New(cfg)))
	}
	shutdown := sync.OnceFunc(func() {
		for _, srv := range s.servers {
			close(srv.quit)
			srv.srv.CloseClientConnections()
			srv.srv.Close()
		}
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
	})
	t.Cleanup(shutdown)
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	s.client = c

	began := time.Now()
	runCtx, stopRun := context.WithTimeout(context.Background(), opt.duration)
	defer stopRun()
	var workers, helpers, probe sync.WaitGroup
	probeCtx, stopProbe := context.WithCancel(context.Background())
	defer stopProbe()
	probe.Go(func() { s.stalls.probe(probeCtx) })
	helpers.Go(func() { s.pacer.run(runCtx) })
	// Workers join over the first second, so that they do not all dial
	// the servers at the same instant.
	ramp := min(opt.duration/10, time.Second)
	for i := range opt.workers {
		workers.Go(func() {
			time.Sleep(ramp * time.Duration(i) / time.Duration(opt.workers))
			s.worker(runCtx)
		})
	}
	helpers.Go(func() { s.reconfigure(runCtx) })

	// The heap after warm-up, while the soak runs at full load.
	var warm uint64
	select {
	case <-time.After(min(opt.duration/5, 2*time.Second)):
		warm = heapInuse()
	case <-runCtx.Done():
	}
	<-runCtx.Done()
	helpers.Wait()

	// Every call has a deadline, so every worker must be back soon; any
	// that is not is stuck in a call.
	if !waitGroup(&workers, maxDeadline+hangSlack+time.Second) {
		s.reportStuck("after the soak ended")
		shutdown()
		if !waitGroup(&workers, 10*time.Second) {
			t.Fatalf("calls still stuck 10s after the servers closed:\n%s\n%s", strings.Join(s.v.all(), "\n"), routingStacks())
		}
	}
	elapsed := time.Since(began)
	stopProbe()
	probe.Wait()
	if n, m := s.started.Load(), s.recorded.Load(); n != m {
		s.v.add(vLost, func() string { return fmt.Sprintf("%d calls started, %d outcomes recorded", n, m) })
	}
	shutdown()

	// Goroutines and descriptors of the calls and connections must go
	// with them; poll, since connections close asynchronously.
	if got, ok := poll(func() (int, bool) { n := runtime.NumGoroutine(); return n, n <= goroutines0 }); !ok {
		s.v.add(vLeak, func() string {
			return fmt.Sprintf("%d goroutines 5s after the servers closed, %d before the soak\n%s", got, goroutines0, routingStacks())
		})
	}
	if fds0 != nil {
		if got, ok := poll(func() (int, bool) { n := len(openFDs()); return n, n <= len(fds0) }); !ok {
			s.v.add(vLeak, func() string {
				var extra []string
				for fd, what := range openFDs() {
					if fds0[fd] != what {
						extra = append(extra, fd+" → "+what)
					}
				}
				slices.Sort(extra)
				return fmt.Sprintf("%d open file descriptors 5s after the servers closed, %d before the soak; new: %s", got, len(fds0), strings.Join(extra, ", "))
			})
		}
	}
	if warm > 0 {
		end := heapInuse()
		runtime.KeepAlive(c)
		if end > 2*warm+8<<20 {
			s.v.add(vHeap, func() string {
				return fmt.Sprintf("heap in use %d KiB at the end, %d KiB after warm-up: not flat", end>>10, warm>>10)
			})
		}
	}
	for _, srv := range s.servers {
		if n := srv.badAuth.Load(); n > 0 {
			s.v.add(vWire, func() string { return fmt.Sprintf("server %s: %d requests without the account's key", srv.name, n) })
		}
	}
	if opt.coverage {
		s.checkCoverage()
	}
	t.Logf("soak: %d calls in %v (%.0f/s) by %d workers; %d reconfigurations",
		s.started.Load(), elapsed.Round(time.Millisecond), float64(s.started.Load())/elapsed.Seconds(), opt.workers, s.applies.Load())
	n, total, longest := s.stalls.summary()
	t.Logf("the process stood still %d times for %v in all, at most %v at once; the pacer allowed %d calls in flight on average",
		n, total.Round(time.Millisecond), longest.Round(time.Millisecond), s.pacer.meanLimit())
	t.Logf("outcomes:%s", s.describeOutcomes())
	t.Logf("faults served:%s", describeServed(s.servers))
	t.Logf("events: attempts=%d config-warnings=%d health: demoted=%d probed=%d recovered=%d",
		s.events[routing.EventAttempt].Load(), s.events[routing.EventConfigWarning].Load(),
		s.health[routing.HealthDemoted].Load(), s.health[routing.HealthProbed].Load(), s.health[routing.HealthRecovered].Load())
	if n := s.chunkOnClose.Load(); n > 0 {
		t.Logf("known: %d streams had StreamChunk called for a chunk Close kept from the caller", n)
	}
	return s
}

// hooks is the soak's Observer and Tracer: it counts events, and counts
// each call's Tracer hooks on the call, so that every call can be checked
// for one StartCall matched by one EndCall, attempts started as often as
// ended, and a StreamChunk for every chunk delivered.
type hooks struct{ s *soak }

// callKey carries the soak's *call in the call's ctx, for the hooks.
type callKey struct{}

func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

func (h hooks) Observe(ctx context.Context, e routing.Event) { h.s.observe(ctx, e) }

func (hooks) StartCall(ctx context.Context, _ *routing.CallInfo) context.Context {
	if c := callOf(ctx); c != nil {
		c.hookCalls.Add(1)
	}
	return ctx
}

func (hooks) EndCall(ctx context.Context, _ *routing.CallInfo, end *routing.CallEnd) {
	if c := callOf(ctx); c != nil {
		c.hookEnds.Add(1)
		if end.Err == nil {
			c.hookOK.Store(true)
		}
	}
}

func (hooks) StartAttempt(ctx context.Context, _ *routing.AttemptInfo) context.Context {
	if c := callOf(ctx); c != nil {
		c.hookAttempts.Add(1)
	}
	return ctx
}

func (hooks) EndAttempt(ctx context.Context, _ *routing.AttemptInfo, _ *routing.Attempt, _ *routing.Response) {
	if c := callOf(ctx); c != nil {
		c.hookAttemptEnds.Add(1)
	}
}

func (hooks) StreamChunk(ctx context.Context, _ *routing.AttemptInfo) {
	if c := callOf(ctx); c != nil {
		c.hookChunks.Add(1)
	}
}

func (s *soak) observe(_ context.Context, e routing.Event) {
	if int(e.Kind) < len(s.events) {
		s.events[e.Kind].Add(1)
	}
	if e.Kind == routing.EventHealth {
		if int(e.Health) < len(s.health) {
			s.health[e.Health].Add(1)
		}
		if e.Target == "" || e.Model == "" || e.Health.String() == "unknown" {
			s.v.add(vHealth, func() string { return fmt.Sprintf("health event %+v names no target, model or change", e) })
		}
	}
}

// reconfigure replaces the group about once a second, flipping weights,
// priorities and timeouts, and checks that a change it may not make
// changes nothing.
func (s *soak) reconfigure(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	manager := routing.WithSubject(context.Background(), "user:ops")
	for gen := 1; ; gen++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tu := tunings[gen%len(tunings)]
		tu.gen = gen
		s.tune.Store(&tu)
		if err := s.client.ApplyManifest(manager, manifest(tu)); err != nil {
			s.v.add(vReconfig, func() string { return fmt.Sprintf("generation %d refused: %v", gen, err) })
			continue
		}
		s.applies.Add(1)
		if gen%3 != 0 {
			continue
		}
		other := tunings[(gen+1)%len(tunings)]
		user := routing.WithSubject(context.Background(), "user:app")
		if err := s.client.ApplyManifest(user, manifest(other)); !errors.Is(err, routing.ErrForbidden) {
			s.v.add(vReconfig, func() string { return fmt.Sprintf("a change by a mere user: got %v, want ErrForbidden", err) })
		}
		bad := strings.Replace(string(manifest(other)), "target: c/m", "target: nowhere/m", 1)
		if err := s.client.ApplyManifest(manager, []byte(bad)); err == nil {
			s.v.add(vReconfig, func() string { return "a manifest naming an unknown account was accepted" })
		}
		if got, want := weightsNow(s.client), tu.weights; got != want {
			s.v.add(vReconfig, func() string {
				return fmt.Sprintf("after refused changes the weights are %v, want %v (generation %d)", got, want, gen)
			})
		}
	}
}

// weightsNow reads the weights of soak/weighted the Client serves.
func weightsNow(c *routing.Client) [3]int {
	var w [3]int
	for _, g := range c.Groups() {
		for _, m := range g.Models {
			if g.Name == "soak" && m.Name == "weighted" {
				for i := range min(len(m.Routing.Targets), len(w)) {
					w[i] = m.Routing.Targets[i].Weight
				}
			}
		}
	}
	return w
}

// plan is what the caller does to a call besides making it.
type plan uint8

const (
	planPlain             plan = iota // take the result as it comes
	planCancelAt                      // cancel the ctx from another goroutine after c.at
	planCancelAfter                   // stream: cancel the ctx after c.k chunks
	planCloseAt                       // stream: Close from another goroutine after c.at
	planCloseAfter                    // stream: Close from another goroutine after c.k chunks, still receiving
	planCloseEarly                    // stream: Close as soon as it opens, then Recv
	planCloseOnRestart                // stream, restarts on: Close from another goroutine right after the restart signal
	planCloseReconnecting             // stream, scripted: cut after content, then silence; Close while Recv reconnects
	planRestartExhausted              // stream, scripted: every target cut after content, until none is left
	planPreCancelled                  // the ctx is cancelled before the call
	planBadHeader                     // a request header net/http refuses to send
	planForbidden                     // a subject the group does not admit
	numPlans
)

var planNames = [numPlans]string{
	"plain", "cancel-at", "cancel-after", "close-at", "close-after", "close-early",
	"close-on-restart", "close-reconnecting", "restart-exhausted", "pre-cancelled", "bad-header", "forbidden",
}

// scripts are the faults a scripted plan asks of the servers, attempt by
// attempt (the last repeats): scenarios too rare to leave to chance.
var scripts = [numPlans]string{
	planCloseReconnecting: "cut,silent",
	planRestartExhausted:  "cut",
}

// planMixes weigh the plans for each kind of call.
var planMixes = [numOps][numPlans]int{
	opChat:   {planPlain: 82, planCancelAt: 10, planPreCancelled: 2, planBadHeader: 3, planForbidden: 3},
	opStream: {planPlain: 48, planCancelAt: 10, planCancelAfter: 8, planCloseAt: 12, planCloseAfter: 6, planCloseEarly: 5, planCloseOnRestart: 5, planCloseReconnecting: 2, planRestartExhausted: 2, planBadHeader: 2, planForbidden: 2},
	opEmbed:  {planPlain: 85, planCancelAt: 12, planPreCancelled: 3},
}

func pickPlan(o op) plan {
	total := 0
	for _, w := range planMixes[o] {
		total += w
	}
	n := rand.IntN(total)
	for p, w := range planMixes[o] {
		if n < w {
			return plan(p)
		}
		n -= w
	}
	panic("unreachable")
}

// call is one call the soak makes and everything needed to judge and
// report it. The fields above mu never change once the call starts.
type call struct {
	id       int64
	op       op
	model    string
	plan     plan
	restart  bool
	start    time.Time
	deadline time.Duration
	at       time.Duration // when a timed plan acts
	k        int           // after how many chunks a counted plan acts
	inputs   int           // embedding inputs

	// acted and actDone are when the caller began and finished
	// cancelling or closing, as time since start plus one; 0 if it has
	// not.
	acted, actDone atomic.Int64
	end            time.Time
	tr             routing.Trace
	saw            []string // what the caller saw, for the report
	err            error    // the terminal error, nil or io.EOF for a success
	// chunks is how many chunks a stream delivered, restarts included.
	chunks int

	// What the Tracer hooks saw of the call; a stream's may come from
	// the goroutine that closes it.
	hookCalls, hookEnds, hookAttempts, hookAttemptEnds, hookChunks atomic.Int64
	hookOK                                                         atomic.Bool
}

// do runs the caller's act f, a cancellation or a Close, noting when it
// began and when it returned.
func (c *call) do(f func()) {
	c.acted.CompareAndSwap(0, int64(time.Since(c.start))+1)
	f()
	c.actDone.CompareAndSwap(0, int64(time.Since(c.start))+1)
}

// actedAt returns when the caller acted, if it did before the call ended.
func (c *call) actedAt() (time.Duration, bool) {
	a := c.acted.Load()
	if a == 0 || time.Duration(a-1) > c.end.Sub(c.start) {
		return 0, false
	}
	return time.Duration(a - 1), true
}

func (c *call) cancelled() bool {
	_, ok := c.actedAt()
	return ok && (c.plan == planCancelAt || c.plan == planCancelAfter || c.plan == planPreCancelled)
}

func (c *call) closed() bool {
	_, ok := c.actedAt()
	switch c.plan {
	case planCloseAt, planCloseAfter, planCloseEarly, planCloseOnRestart, planCloseReconnecting:
		return ok
	}
	return false
}

func (s *soak) worker(ctx context.Context) {
	for s.pacer.admit(ctx) {
		o := opStream
		switch n := rand.IntN(100); {
		case n < 30:
			o = opChat
		case n < 45:
			o = opEmbed
		}
		c := &call{
			id: s.nextID.Add(1), op: o, plan: pickPlan(o), restart: rand.IntN(3) == 0,
			deadline: 1500*time.Millisecond + rand.N(maxDeadline-1500*time.Millisecond),
			at:       rand.N(1200 * time.Millisecond), k: 1 + rand.IntN(8), inputs: 1 + rand.IntN(4),
		}
		switch o {
		case opEmbed:
			c.model = "soak/embed"
		default:
			c.model = "soak/" + []string{"weighted", "priority", "latency"}[rand.IntN(3)]
		}
		switch c.plan {
		case planCloseOnRestart, planCloseReconnecting, planRestartExhausted:
			c.restart = true
		}
		c.start = time.Now()
		s.reg.open(c.id)
		s.mu.Lock()
		s.inflight[c.id] = c
		s.plans[o][c.plan]++
		s.mu.Unlock()
		s.started.Add(1)
		switch o {
		case opChat:
			s.chat(c)
		case opEmbed:
			s.embed(c)
		case opStream:
			s.stream(c)
		}
		s.pacer.done()
		s.judge(c)
		s.mu.Lock()
		delete(s.inflight, c.id)
		s.mu.Unlock()
		s.reg.close(c.id)
		// A short pause between calls keeps the load on a shared
		// machine to what the bounds above assume.
		time.Sleep(rand.N(s.opt.think))
	}
}

// context builds the call's ctx: deadline, subject, headers, trace.
func (s *soak) context(c *call) (context.Context, context.CancelFunc) {
	subject := "user:app"
	if c.plan == planForbidden {
		subject = "user:intruder"
	}
	h := http.Header{callHeader: {strconv.FormatInt(c.id, 10)}}
	if c.plan == planBadHeader {
		h.Set("X-Soak-Bad", "line\r\nbreak")
	}
	if sc := scripts[c.plan]; sc != "" {
		h.Set(scriptHeader, sc)
	}
	ctx := context.WithValue(context.Background(), callKey{}, c)
	ctx = routing.WithTrace(routing.WithHeaders(routing.WithSubject(ctx, subject), h), &c.tr)
	ctx, cancel := context.WithTimeout(ctx, c.deadline)
	if c.plan == planPreCancelled {
		c.do(cancel)
	}
	return ctx, cancel
}

// after runs f on another goroutine after d, recording the moment as the
// caller's act; the returned stop waits for f if it already started, so
// nothing outlives the call.
func (c *call) after(d time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	tm := time.AfterFunc(d, func() {
		defer close(done)
		c.do(f)
	})
	return func() {
		if !tm.Stop() {
			<-done
		}
	}
}

func (c *call) note(format string, args ...any) {
	if len(c.saw) < 12 {
		c.saw = append(c.saw, fmt.Sprintf(format, args...))
	}
}

func messages(c *call) []goopenai.ChatCompletionMessage {
	return []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "soak call " + strconv.FormatInt(c.id, 10)}}
}

func (s *soak) chat(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	stop := func() {}
	if c.plan == planCancelAt {
		stop = c.after(c.at, cancel)
	}
	resp, err := s.client.Chat(ctx, goopenai.ChatCompletionRequest{Model: c.model, Messages: messages(c)})
	c.end = time.Now()
	stop()
	c.err = err
	if err != nil {
		return
	}
	if len(resp.Choices) != 1 {
		s.violation(vIncomplete, c, "success with %d choices", len(resp.Choices))
		return
	}
	if err := checkAnswer(resp.Choices[0].Message.Content, c.id); err != nil {
		s.violation(answerKind(err), c, "Chat succeeded with %v", err)
	}
}

func (s *soak) embed(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	stop := func() {}
	if c.plan == planCancelAt {
		stop = c.after(c.at, cancel)
	}
	input := make([]string, c.inputs)
	for i := range input {
		input[i] = "soak input " + strconv.Itoa(i)
	}
	resp, err := s.client.Embed(ctx, goopenai.EmbeddingRequest{Model: goopenai.EmbeddingModel(c.model), Input: input})
	c.end = time.Now()
	stop()
	c.err = err
	if err != nil {
		return
	}
	if err := checkEmbedding(resp, c.inputs, c.id); err != nil {
		s.violation(answerKind(err), c, "Embed succeeded with %v", err)
	}
}

func answerKind(err error) string {
	if errors.Is(err, errForeign) {
		return vForeign
	}
	return vIncomplete
}

func (s *soak) stream(c *call) {
	ctx, cancel := s.context(c)
	defer cancel()
	var stops []func()
	stopAll := func() {
		for _, stop := range stops {
			stop()
		}
		stops = nil
	}
	defer stopAll()
	if c.plan == planCancelAt {
		stops = append(stops, c.after(c.at, cancel))
	}
	st, err := s.client.ChatStream(ctx, goopenai.ChatCompletionRequest{Model: c.model, Messages: messages(c)}, routing.RestartOnInterrupt(c.restart))
	if err != nil {
		c.end = time.Now()
		c.err = err
		c.note("ChatStream: %v", err)
		return
	}
	// Closes from other goroutines keep their errors for the reader to
	// report once it has waited for them.
	var closeErrs [4]error
	closers := 0
	closeFrom := func(d time.Duration) {
		if closers == len(closeErrs) {
			return
		}
		i := closers
		closers++
		stops = append(stops, c.after(d, func() { closeErrs[i] = st.Close() }))
	}
	switch c.plan {
	case planCloseAt:
		closeFrom(c.at)
	case planCloseEarly:
		var err error
		c.do(func() { err = st.Close() })
		if err != nil {
			s.violation(vClose, c, "Close: %v", err)
		}
	}
	var text strings.Builder
	chunks, restarts := 0, 0
	content := 0 // chunks with content or a finish reason since the last restart
recv:
	for {
		ch, err := st.Recv()
		switch {
		case err == nil:
			chunks++
			for _, choice := range ch.Choices {
				text.WriteString(choice.Delta.Content)
			}
			if len(ch.Choices) > 0 && (ch.Choices[0].Delta.Content != "" || ch.Choices[0].FinishReason != "") {
				content++
			}
			switch {
			case chunks > 10000:
				s.violation(vEndless, c, "more than 10000 chunks")
				c.err = errors.New("soak: endless stream")
				break recv
			case c.plan == planCancelAfter && chunks == c.k:
				c.do(cancel)
			case c.plan == planCloseAfter && chunks == c.k:
				closeFrom(0)
			}
		case errors.Is(err, routing.ErrStreamRestarted):
			restarts++
			c.note("restart %d after %q: %v", restarts, clip(text.String()), err)
			if !c.restart {
				s.violation(vRestart, c, "restart signal on a stream that did not opt in: %v", err)
			}
			var se *routing.StreamError
			if !errors.As(err, &se) {
				s.violation(vUntyped, c, "restart signal %v (%T) is not a *routing.StreamError", err, err)
			} else if se.Delivered != text.String() || se.Chunks != content {
				s.violation(vDelivered, c, "restart signal says %d chunks, %q, were delivered; the caller got %d, %q",
					se.Chunks, clip(se.Delivered), content, clip(text.String()))
			}
			s.checkError(c, err)
			text.Reset()
			content = 0
			if restarts > 8 {
				s.violation(vEndless, c, "more than 8 restarts")
				c.err = err
				break recv
			}
			if (c.plan == planCloseOnRestart || c.plan == planCloseReconnecting) && restarts == 1 {
				closeFrom(rand.N(20 * time.Millisecond))
			}
		default:
			c.err = err
			break recv
		}
	}
	c.end = time.Now()
	c.chunks = chunks
	stopAll()
	for _, err := range closeErrs {
		if err != nil {
			s.violation(vClose, c, "Close from another goroutine: %v", err)
		}
	}
	if c.err == io.EOF {
		c.note("io.EOF after %d chunks, %d restarts", chunks, restarts)
		if err := checkAnswer(text.String(), c.id); err != nil {
			s.violation(answerKind(err), c, "stream reached io.EOF with %v", err)
		}
	} else {
		c.note("ended after %d chunks, %d restarts, holding %q: %v", chunks, restarts, clip(text.String()), c.err)
		var se *routing.StreamError
		if errors.As(c.err, &se) && (se.Delivered != text.String() || se.Chunks != content) {
			s.violation(vDelivered, c, "the stream error says %d chunks, %q, were delivered; the caller got %d, %q",
				se.Chunks, clip(se.Delivered), content, clip(text.String()))
		}
	}
	// An ended stream stays ended; once closed, even after its end, it
	// says so.
	closedLate := c.acted.Load() != 0 && c.plan != planCancelAt && c.plan != planCancelAfter
	if _, again := st.Recv(); again == nil || (c.err == io.EOF) != (again == io.EOF) && !(closedLate && errors.Is(again, routing.ErrStreamClosed)) {
		s.violation(vSticky, c, "Recv after the end (%v) returned %v", c.err, again)
	}
	if err := st.Close(); err != nil {
		s.violation(vClose, c, "Close: %v", err)
	}
	if err := st.Close(); err != nil {
		s.violation(vClose, c, "second Close: %v", err)
	}
}

// judge checks what every call must satisfy, whatever its kind: one
// outcome, a typed error, no hang.
func (s *soak) judge(c *call) {
	s.recorded.Add(1)
	for _, a := range c.tr.Attempts {
		switch a.Reason {
		case strategy.ReasonDemoted:
			s.tracedDemoted.Add(1)
		case strategy.ReasonProbe:
			s.tracedProbes.Add(1)
		}
	}
	// The bounds allow for the time the whole process stood still.
	elapsed := c.end.Sub(c.start)
	if stalled := s.stalls.during(c.start, c.end); elapsed > c.deadline+hangSlack+stalled {
		s.violation(vHung, c, "returned %v after its start, past its deadline %v plus %v (and %v the process stood still)",
			elapsed.Round(time.Millisecond), c.deadline.Round(time.Millisecond), hangSlack, stalled.Round(time.Millisecond))
	}
	if at, ok := c.actedAt(); ok && c.plan != planPreCancelled {
		if stalled := s.stalls.during(c.start.Add(at), c.end); elapsed-at > closeBound+stalled {
			kind := vSlowCancel
			if c.closed() {
				kind = vSlowClose
			}
			s.violation(kind, c, "returned %v after the caller's %s at %v (the process stood still %v of that)",
				(elapsed - at).Round(time.Millisecond), planNames[c.plan], at.Round(time.Millisecond), stalled.Round(time.Millisecond))
		}
	}

	// Once Close or cancel has returned, an attempt may still begin (the
	// call may be between two), but it must end at once as cancelled:
	// one that went on to its own end did work upstream nobody wanted.
	// Only the order of events counts here, not their speed.
	if done := c.actDone.Load(); done != 0 && c.plan != planPreCancelled {
		at := c.start.Add(time.Duration(done - 1))
		var late []string
		for _, a := range c.tr.Attempts {
			if a.Start.After(at) && a.Class != "canceled" {
				late = append(late, fmt.Sprintf("%s at +%v (%s)", a.Target, a.Start.Sub(c.start).Round(time.Millisecond), a.Class))
			}
		}
		if len(late) > 0 {
			s.violation(vWorkAfter, c, "attempts began after the caller's %s returned at +%v and ran to their end: %s",
				planNames[c.plan], time.Duration(done-1).Round(time.Millisecond), strings.Join(late, ", "))
		}
	}

	err := c.err
	if err == io.EOF {
		err = nil
	}
	s.checkHooks(c, err == nil)
	switch c.plan {
	case planBadHeader:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, routing.ErrInvalidRequest) {
			s.violation(vInvalid, c, "a request header net/http cannot send made %d upstream attempts and ended with %v; want ErrInvalidRequest and no attempt", n, err)
		}
	case planForbidden:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, routing.ErrForbidden) {
			s.violation(vForbidden, c, "a subject outside the group made %d attempts and got %v; want ErrForbidden", n, err)
		}
	case planPreCancelled:
		if n := len(c.tr.Attempts); n > 0 || !errors.Is(err, context.Canceled) {
			s.violation(vPreCancelled, c, "a call with a cancelled ctx made %d attempts and got %v; want context.Canceled", n, err)
		}
	case planRestartExhausted:
		// Every target answers and is then cut, so the stream ends
		// when none is left, with the status of the last cut.
		var se *routing.StreamError
		if err == nil || (!errors.As(err, &se) && !errors.Is(err, context.DeadlineExceeded)) {
			s.violation(vExhausted, c, "a stream cut on every target ended with %v; want a *routing.StreamError", err)
		}
	case planCloseEarly:
		if c.closed() && !errors.Is(err, routing.ErrStreamClosed) {
			s.violation(vNotClosed, c, "Recv after Close returned %q (%T), which does not match ErrStreamClosed", errText(err), err)
		}
	}
	if err != nil {
		s.checkError(c, err)
	}
	s.mu.Lock()
	s.outcomes[opNames[c.op]+": "+outcome(c)]++
	s.mu.Unlock()
}

// checkHooks checks what the Tracer saw of a call that is over: one call
// started and ended, with the caller's outcome; every attempt started
// ended, one per attempt in the trace; one StreamChunk per chunk.
func (s *soak) checkHooks(c *call, ok bool) {
	calls, ends := c.hookCalls.Load(), c.hookEnds.Load()
	attempts, attemptEnds := c.hookAttempts.Load(), c.hookAttemptEnds.Load()
	switch {
	case calls != 1 || ends != 1:
		s.violation(vHooks, c, "StartCall %d times, EndCall %d times; want once each", calls, ends)
	case c.hookOK.Load() != ok:
		s.violation(vHooks, c, "EndCall says success %v, the caller's outcome was %v", c.hookOK.Load(), c.err)
	}
	if attempts != attemptEnds || attemptEnds != int64(len(c.tr.Attempts)) {
		s.violation(vHooks, c, "StartAttempt %d times, EndAttempt %d times, %d attempts in the trace", attempts, attemptEnds, len(c.tr.Attempts))
	}
	switch n := c.hookChunks.Load(); {
	case n == int64(c.chunks):
	case n == int64(c.chunks)+1 && c.closed():
		// A Recv that reads a chunk as another goroutine closes the
		// stream drops the chunk, but the hook has already counted it.
		// Counted and logged, not failed, until the library stops
		// doing so.
		s.chunkOnClose.Add(1)
	default:
		s.violation(vHooks, c, "StreamChunk %d times for %d chunks delivered", n, c.chunks)
	}
}

// checkError checks a failure: typed, carrying its status, caused by the
// caller only when the caller did it, and free of the API key.
func (s *soak) checkError(c *call, err error) {
	var re *routing.Error
	var se *routing.StreamError
	isCtx := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	typed := errors.As(err, &re) || errors.As(err, &se) || isCtx ||
		errors.Is(err, routing.ErrStreamClosed) || errors.Is(err, routing.ErrForbidden) || errors.Is(err, routing.ErrInvalidRequest)
	switch {
	case !typed && c.closed():
		s.violation(vNotClosed, c, "Recv after Close returned %q (%T), which does not match ErrStreamClosed", errText(err), err)
	case !typed:
		s.violation(vUntyped, c, "untyped error %q (%T)", errText(err), err)
	}
	if errors.Is(err, context.Canceled) && !c.cancelled() {
		s.violation(vPhantomCancel, c, "the error matches context.Canceled, yet the caller cancelled nothing: %v", err)
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) && sc.StatusCode() == 0 && !isCtx {
		s.violation(vStatus0, c, "%T with StatusCode 0: %v", sc, err)
	}
	for _, text := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, sentinelKey) {
			s.violation(vKeyLeak, c, "the API key is in the error: %s", text)
		}
	}
	for _, a := range c.tr.Attempts {
		if a.Err != nil && strings.Contains(fmt.Sprintf("%v %+v", a.Err, a.Err), sentinelKey) {
			s.violation(vKeyLeak, c, "the API key is in the trace's attempt error: %v", a.Err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// outcome names how a call ended, for the statistics.
func outcome(c *call) string {
	err := c.err
	var se *routing.StreamError
	var sc interface{ StatusCode() int }
	switch {
	case err == nil || err == io.EOF:
		return "ok"
	case errors.Is(err, routing.ErrStreamClosed):
		return "closed"
	case c.closed() && !errors.As(err, &se):
		return "closed (untyped)"
	case errors.Is(err, routing.ErrForbidden):
		return "forbidden"
	case errors.Is(err, routing.ErrInvalidRequest):
		return "invalid request"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return "interrupted " + strconv.Itoa(se.StatusCode())
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.As(err, &sc):
		return "failed " + strconv.Itoa(sc.StatusCode())
	}
	return "untyped"
}

func (s *soak) describeOutcomes() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.outcomes))
	for k := range s.outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %d", k, s.outcomes[k])
	}
	return b.String()
}

// checkCoverage makes a run that did not meet every fault and plan, or
// never saw a success or a restart, a failure: a soak that does not look
// passes nothing.
func (s *soak) checkCoverage() {
	for o := range numOps {
		for f := range numFaults {
			if s.opt.mixes[o][f] == 0 {
				continue
			}
			total := int64(0)
			for _, srv := range s.servers {
				total += srv.served[o][f].Load()
			}
			if total == 0 {
				s.v.add(vCoverage, func() string { return fmt.Sprintf("no %s call met the %s fault", opNames[o], faultNames[f]) })
			}
		}
		s.mu.Lock()
		for p, w := range planMixes[o] {
			if w > 0 && s.plans[o][p] == 0 {
				s.v.add(vCoverage, func() string { return fmt.Sprintf("no %s call had the %s plan", opNames[o], planNames[p]) })
			}
		}
		ok := s.outcomes[opNames[o]+": ok"]
		s.mu.Unlock()
		if ok == 0 {
			s.v.add(vCoverage, func() string { return fmt.Sprintf("no %s call succeeded", opNames[o]) })
		}
	}
	// A target the traces show as demoted or probed was demoted first,
	// and observers must have heard of it.
	if n := s.tracedDemoted.Load(); n > 0 && s.health[routing.HealthDemoted].Load() == 0 {
		s.v.add(vHealth, func() string {
			return fmt.Sprintf("%d attempts went to demoted targets, yet observers heard of no demotion", n)
		})
	}
	if n := s.tracedProbes.Load(); n > 0 && s.health[routing.HealthProbed].Load() == 0 {
		s.v.add(vHealth, func() string {
			return fmt.Sprintf("%d attempts probed unhealthy targets, yet observers heard of no probe", n)
		})
	}
	if s.events[routing.EventAttempt].Load() == 0 {
		s.v.add(vCoverage, func() string { return "observers saw no attempt" })
	}
	if s.opt.duration >= 2*time.Second && s.applies.Load() == 0 {
		s.v.add(vCoverage, func() string { return "no reconfiguration was applied" })
	}
}

// reportStuck reports every call still in flight.
func (s *soak) reportStuck(when string) {
	s.mu.Lock()
	stuck := make([]*call, 0, len(s.inflight))
	for _, c := range s.inflight {
		stuck = append(stuck, c)
	}
	s.mu.Unlock()
	for _, c := range stuck {
		s.v.add(vHung, func() string {
			return fmt.Sprintf("%s: call %d (%s %s, plan %s, restart %v, deadline %v) still running %v after its start; servers: %s",
				when, c.id, opNames[c.op], c.model, planNames[c.plan], c.restart, c.deadline.Round(time.Millisecond),
				time.Since(c.start).Round(time.Millisecond), strings.Join(s.reg.log(c.id), ", "))
		})
	}
	if len(stuck) > 0 {
		s.v.add(vHung, func() string { return "goroutines in routing:\n" + routingStacks() })
	}
}

// violation records a broken promise with what is needed to debug it: the
// call, its plan, what the caller saw, its attempts, and what the servers
// did.
func (s *soak) violation(kind string, c *call, format string, args ...any) {
	s.v.add(vkey(kind, c.op), func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "call %d: %s %s, plan %s", c.id, opNames[c.op], c.model, planNames[c.plan])
		switch c.plan {
		case planCancelAt, planCloseAt:
			fmt.Fprintf(&b, " at %v", c.at.Round(time.Millisecond))
		case planCancelAfter, planCloseAfter:
			fmt.Fprintf(&b, " after %d chunks", c.k)
		}
		if c.restart {
			b.WriteString(", restarts on")
		}
		fmt.Fprintf(&b, ", deadline %v", c.deadline.Round(time.Millisecond))
		if !c.end.IsZero() {
			fmt.Fprintf(&b, ", returned after %v", c.end.Sub(c.start).Round(time.Millisecond))
		}
		if at, ok := c.actedAt(); ok {
			fmt.Fprintf(&b, ", caller acted at %v", at.Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "\n      %s", fmt.Sprintf(format, args...))
		for _, saw := range c.saw {
			fmt.Fprintf(&b, "\n      caller: %s", saw)
		}
		for _, a := range c.tr.Attempts {
			fmt.Fprintf(&b, "\n      attempt: %s try %d (%s) at +%v for %v: %d %s %v", a.Target, a.Try, a.Why(),
				a.Start.Sub(c.start).Round(time.Millisecond), a.Duration.Round(time.Millisecond), a.Status, a.Class, a.Err)
		}
		fmt.Fprintf(&b, "\n      servers: %s", strings.Join(s.reg.log(c.id), ", "))
		return b.String()
	})
}

// Kinds of violation.
const (
	vIncomplete    = "incomplete answer presented as a success"
	vForeign       = "another call's answer presented as a success"
	vUntyped       = "untyped error"
	vStatus0       = "failure with StatusCode 0"
	vPhantomCancel = "context.Canceled the caller never caused"
	vHung          = "call hung past its deadline"
	vSlowClose     = "Recv slow to return after Close"
	vSlowCancel    = "call slow to return after its cancellation"
	vWorkAfter     = "attempts went on after Close or cancel"
	vNotClosed     = "Recv after Close does not match ErrStreamClosed"
	vInvalid       = "invalid request sent upstream"
	vForbidden     = "forbidden call not refused"
	vPreCancelled  = "call with a done ctx not refused"
	vRestart       = "restart signal without opting in"
	vDelivered     = "StreamError's Delivered or Chunks differ from what was delivered"
	vSticky        = "ended stream did not stay ended"
	vClose         = "Close failed"
	vEndless       = "stream never ended"
	vKeyLeak       = "API key in an error"
	vLost          = "calls and outcomes do not match"
	vLeak          = "resources left after the servers closed"
	vHeap          = "heap grew"
	vReconfig      = "reconfiguration misbehaved"
	vWire          = "wrong requests upstream"
	vCoverage      = "soak did not exercise everything"
	vExhausted     = "stream with no target left misreported"
	vHealth        = "health changes not reported"
	vHooks         = "Tracer hooks do not match the call"
)

func vkey(kind string, o op) string { return kind + " (" + opNames[o] + ")" }

// violations collects broken promises by kind: every one is counted, the
// first few of each kind are kept in full.
type violations struct {
	mu    sync.Mutex
	kinds map[string]*vkind
}

type vkind struct {
	n        int
	examples []string
}

const maxExamples = 3

func (v *violations) add(kind string, detail func() string) {
	v.mu.Lock()
	k := v.kinds[kind]
	if k == nil {
		k = &vkind{}
		v.kinds[kind] = k
	}
	k.n++
	keep := len(k.examples) < maxExamples
	v.mu.Unlock()
	if keep {
		d := detail()
		v.mu.Lock()
		if len(k.examples) < maxExamples {
			k.examples = append(k.examples, d)
		}
		v.mu.Unlock()
	}
}

func (v *violations) count(kind string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k := v.kinds[kind]; k != nil {
		return k.n
	}
	return 0
}

// all describes every kind of violation with its examples, sorted.
func (v *violations) all() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.kinds))
	for name, k := range v.kinds {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %d times; first:", name, k.n)
		for _, e := range k.examples {
			b.WriteString("\n    ")
			b.WriteString(e)
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func (s *soak) kinds() []string { return s.v.all() }

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
