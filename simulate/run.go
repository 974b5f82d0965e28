package simulate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/internal/yamlread"
	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/slug"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/strategy"
)

// Subject is the caller a run's calls come from. It is made a Client
// admin, so that groups with collaborators can be simulated too.
const Subject = "virtualaccount:llmroute-simulate"

// Result is what a run measured. Durations are virtual time. Its
// methods only read it, so they may be called concurrently.
type Result struct {
	// Model is the virtual model called, "group/model"; Routing its
	// routing type.
	Model   string
	Routing string
	// Replicas is how many Clients served the calls, and SharedState
	// whether they shared health and rate-limit budgets.
	Replicas    int
	SharedState bool
	// Seed is the scenario's seed.
	Seed uint64
	// Calls is how many calls were made; Failed how many of them
	// returned an error to the caller, and FailedBy how many by kind:
	// the final upstream status ("503"), or the reason no provider was
	// called ("no eligible target").
	Calls, Failed int
	FailedBy      map[string]int
	// MaxInFlight is the most calls that were running at once: calls
	// arrive on schedule and overlap, as they would in real time.
	MaxInFlight int
	// Tries is how many upstream tries the calls made in all, hedges and
	// cancelled ones included: Tries / Calls is the load the calls put
	// on the providers.
	Tries int
	// Deprecated: calls overlap, so none waits for the one before it;
	// Late is always 0.
	Late int
	// Duration is the virtual time from the first call's start to the
	// last call's end.
	Duration time.Duration
	// P50 and P99 are the callers' end-to-end latency, retries, waits and
	// fallbacks included.
	P50, P99 time.Duration
	// Targets are the virtual model's targets, in manifest order.
	Targets []TargetStats
	// Bucket is the width of each of Series' buckets; Series covers the
	// run from its start, bucketing calls by their start.
	Bucket time.Duration
	Series []Bucket
	// Windows are the scenario's windows that fell within the run, each
	// ending no later than the run.
	Windows []WindowSpan
}

// TargetStats is one target's part in a run.
type TargetStats struct {
	// Target is "account/model".
	Target string
	// Served is how many calls it answered; Share is Served / Calls.
	Served int
	Share  float64
	// Attempts counts every try on it; Retries the tries that repeated a
	// failed one on it; Fallbacks the first tries on it after another
	// target had failed the call; Probes the tries that tested its
	// recovery while it was unhealthy; Hedges the tries started beside a
	// late one; Cancelled the tries cancelled because another try of the
	// same call answered first (neither failures nor in its latency).
	Attempts, Retries, Fallbacks, Probes, Hedges, Cancelled int
	// Errors counts its failed tries, and ErrorsBy by status (408 for a
	// timeout).
	Errors   int
	ErrorsBy map[int]int
	// Skips counts the calls that passed it over at its rate limit,
	// sending it nothing (not attempts).
	Skips int
	// P50 and P99 are the latency of its tries, failed ones included.
	P50, P99 time.Duration
}

// Bucket is one span of virtual time in a run's time series.
type Bucket struct {
	// From and To bound the bucket, as time since the run's start.
	From, To time.Duration
	// Calls is how many calls started in it; Failed how many of those
	// returned an error to the caller.
	Calls, Failed int
	// Served is, per target (parallel to Result.Targets), how many of
	// those calls it answered.
	Served []int
	// Tries is how many upstream tries those calls made in all.
	Tries int
	// P50 and P99 are those calls' end-to-end latency.
	P50, P99 time.Duration
}

// Share returns the share of the bucket's calls that target i served,
// 0 when the bucket has no calls.
func (b *Bucket) Share(i int) float64 {
	if b.Calls == 0 || i < 0 || i >= len(b.Served) {
		return 0
	}
	return float64(b.Served[i]) / float64(b.Calls)
}

// WindowSpan is a scenario window as it fell within a run.
type WindowSpan struct {
	Target   string
	Kind     WindowKind
	From, To time.Duration
}

