package soak_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
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

// tuning is one configuration the soak applies: weights, priorities,
// timeouts, retry budgets and hedging flip with each generation.
type tuning struct {
	gen                      int
	weights                  [3]int
	requestMS, ttftMS, idlMS int    // 0: not set
	budget                   string // retry_budget of every model, "" for the default
	hedge                    string // hedge of soak/hedged and soak/embed
}

var tunings = []tuning{
	{weights: [3]int{60, 30, 10}, requestMS: 800, ttftMS: 300, idlMS: 300,
		hedge: "{after_ms: 100, max_hedges: 2}"},
	{weights: [3]int{10, 60, 30}, requestMS: 0, ttftMS: 600, idlMS: 700,
		budget: "{percent: 10, min_per_second: 0.5}", hedge: "{after_percentile: 90, after_ms: 200}"},
	{weights: [3]int{30, 10, 60}, requestMS: 1500, ttftMS: 0, idlMS: 400,
		budget: "{disabled: true}", hedge: "{after_ms: 300}"},
	{weights: [3]int{0, 50, 50}, requestMS: 500, ttftMS: 450, idlMS: 0,
		budget: "{percent: 50}", hedge: "{after_percentile: 75}"},
}

var accounts = []string{"a", "b", "c"}

// chatModels are the virtual models chat calls and streams use.
var chatModels = []string{"soak/weighted", "soak/priority", "soak/latency", "soak/hedged", "soak/sticky"}

// sessionHeader carries a call's sticky session (one of sessions), so
// that calls to soak/sticky find, refresh and move pins in the Client's
// in-memory store while other calls race with them.
const (
	sessionHeader = "X-Soak-Session"
	sessions      = 16
)

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
	model := func(name, routingType, types string, hedged bool, target func(i int) string) {
		fmt.Fprintf(&b, "  - name: %s\n    type: integration/model/virtual\n    model_types: [%s]\n    routing_config:\n      type: %s\n", name, types, routingType)
		if name == "sticky" {
			fmt.Fprintf(&b, "      sticky_routing:\n        ttl_seconds: 1800\n        session_identifiers:\n          - {source: headers, key: %s}\n", sessionHeader)
		}
		for _, kv := range []struct {
			key string
			ms  int
		}{{"request_timeout_ms", tu.requestMS}, {"ttft_timeout_ms", tu.ttftMS}, {"stream_idle_timeout_ms", tu.idlMS}} {
			if kv.ms > 0 {
				fmt.Fprintf(&b, "      %s: %d\n", kv.key, kv.ms)
			}
		}
		if tu.budget != "" {
			fmt.Fprintf(&b, "      retry_budget: %s\n", tu.budget)
		}
		if hedged && tu.hedge != "" {
			fmt.Fprintf(&b, "      hedge: %s\n", tu.hedge)
		}
		b.WriteString("      load_balance_targets:\n")
		for i, acct := range accounts {
			fmt.Fprintf(&b, "        - target: %s/m\n          retry_config: {attempts: 1, delay: 20}\n%s", acct, target(i))
		}
	}
	priority := func(i int) string { return fmt.Sprintf("          priority: %d\n", (i+tu.gen)%len(accounts)) }
	model("weighted", "weight-based-routing", "chat", false, func(i int) string {
		return fmt.Sprintf("          weight: %d\n", tu.weights[i])
	})
	model("priority", "priority-based-routing", "chat", false, priority)
	model("latency", "latency-based-routing", "chat", false, func(int) string { return "" })
	model("hedged", "priority-based-routing", "chat", true, priority)
	model("sticky", "weight-based-routing", "chat", false, func(i int) string {
		return fmt.Sprintf("          weight: %d\n", tu.weights[i])
	})
	model("embed", "priority-based-routing", "embedding", true, priority)
	return []byte(b.String())
}

// TestManifests checks that every generation the soak applies is a valid
// manifest that hedges the models it means to: a refused one would only
// show as a reconfiguration violation in the middle of a soak.
func TestManifests(t *testing.T) {
	for i, tu := range tunings {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			groups, err := routing.ParseManifest(manifest(tu))
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			var got, want []string
			for _, m := range groups[0].Models {
				if m.Routing.Hedge != nil {
					got = append(got, m.Name)
				}
			}
			if tu.hedge != "" {
				want = []string{"hedged", "embed"}
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("hedged models (-got +want):\n%s", diff)
			}
		})
	}
}

type soakOptions struct {
	duration time.Duration
	workers  int
	think    time.Duration // a worker's longest pause between calls
	mixes    [numOps]mix
	// coverage makes a run that missed a fault, a plan or a kind of
	// outcome it was all but sure to meet a violation: the soak must not
	// pass by not looking.
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

	applies  atomic.Int64
	restarts atomic.Int64    // restart signals received
	events   [8]atomic.Int64 // by routing.EventKind
	health   [4]atomic.Int64 // by routing.HealthChange
	// Attempts the traces say went to a demoted or a probed target, were
	// hedges, or were not retried for want of retry budget.
	tracedDemoted, tracedProbes, hedges, budgetSpent, pinned atomic.Int64
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

	s := &soak{opt: opt, reg: newRegistry(), inflight: map[int64]*call{}, outcomes: map[string]int{}}
	s.pacer = newPacer(opt.workers, &s.stalls)
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
	s.checkHealth()
	if opt.coverage {
		s.checkCoverage()
	}
	t.Logf("soak: %d calls in %v (%.0f/s) by %d workers; %d reconfigurations",
		s.started.Load(), elapsed.Round(time.Millisecond), float64(s.started.Load())/elapsed.Seconds(), opt.workers, s.applies.Load())
	n, total, longest := s.stalls.summary()
	t.Logf("the process could not keep pace %d times, %v in all, at most %v at once; the pacer allowed %d calls in flight on average",
		n, total.Round(time.Millisecond), longest.Round(time.Millisecond), s.pacer.meanLimit())
	t.Logf("outcomes:%s", s.describeOutcomes())
	t.Logf("faults served:%s", describeServed(s.servers))
	t.Logf("events: attempts=%d config-warnings=%d health: demoted=%d probed=%d recovered=%d; hedges=%d, retries refused for budget=%d, restarts=%d",
		s.events[routing.EventAttempt].Load(), s.events[routing.EventConfigWarning].Load(),
		s.health[routing.HealthDemoted].Load(), s.health[routing.HealthProbed].Load(), s.health[routing.HealthRecovered].Load(),
		s.hedges.Load(), s.budgetSpent.Load(), s.restarts.Load())
	return s
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
