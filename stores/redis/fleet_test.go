package redis_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores/redis"
	"github.com/llmroute/llmroute/target"
)

// upstream is one provider account shared by every replica: "primary"
// enforces its own limit of requests a minute, as its provider would,
// and answers 429 past it; "backup" always answers. Each answer reports
// usage tokens.
//
// The primary's bucket is GCRA, like the shared budget's, with a
// tolerance of 250 ms: its clock starts at the first request's arrival,
// the shared budget's at that request's admission, so a request admitted
// the instant the shared budget refills may arrive a little before the
// primary's own bucket has, by as much as requests differ in the time
// from their admission to their arrival.
type upstream struct {
	limit int // primary's requests a minute; 0: none
	usage openai.Usage

	mu      sync.Mutex
	tat     time.Time // the primary's bucket is whole again
	down    bool      // primary answers 503
	served  map[string]int
	tokens  int // used by the primary's answers
	refused int // 429s answered
}

func newUpstream(limit int, usage openai.Usage) *upstream {
	return &upstream{limit: limit, usage: usage, served: map[string]int{}}
}

func (u *upstream) Chat(_ context.Context, r providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	m := r.Request.Model
	if m == "primary" {
		u.mu.Lock()
		down := u.down
		u.mu.Unlock()
		if down {
			return openai.ChatCompletionResponse{}, &providers.Error{Status: 503, Message: "down"}
		}
		if u.limit > 0 && !u.admit(time.Now()) {
			return openai.ChatCompletionResponse{}, &providers.Error{Status: 429, Code: "rate_limit_exceeded"}
		}
	}
	u.mu.Lock()
	u.served[m]++
	if m == "primary" {
		u.tokens += u.usage.TotalTokens
	}
	u.mu.Unlock()
	return openai.ChatCompletionResponse{Model: m, Usage: u.usage}, nil
}

// tolerance is how early the primary accepts a request its bucket has no
// room for yet.
const tolerance = 250 * time.Millisecond

// admit is the primary's own GCRA bucket.
func (u *upstream) admit(now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	tat := u.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Minute / time.Duration(u.limit))
	if next.After(now.Add(time.Minute + tolerance)) {
		u.refused++
		return false
	}
	u.tat = next
	return true
}

func (u *upstream) setDown(down bool) {
	u.mu.Lock()
	u.down = down
	u.mu.Unlock()
}

func (u *upstream) counts() (served map[string]int, tokens, refused int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	served = map[string]int{}
	for k, v := range u.served {
		served[k] = v
	}
	return served, u.tokens, u.refused
}

// limitedGroup routes grp/chat to primary, with limit, then backup, with
// no retries.
func limitedGroup(limit target.RateLimit) routing.Group {
	return routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
		Type: routing.PriorityBased,
		Targets: []target.Target{
			{Ref: "acct/primary", RateLimit: limit, Retry: &target.Retry{}},
			{Ref: "acct/backup", Priority: 1, Retry: &target.Retry{}},
		},
	}}}}
}