// Run replays sc's calls through a routing.Client serving manifest (the
// manifest format of package routing), on simulated providers, in virtual
// time: it takes as long as the routing code takes to run, not as long as
// the calls would. The same manifest and Scenario give the same Result.
// Runs share nothing, so any number may run concurrently.
//
// A problem in the scenario, alone or against the manifest (an unknown
// model or target), is an ErrorList; a problem in the manifest is a
// routing.FieldErrors, wrapped. Run stops early with ctx's error when
// ctx is done.
func Run(ctx context.Context, manifest []byte, sc *Scenario) (*Result, error) {
	if sc == nil {
		return nil, errors.New("simulate: nil scenario")
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	groups, err := routing.ParseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("simulate: manifest: %w", err)
	}
	m, err := resolve(groups, sc)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(groups, m, sc)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// replicaStream spaces the random streams of a fleet's replicas, clear of
// the streams a run uses for its providers.
const replicaStream = 1000

// chosen is the virtual model a run calls.
type chosen struct {
	name string // "group/model"
	vm   *routing.VirtualModel
}

// resolve finds the scenario's model in the manifest and checks that the
// scenario names only its targets.
func resolve(groups []routing.Group, sc *Scenario) (chosen, error) {
	v := validator{lines: sc.lines}
	var all []chosen
	found := -1
	for gi := range groups {
		g := &groups[gi]
		for mi := range g.Models {
			c := chosen{name: g.Name + "/" + g.Models[mi].Name, vm: &g.Models[mi]}
			all = append(all, c)
			if sc.Model != "" && (sc.Model == c.name || sc.Model == c.vm.Slug) {
				found = len(all) - 1
			}
		}
	}
	names := make([]string, len(all))
	for i, c := range all {
		names[i] = c.name
	}
	switch {
	case found >= 0:
	case sc.Model != "":
		v.errorf("model", "%q is not a virtual model of the manifest (it has %s)", sc.Model, strings.Join(names, ", "))
		return chosen{}, v.err()
	case len(all) == 1:
		found = 0
	default:
		v.errorf("model", "required: the manifest has %d virtual models (%s)", len(all), strings.Join(names, ", "))
		return chosen{}, v.err()
	}
	model := all[found]
	refs := make([]string, len(model.vm.Routing.Targets))
	for i, t := range model.vm.Routing.Targets {
		refs[i] = t.Ref
	}
	for _, ref := range slices.Sorted(maps.Keys(sc.Targets)) {
		if !slices.Contains(refs, ref) {
			v.errorf(yamlread.Join("targets", ref), "not a target of %s (its targets: %s)", model.name, strings.Join(refs, ", "))
		}
	}
	return model, v.err()
}

// runner is one run's state.
type runner struct {
	sc      *Scenario
	m       chosen
	w       *world
	calls   []func(ctx context.Context) error // one per replica
	weights []int                             // cumulative profile weights
	index   map[string]int
}

func newRunner(groups []routing.Group, m chosen, sc *Scenario) (*runner, error) {
	clk := newClock()
	w := &world{clock: clk, rand: newRand(sc.Seed, 2), start: epoch, targets: map[string]*behavior{}, deflt: compile(Behavior{}, 0)}
	rc := &m.vm.Routing
	r := &runner{sc: sc, m: m, w: w, index: map[string]int{}}
	for i, t := range rc.Targets {
		timeout := t.RequestTimeout
		if timeout <= 0 {
			timeout = rc.RequestTimeout
		}
		w.targets[t.Ref] = compile(sc.Targets[t.Ref], timeout)
		r.index[t.Ref] = i
	}
	// The simulated providers time out in virtual time; routing's
	// per-attempt timer runs on the wall clock, which a call's virtual
	// seconds do not move, so it is left off.
	for gi := range groups {
		for mi := range groups[gi].Models {
			rc := &groups[gi].Models[mi].Routing
			rc.RequestTimeout = 0
			for ti := range rc.Targets {
				rc.Targets[ti].RequestTimeout = 0
			}
		}
	}
	// Every account the manifest names gets a simulated provider, since
	// the Client checks every group's targets, called or not.
	var opts []routing.Option
	seen := map[string]bool{}
	for gi := range groups {
		for _, vm := range groups[gi].Models {
			for _, t := range vm.Routing.Targets {
				ref, err := slug.ParseRef(t.Ref)
				if err != nil || seen[ref.Account] {
					continue
				}
				seen[ref.Account] = true
				opts = append(opts, routing.WithProvider(ref.Account, &account{name: ref.Account, w: w}))
			}
		}
		opts = append(opts, routing.WithGroup(groups[gi]))
	}
	replicas := max(sc.Replicas, 1)
	var shared []routing.Option
	if sc.SharedState {
		// The simulated store: in-process, on the run's virtual
		// clock, as stores/redis is for a fleet.
		shared = []routing.Option{
			routing.WithSharedHealth(stores.NewMemory()),
			routing.WithLimiter(stores.NewMemoryLimiter()),
			routing.WithReplicas(replicas),
		}
	}
	for i := range replicas {
		// Replica 0 draws from the stream a single Client always has,
		// so a run of one replica is what it always was.
		own := []routing.Option{
			routing.WithClock(clk),
			routing.WithRand(newRand(sc.Seed, 1+replicaStream*uint64(i)).Float64),
			routing.WithAdmins(Subject),
		}
		c, err := routing.New(slices.Concat(own, shared, opts)...)
		if err != nil {
			return nil, fmt.Errorf("simulate: manifest: %w", err)
		}
		r.calls = append(r.calls, operation(c, m))
	}
	total := 0
	for _, p := range sc.Profiles {
		total += max(p.Weight, 1)
		r.weights = append(r.weights, total)
	}
	return r, nil
}

// operation returns the call a run makes: a chat when the model serves
// chat, else a completion, else an embedding.
func operation(c *routing.Client, m chosen) func(ctx context.Context) error {
	types := m.vm.Types()
	switch {
	case slices.Contains(types, routing.Chat):
		return func(ctx context.Context) error {
			_, err := c.Chat(ctx, openai.ChatCompletionRequest{
				Model:    m.name,
				Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "simulated"}},
			})
			return err
		}
	case slices.Contains(types, routing.Completion):
		return func(ctx context.Context) error {
			_, err := c.Completion(ctx, openai.CompletionRequest{Model: m.name, Prompt: "simulated"})
			return err
		}
	default:
		return func(ctx context.Context) error {
			_, err := c.Embed(ctx, openai.EmbeddingRequest{Model: openai.EmbeddingModel(m.name), Input: []string{"simulated"}})
			return err
		}
	}
}