func replica(tb testing.TB, p providers.Provider, g routing.Group, opts ...routing.Option) *routing.Client {
	tb.Helper()
	c, err := routing.New(append([]routing.Option{routing.WithProvider("acct", p), routing.WithGroup(g)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// load makes every replica call grp/chat from 4 goroutines each for d,
// with req, and returns how long the load took from before the first
// call to after the last one returned, and the calls that failed.
func load(t *testing.T, replicas []*routing.Client, d time.Duration, req openai.ChatCompletionRequest) (time.Duration, []error) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for _, c := range replicas {
		for range 4 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if _, err := c.Chat(t.Context(), req); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					time.Sleep(2 * time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	return time.Since(start), errs
}

// Four replicas sharing a limit of 60 requests a minute on the primary
// send it, together, no more than that budget allows in any span of time:
// a GCRA bucket of 60 that refills one a second admits at most 60 + T/1s
// in T. The rest spills to the backup, no call fails, and the primary,
// which enforces the same budget itself, never has to refuse one.
func TestRoutingReplicasShareARequestLimit(t *testing.T) {
	client := sharedClient(t)
	ns := uniquePrefix(t, client)
	up := newUpstream(60, openai.Usage{PromptTokens: 5, CompletionTokens: 5, TotalTokens: 10})
	g := limitedGroup(target.RateLimit{RequestsPerMinute: 60})
	var replicas []*routing.Client
	for range 4 {
		st := newStore(t, client, redis.WithNamespace(ns), redis.WithTimeout(time.Second))
		replicas = append(replicas, replica(t, up, g, routing.WithLimiter(st), routing.WithReplicas(4)))
	}
	elapsed, errs := load(t, replicas, 2*time.Second, openai.ChatCompletionRequest{Model: "grp/chat"})
	for _, err := range errs {
		t.Errorf("call failed: %v", err)
	}
	served, _, refused := up.counts()
	bound := 60 + int(math.Ceil(elapsed.Seconds()))
	t.Logf("%v of load: primary served %d (bound %d), backup %d, 429s %d", elapsed.Round(time.Millisecond), served["primary"], bound, served["backup"], refused)
	if served["primary"] > bound {
		t.Errorf("primary served %d in %v; want at most %d (60 + one a second)", served["primary"], elapsed, bound)
	}
	if served["primary"] < 60 {
		t.Errorf("primary served %d; want its whole burst of 60 used", served["primary"])
	}
	if served["backup"] == 0 {
		t.Error("backup served nothing; want the calls beyond the limit spilled to it")
	}
	if refused != 0 {
		t.Errorf("the primary refused %d requests with 429; want none", refused)
	}
}

// Tokens: each request is estimated at 79 tokens (100 prompt bytes → 25,
// 4 for the message, 50 max_tokens) but uses 100. The budget, 3000 a
// minute (50 a second), is charged the estimate before each request and
// the other 21 once its answer is in, so what the primary serves in T is
// at most 3000 + 50·T + 21 for each call in flight when the budget ran
// out (16 here): the documented bound.
func TestRoutingReplicasShareATokenLimit(t *testing.T) {
	client := sharedClient(t)
	ns := uniquePrefix(t, client)
	up := newUpstream(0, openai.Usage{PromptTokens: 60, CompletionTokens: 40, TotalTokens: 100})
	g := limitedGroup(target.RateLimit{TokensPerMinute: 3000})
	var replicas []*routing.Client
	for range 4 {
		st := newStore(t, client, redis.WithNamespace(ns), redis.WithTimeout(time.Second))
		replicas = append(replicas, replica(t, up, g, routing.WithLimiter(st), routing.WithReplicas(4)))
	}
	req := openai.ChatCompletionRequest{Model: "grp/chat", MaxTokens: 50,
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: strings.Repeat("x", 100)}}}
	elapsed, errs := load(t, replicas, 2*time.Second, req)
	for _, err := range errs {
		t.Errorf("call failed: %v", err)
	}
	served, tokens, _ := up.counts()
	const inFlight = 4 * 4
	bound := 3000 + int(math.Ceil(50*elapsed.Seconds())) + inFlight*21
	t.Logf("%v of load: primary used %d tokens in %d calls (bound %d), backup served %d", elapsed.Round(time.Millisecond), tokens, served["primary"], bound, served["backup"])
	if tokens > bound {
		t.Errorf("primary used %d tokens in %v; want at most %d", tokens, elapsed, bound)
	}
	if tokens < 3000-100 {
		t.Errorf("primary used %d tokens; want most of its budget of 3000 used", tokens)
	}
	if served["backup"] == 0 {
		t.Error("backup served nothing; want the calls beyond the limit spilled to it")
	}
}

// events counts the events of one kind a replica reports.
type kindCount struct {
	kinds map[routing.EventKind]*atomic.Int64
}

func newKindCount(kinds ...routing.EventKind) *kindCount {
	k := &kindCount{kinds: map[routing.EventKind]*atomic.Int64{}}
	for _, kind := range kinds {
		k.kinds[kind] = new(atomic.Int64)
	}
	return k
}

func (k *kindCount) Observe(_ context.Context, e routing.Event) {
	if n, ok := k.kinds[e.Kind]; ok {
		n.Add(1)
	}
}

func (k *kindCount) n(kind routing.EventKind) int64 { return k.kinds[kind].Load() }

// Redis stopped mid-test: no call fails; each replica enforces its share
// of the budget (20 a minute over 2 replicas: 10 each) and judges health
// on its own; once Redis is back, the fleet shares budgets and health
// again.
func TestRoutingLimitsAndHealthSurviveRedisOutage(t *testing.T) {
	srv := startServer(t)
	// A pool larger than the dial failures of the outage keeps go-redis
	// from starting its background redialer, which would outlive the
	// client by up to a second.
	client := goredis.NewClient(&goredis.Options{
		Addr: srv.addr(), ContextTimeoutEnabled: true, MaxRetries: 1, PoolSize: 1000,
	})
	t.Cleanup(func() { _ = client.Close() })
	up := newUpstream(0, openai.Usage{TotalTokens: 10})
	g := limitedGroup(target.RateLimit{RequestsPerMinute: 20})
	var replicas []*routing.Client
	var obs []*kindCount
	for range 2 {
		st := newStore(t, client)
		o := newKindCount(routing.EventLimiterError, routing.EventHealthStoreError, routing.EventHealth)
		obs = append(obs, o)
		replicas = append(replicas, replica(t, up, g, routing.WithLimiter(st), routing.WithSharedHealth(st),
			routing.WithReplicas(2), routing.WithObserver(o)))
	}
	call := func(c *routing.Client) (string, *routing.Trace) {
		t.Helper()
		var tr routing.Trace
		resp, err := c.Chat(routing.WithTrace(t.Context(), &tr), openai.ChatCompletionRequest{Model: "grp/chat"})
		if err != nil {
			t.Fatalf("call failed: %v", err)
		}
		return resp.Model, &tr
	}
	// Up: the first 20 go to the primary, whichever replica sends them.
	for i := range 22 {
		call(replicas[i%2])
	}
	if served, _, _ := up.counts(); served["primary"] != 20 || served["backup"] != 2 {
		t.Fatalf("with Redis up: served %v; want primary 20 (the shared budget), backup 2", served)
	}

	srv.stop()
	before, _, _ := up.counts()
	for i := range 30 {
		call(replicas[i%2])
	}
	after, _, _ := up.counts()
	// Each replica's local share is a fresh budget of 10.
	if got := after["primary"] - before["primary"]; got != 20 {
		t.Errorf("with Redis down: primary served %d; want 10 from each replica's share", got)
	}
	for i, o := range obs {
		if o.n(routing.EventLimiterError) == 0 || o.n(routing.EventHealthStoreError) == 0 {
			t.Errorf("replica %d saw %d limiter and %d health store errors; want both reported", i, o.n(routing.EventLimiterError), o.n(routing.EventHealthStoreError))
		}
	}

	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for client.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("client did not reconnect to the restarted Redis")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The replicas ask Redis again a second after their last failure.
	time.Sleep(1100 * time.Millisecond)
	errsBefore := obs[0].n(routing.EventLimiterError) + obs[1].n(routing.EventLimiterError)
	// Shared health again: one failure on each replica demotes the
	// primary for both.
	up.setDown(true)
	call(replicas[0])
	call(replicas[1])
	demotions := obs[0].n(routing.EventHealth) + obs[1].n(routing.EventHealth)
	if demotions != 1 {
		t.Errorf("%d demotions reported; want 1, for the fleet, after one failure on each replica", demotions)
	}
	for i, c := range replicas {
		if _, tr := call(c); tr.Attempts[0].Target != "acct/backup" {
			t.Errorf("replica %d tried %s first; want the backup, the primary demoted fleet-wide", i, tr.Attempts[0].Target)
		}
	}
	if n := obs[0].n(routing.EventLimiterError) + obs[1].n(routing.EventLimiterError); n != errsBefore {
		t.Errorf("%d limiter errors after Redis came back; want none", n-errsBefore)
	}
}

// With only a request limit, each call to a limited target costs one
// Redis round trip; with a token limit, a second one corrects the
// estimate when the answer used another amount.
func TestRoutingLimitRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit target.RateLimit
		usage int
		want  int64
	}{
		{"requests", target.RateLimit{RequestsPerMinute: 1 << 30}, 10, 1},
		{"tokens, estimate right", target.RateLimit{TokensPerMinute: 1 << 30}, 4, 1},
		{"tokens, estimate corrected", target.RateLimit{TokensPerMinute: 1 << 30}, 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := sharedClient(t)
			ns := uniquePrefix(t, client)
			hook := &countHook{}
			client.AddHook(hook)
			up := newUpstream(0, openai.Usage{TotalTokens: tc.usage})
			c := replica(t, up, limitedGroup(tc.limit), routing.WithLimiter(newStore(t, client, redis.WithNamespace(ns))))
			// An empty prompt is estimated at 4 tokens, for the message.
			req := openai.ChatCompletionRequest{Model: "grp/chat", Messages: []openai.ChatCompletionMessage{{Role: "user"}}}
			if _, err := c.Chat(t.Context(), req); err != nil { // loads the script
				t.Fatal(err)
			}
			before := hook.n.Load()
			const calls = 20
			for range calls {
				if _, err := c.Chat(t.Context(), req); err != nil {
					t.Fatal(err)
				}
			}
			if got := hook.n.Load() - before; got != tc.want*calls {
				t.Errorf("%d Redis commands for %d calls; want %d each", got, calls, tc.want)
			}
		})
	}
}

// BenchmarkRoutingLimits is a call to a target with a request limit it
// never reaches, its budget in memory or in Redis, next to one with no
// limit, on a provider that answers at once.
func BenchmarkRoutingLimits(b *testing.B) {
	client := sharedClient(b)
	ns := uniquePrefix(b, client)
	req := openai.ChatCompletionRequest{Model: "grp/chat"}
	for _, name := range []string{"none", "memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			limit := target.RateLimit{RequestsPerMinute: 1 << 40}
			var opts []routing.Option
			switch name {
			case "none":
				limit = target.RateLimit{}
			case "redis":
				opts = append(opts, routing.WithLimiter(newStore(b, client, redis.WithNamespace(ns), redis.WithTimeout(time.Second))))
			}
			c := replica(b, nopChat{}, limitedGroup(limit), opts...)
			if _, err := c.Chat(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoutingSharedHealth is a call whose Client shares health
// through Redis (one MGET of the model's records before the plan) next
// to one that judges health alone, on a provider that answers at once.
func BenchmarkRoutingSharedHealth(b *testing.B) {
	client := sharedClient(b)
	ns := uniquePrefix(b, client)
	req := openai.ChatCompletionRequest{Model: "grp/chat"}
	for _, name := range []string{"local", "redis"} {
		b.Run(name, func(b *testing.B) {
			var opts []routing.Option
			if name == "redis" {
				opts = append(opts, routing.WithSharedHealth(newStore(b, client, redis.WithNamespace(ns), redis.WithTimeout(time.Second))))
			}
			c := replica(b, nopChat{}, limitedGroup(target.RateLimit{}), opts...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