// record is one replayed call.
type record struct {
	start, end time.Duration // since the run's start
	served     int           // target index, -1 when the call failed
	tries      int           // upstream tries, hedges included
}

// outcome is what one call left behind, written by its own goroutine.
type outcome struct {
	tr         routing.Trace
	start, end time.Time
	err        error
}

func (r *runner) run(parent context.Context) (*Result, error) {
	sc, w := r.sc, r.w
	interval := sc.Interval
	if interval == 0 {
		interval = DefaultInterval
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer context.AfterFunc(ctx, w.clock.stop)()
	base := routing.WithSubject(ctx, Subject)

	// Each call arrives as an event: its arrival draws its request,
	// schedules the next call's arrival and starts the call on a
	// goroutine of its own, which the clock counts busy until the call
	// returns.
	outs := make([]outcome, sc.Requests)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards inFlight and peak
	var inFlight, peak int
	var arrival func(i int, at time.Duration) func()
	arrival = func(i int, at time.Duration) func() {
		return func() {
			o := &outs[i]
			callCtx := routing.WithTrace(r.request(base), &o.tr)
			if i+1 < sc.Requests {
				gap := interval
				if sc.Arrivals == Poisson {
					gap = time.Duration(w.rand.ExpFloat64() * float64(interval))
				}
				w.clock.at(w.start.Add(at+gap), classArrival, arrival(i+1, at+gap))
			}
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			o.start = w.clock.Now()
			call := r.calls[i%len(r.calls)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.clock.release()
				o.err = call(callCtx)
				o.end = w.clock.Now()
				mu.Lock()
				inFlight--
				mu.Unlock()
			}()
		}
	}
	if sc.Requests > 0 {
		w.clock.at(w.start, classArrival, arrival(0, 0))
	}
	for w.clock.step(ctx) {
	}
	cancel() // a run stopped early releases every call still waiting
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	return r.result(outs, peak)
}

// result tallies a run's calls.
func (r *runner) result(outs []outcome, peak int) (*Result, error) {
	sc, w := r.sc, r.w
	n := len(r.m.vm.Routing.Targets)
	res := &Result{
		Model:       r.m.name,
		Routing:     string(r.m.vm.Routing.Type),
		Seed:        sc.Seed,
		Replicas:    len(r.calls),
		SharedState: sc.SharedState,
		MaxInFlight: peak,
		FailedBy:    map[string]int{},
		Targets:     make([]TargetStats, n),
	}
	lat := make([][]time.Duration, n)
	for i, t := range r.m.vm.Routing.Targets {
		res.Targets[i] = TargetStats{Target: t.Ref, ErrorsBy: map[int]int{}}
	}
	recs := make([]record, 0, len(outs))
	e2e := make([]time.Duration, 0, len(outs))
	for i := range outs {
		o := &outs[i]
		rec := record{start: o.start.Sub(w.start), end: o.end.Sub(w.start), served: -1, tries: len(o.tr.Attempts)}
		e2e = append(e2e, o.end.Sub(o.start))
		res.Duration = max(res.Duration, rec.end)
		res.Tries += rec.tries
		for _, s := range o.tr.Skipped {
			if s.Reason == routing.SkipIneligible {
				continue // a profile's metadata, not a limit
			}
			if ti, ok := r.index[s.Target]; ok {
				res.Targets[ti].Skips++
			}
		}
		for _, a := range o.tr.Attempts {
			ti, ok := r.index[a.Target]
			if !ok {
				continue
			}
			ts := &res.Targets[ti]
			ts.Attempts++
			if a.Hedge {
				ts.Hedges++
			}
			if a.Class == "hedge_cancelled" {
				// A late try the call no longer needed: not a
				// failure, and its duration is only how long it ran.
				ts.Cancelled++
				continue
			}
			lat[ti] = append(lat[ti], a.Duration)
			if a.Retry {
				ts.Retries++
			}
			if a.Fallback {
				ts.Fallbacks++
			}
			if a.Reason == strategy.ReasonProbe {
				ts.Probes++
			}
			if a.Err != nil {
				ts.Errors++
				ts.ErrorsBy[a.Status]++
			}
		}
		if o.err == nil {
			if ti, ok := r.index[o.tr.Resolved]; ok {
				rec.served = ti
				res.Targets[ti].Served++
			}
		} else {
			res.Failed++
			res.FailedBy[failureKind(o.err)]++
		}
		recs = append(recs, rec)
	}
	res.Calls = len(recs)
	res.P50, res.P99 = percentiles(e2e)
	for i := range res.Targets {
		ts := &res.Targets[i]
		ts.Share = float64(ts.Served) / float64(max(res.Calls, 1))
		ts.P50, ts.P99 = percentiles(lat[i])
	}
	if err := r.series(res, recs); err != nil {
		return nil, err
	}
	for _, t := range r.m.vm.Routing.Targets {
		for _, win := range sc.Targets[t.Ref].Windows {
			if win.From >= res.Duration {
				continue
			}
			to := win.To
			if to == 0 || to > res.Duration {
				to = res.Duration
			}
			res.Windows = append(res.Windows, WindowSpan{Target: t.Ref, Kind: win.Kind, From: win.From, To: to})
		}
	}
	return res, nil
}

// request returns the context of the next call: a profile drawn by weight,
// its metadata and headers, and a session value when it has sessions.
func (r *runner) request(ctx context.Context) context.Context {
	if len(r.weights) == 0 {
		return ctx
	}
	x := r.w.rand.IntN(r.weights[len(r.weights)-1])
	pi, _ := slices.BinarySearch(r.weights, x+1)
	p := &r.sc.Profiles[pi]
	md := metadata.MD{}
	for k, v := range p.Metadata {
		md[k] = v
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	if s := p.Session; s != nil {
		id := "session-" + strconv.Itoa(r.w.rand.IntN(orInt(s.Count, DefaultSessions)))
		if s.Source == "metadata" {
			md[s.Key] = id
		} else {
			h.Set(s.Key, id)
		}
	}
	if len(md) > 0 {
		ctx = metadata.NewContext(ctx, md)
	}
	if len(h) > 0 {
		ctx = routing.WithHeaders(ctx, h)
	}
	return ctx
}

// series fills in res's time series from the calls.
func (r *runner) series(res *Result, recs []record) error {
	span := max(res.Duration, 1)
	b := r.sc.Bucket
	if b == 0 {
		b = niceStep(span, 60)
	}
	nb := int64(math.Ceil(float64(span) / float64(b)))
	if nb > MaxBuckets {
		v := validator{lines: r.sc.lines}
		v.errorf("bucket", "%v makes %d buckets of a %v run; at most %d", b, nb, res.Duration, MaxBuckets)
		return v.err()
	}
	res.Bucket = b
	res.Series = make([]Bucket, nb)
	for i := range res.Series {
		res.Series[i] = Bucket{From: time.Duration(i) * b, To: time.Duration(i+1) * b, Served: make([]int, len(res.Targets))}
	}
	lat := make([][]time.Duration, nb)
	for _, rec := range recs {
		k := min(int(rec.start/b), len(res.Series)-1)
		bk := &res.Series[k]
		bk.Calls++
		bk.Tries += rec.tries
		lat[k] = append(lat[k], rec.end-rec.start)
		if rec.served >= 0 {
			bk.Served[rec.served]++
		} else {
			bk.Failed++
		}
	}
	for k := range res.Series {
		res.Series[k].P50, res.Series[k].P99 = percentiles(lat[k])
	}
	return nil
}

// failureKind names what a failed call saw, for Result.FailedBy.
func failureKind(err error) string {
	var re *routing.Error
	switch {
	case errors.As(err, &re) && re.StatusCode() != 0:
		return strconv.Itoa(re.StatusCode())
	case errors.Is(err, routing.ErrRateLimited):
		return "rate limited"
	case errors.Is(err, routing.ErrNoEligibleTarget):
		return "no eligible target"
	case errors.Is(err, routing.ErrUnsupportedOperation):
		return "unsupported operation"
	case errors.Is(err, routing.ErrForbidden):
		return "forbidden"
	case errors.Is(err, routing.ErrUnknownModel):
		return "unknown model"
	}
	return "error"
}

// percentiles returns the nearest-rank 50th and 99th percentiles of ds,
// which it sorts.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		return ds[max(int(math.Ceil(p*float64(len(ds))))-1, 0)]
	}
	return rank(0.50), rank(0.99)
}

// niceSteps are the round widths buckets and axis ticks are chosen from.
var niceSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// niceStep returns the smallest round width that cuts span into at most n
// pieces.
func niceStep(span time.Duration, n int) time.Duration {
	for _, s := range niceSteps {
		if int64(span) <= int64(s)*int64(n) {
			return s
		}
	}
	day := 24 * time.Hour
	return time.Duration(math.Ceil(float64(span)/float64(int64(day)*int64(n)))) * day
}
