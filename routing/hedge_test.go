package routing_test

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// budgetClient serves grp/chat over a failing primary "a" and a healthy
// backup "b", with the given retry budget (nil: the default).
func budgetClient(t *testing.T, p providers.Provider, b *routing.RetryBudget, hedge *routing.Hedge, targets ...target.Target) *routing.Client {
	t.Helper()
	rc := corePriority(targets...)
	rc.RetryBudget, rc.Hedge = b, hedge
	return coreClient(t, routing.WithProvider(coreAcct, p), routing.WithGroup(coreGroup(rc)))
}

func TestRetryBudgetCapsRetriesInAnOutage(t *testing.T) {
	// 200 calls arrive together as the primary goes down: each would
	// make three tries on it before falling back. The budget lets the
	// retries add at most 20% of the calls (plus its floor of 10 in the
	// window), and the backup still serves every call.
	for _, tc := range []struct {
		name      string
		budget    *routing.RetryBudget
		wantRatio func(float64) bool
		want      string
	}{
		{"default budget", nil, func(r float64) bool { return r <= 1.3 }, "≤ 1.3"},
		{"budget disabled", &routing.RetryBudget{Disabled: true}, func(r float64) bool { return r == 3 }, "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("a", fake.Fail(503).After(100*time.Millisecond).Times(1_000_000))
				c := budgetClient(t, f, tc.budget, nil, target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")})
				const calls = 200
				var wg sync.WaitGroup
				var served, exhausted atomic.Int64
				for range calls {
					wg.Go(func() {
						ctx, tr := coreTraced(t.Context())
						if _, err := c.Chat(ctx, coreReq(coreModel)); err == nil && tr.Resolved == coreRef("b") {
							served.Add(1)
						}
						for _, a := range tr.Attempts {
							if a.BudgetExhausted {
								exhausted.Add(1)
							}
						}
					})
				}
				wg.Wait()
				onA := 0
				for _, call := range f.Calls() {
					if call.Model == "a" {
						onA++
					}
				}
				ratio := float64(onA) / calls
				t.Logf("%d tries on the failing primary for %d calls (%.2f a call); %d stopped by the budget", onA, calls, ratio, exhausted.Load())
				if !tc.wantRatio(ratio) {
					t.Errorf("tries per call on the failing primary = %.2f, want %s", ratio, tc.want)
				}
				if served.Load() != calls {
					t.Errorf("the backup served %d of %d calls, want all", served.Load(), calls)
				}
				if tc.budget == nil && exhausted.Load() == 0 {
					t.Error("no attempt says the retry budget was exhausted")
				}
			})
		})
	}
}

func TestHedgeServesFromTheFasterTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Reply("slow").After(5*time.Second))
		f.Script("b", fake.Reply("fast").After(100*time.Millisecond))
		c := budgetClient(t, f, nil, &routing.Hedge{After: 500 * time.Millisecond},
			target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")})
		start := time.Now()
		ctx, tr := coreTraced(t.Context())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].Message.Content; got != "fast" {
			t.Errorf("answer %q, want the hedge's", got)
		}
		if took := time.Since(start); took != 600*time.Millisecond {
			t.Errorf("call took %v, want 600ms (500ms delay + 100ms hedge)", took)
		}
		// Attempts are traced as they finish: the loser when the
		// winner's answer arrives, then the winner.
		got := traceClasses(tr)
		if diff := cmp.Diff(got, []string{"acct/a hedge_cancelled", "acct/b ok"}); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
		if tr.Attempts[0].Hedge || !tr.Attempts[1].Hedge {
			t.Errorf("Hedge flags = %v, %v; want the serving try marked", tr.Attempts[0].Hedge, tr.Attempts[1].Hedge)
		}
		// The cancelled primary is not held against its target: the next
		// call picks it first again.
		f.Script("a", fake.Reply("slow"))
		ctx, tr = coreTraced(t.Context())
		if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
			t.Fatal(err)
		}
		if a := tr.Attempts[0]; a.Target != coreRef("a") || a.Reason.String() != "picked" {
			t.Errorf("after a cancelled hedge the call went to %s (%v), want acct/a picked", a.Target, a.Reason)
		}
	})
}

func TestHedgeLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       target.Target
		budget  *routing.RetryBudget
		wantTry []string
	}{
		{
			name:    "never to a target that is no fallback candidate",
			b:       target.Target{Ref: coreRef("b"), NoFallback: true},
			wantTry: []string{"acct/a ok"},
		},
		{
			name:    "not past the retry budget",
			b:       target.Target{Ref: coreRef("b")},
			budget:  &routing.RetryBudget{Percent: 1, MinPerSecond: 0.001},
			wantTry: []string{"acct/a ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("a", fake.Reply("slow").After(2*time.Second))
				c := budgetClient(t, f, tc.budget, &routing.Hedge{After: 100 * time.Millisecond}, target.Target{Ref: coreRef("a")}, tc.b)
				ctx, tr := coreTraced(t.Context())
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(traceClasses(tr), tc.wantTry); diff != "" {
					t.Errorf("trace (-got +want):\n%s", diff)
				}
			})
		})
	}
}

func TestHedgeFailuresFollowTheRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The primary is late, the hedge fails at once, and the
		// primary's answer still serves.
		f := fake.New()
		f.Script("a", fake.Reply("late").After(time.Second))
		f.Script("b", fake.Fail(500))
		c := budgetClient(t, f, nil, &routing.Hedge{After: 100 * time.Millisecond}, target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")})
		ctx, tr := coreTraced(t.Context())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil || resp.Choices[0].Message.Content != "late" {
			t.Fatalf("Chat = %v, %v; want the primary's late answer", resp, err)
		}
		if diff := cmp.Diff(traceClasses(tr), []string{"acct/b fallback", "acct/a ok"}); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
		// The caller's deadline bounds both tries.
		f.Script("a", fake.Hang())
		f.Script("b", fake.Hang())
		dctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		dctx, tr = coreTraced(dctx)
		start := time.Now()
		_, err = c.Chat(dctx, coreReq(coreModel))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("Chat = %v after %v, want DeadlineExceeded at the deadline", err, time.Since(start))
		}
		got := traceClasses(tr)
		slices.Sort(got) // both end together, in either order
		if diff := cmp.Diff(got, []string{"acct/a canceled", "acct/b canceled"}); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
	})
}

func TestHedgedCallRetriesAsAnyOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The primary fails fast and is retried after its back-off,
		// while the hedge it started is still out; the retry answers
		// first and the hedge is cancelled.
		f := fake.New()
		f.Script("a", fake.Fail(503).After(300*time.Millisecond), fake.Reply("retried"))
		f.Script("b", fake.Reply("hedge").After(10*time.Second))
		c := budgetClient(t, f, nil, &routing.Hedge{After: 200 * time.Millisecond},
			target.Target{Ref: coreRef("a"), Retry: &target.Retry{Attempts: 1, Delay: 100 * time.Millisecond}}, target.Target{Ref: coreRef("b")})
		ctx, tr := coreTraced(t.Context())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil || resp.Choices[0].Message.Content != "retried" {
			t.Fatalf("Chat = %v, %v; want the retry's answer", resp, err)
		}
		if diff := cmp.Diff(traceClasses(tr), []string{"acct/a retry", "acct/b hedge_cancelled", "acct/a ok"}); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
	})
}

func TestHedgedStreamDeliversOneAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Stream("slow ", "answer").FirstChunkAfter(3*time.Second))
		f.Script("b", fake.Stream("fast ", "whole ", "answer").FirstChunkAfter(50*time.Millisecond))
		c := budgetClient(t, f, nil, &routing.Hedge{After: 200 * time.Millisecond}, target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")})
		ctx, tr := coreTraced(t.Context())
		st, err := c.ChatStream(ctx, coreReq(coreModel))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, models, err := drain(st)
		if err != io.EOF || got != "fast whole answer" {
			t.Fatalf("stream = %q, %v; want b's whole answer, io.EOF", got, err)
		}
		if diff := cmp.Diff(models, []string{"b"}); diff != "" {
			t.Errorf("models (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(traceClasses(tr), []string{"acct/a hedge_cancelled", "acct/b ok"}); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
	})
}

func TestHedgeAfterAPercentileOfTheTargetsOwnLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 40 answers of 100..139 ms teach the primary its p90 (the
		// hedges this starts on the slower ones lose to it); then a slow
		// one is hedged at that p90, not at the fixed fallback.
		f := fake.New()
		var steps []fake.Step
		for i := range 40 {
			steps = append(steps, fake.Reply("x").After(time.Duration(100+i)*time.Millisecond))
		}
		f.Script("a", steps...)
		f.Script("b", fake.Reply("late hedge").After(time.Minute).Times(40))
		c := budgetClient(t, f, &routing.RetryBudget{Disabled: true}, &routing.Hedge{After: 10 * time.Second, AfterPercentile: 90},
			target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")})
		for range 40 {
			if _, err := c.Chat(t.Context(), coreReq(coreModel)); err != nil {
				t.Fatal(err)
			}
		}
		f.Script("a", fake.Reply("slow").After(time.Minute))
		f.Script("b", fake.Reply("hedge"))
		start := time.Now()
		resp, err := c.Chat(t.Context(), coreReq(coreModel))
		if err != nil || resp.Choices[0].Message.Content != "hedge" {
			t.Fatalf("Chat = %v, %v", resp, err)
		}
		// The percentile was last computed over 36 samples (every 8th
		// from the 20th): the 90th of 100..135 ms is the 33rd, 132 ms.
		if took := time.Since(start); took != 132*time.Millisecond {
			t.Errorf("hedged after %v, want 132ms", took)
		}
	})
}

// tailProvider answers after a heavy-tailed latency: a log-normal with a
// median of 800 ms and a p99 near 8 s, drawn from the call's id and the
// model, so each try takes the same time whatever order the goroutines
// run in.
type tailProvider struct {
	seed  uint64
	calls atomic.Int64
}

func (p *tailProvider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	p.calls.Add(1)
	id, _ := strconv.ParseUint(req.Header.Get("X-Call"), 10, 64)
	rng := rand.New(rand.NewPCG(p.seed^id, uint64(len(req.Request.Model))<<32|uint64(req.Request.Model[0])))
	// ln(8000/800)/2.326 ≈ 0.99: σ of a log-normal whose p99 is 10× its median.
	d := time.Duration(800 * math.Exp(0.99*rng.NormFloat64()) * float64(time.Millisecond))
	select {
	case <-time.After(d):
		return openai.ChatCompletionResponse{Model: req.Request.Model, Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Content: "ok"}}}}, nil
	case <-ctx.Done():
		return openai.ChatCompletionResponse{}, providers.ContextError(ctx.Err())
	}
}

func TestHedgingShortensAHeavyTail(t *testing.T) {
	// Two deployments of the same heavy-tailed model; calls arrive one
	// every 200 ms for 20 minutes of virtual time. Hedging at each
	// target's own p92 must cut the p99 call latency by 40% or more for
	// at most 10% more upstream calls, and leave the median alone.
	run := func(hedge *routing.Hedge) (p50, p99 time.Duration, upstream int64) {
		var lat []time.Duration
		synctest.Test(t, func(t *testing.T) {
			p := &tailProvider{seed: 1}
			rc := coreWeighted(target.Target{Ref: coreRef("a"), Weight: 50}, target.Target{Ref: coreRef("b"), Weight: 50})
			rc.Hedge = hedge
			c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithRand(routing.SeededRand(3)), routing.WithGroup(coreGroup(rc)))
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 6000 {
				wg.Go(func() {
					start := time.Now()
					ctx := routing.WithHeaders(t.Context(), http.Header{"X-Call": {strconv.Itoa(i)}})
					if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
						t.Error(err)
					}
					mu.Lock()
					lat = append(lat, time.Since(start))
					mu.Unlock()
				})
				time.Sleep(200 * time.Millisecond)
			}
			wg.Wait()
			upstream = p.calls.Load()
		})
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100], upstream
	}
	p50, p99, calls := run(nil)
	hp50, hp99, hcalls := run(&routing.Hedge{AfterPercentile: 92})
	t.Logf("no hedge: p50 %v, p99 %v, %d upstream calls", p50, p99, calls)
	t.Logf("hedged at p92: p50 %v, p99 %v, %d upstream calls", hp50, hp99, hcalls)
	if cut := 1 - float64(hp99)/float64(p99); cut < 0.40 {
		t.Errorf("p99 cut by %.0f%%, want at least 40%%", 100*cut)
	}
	if grow := float64(hcalls)/float64(calls) - 1; grow > 0.10 {
		t.Errorf("upstream calls grew by %.1f%%, want at most 10%%", 100*grow)
	}
	if d := math.Abs(float64(hp50-p50)) / float64(p50); d > 0.10 {
		t.Errorf("p50 moved by %.0f%% (%v → %v), want it unchanged within 10%%", 100*d, p50, hp50)
	}
}

func TestCancelledHedgeEndsItsUpstreamRequest(t *testing.T) {
	// Over real HTTP: the losing try's server sees the client go away.
	// The fast server answers only once the slow one holds its request:
	// on a loaded machine the hedge could otherwise win before the slow
	// request reached its server, which would then see nothing go away.
	arrived, disconnected := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a disconnect only once the body is read
		close(arrived)
		select {
		case <-r.Context().Done():
			close(disconnected)
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-arrived:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","model":"fast","choices":[{"index":0,"message":{"role":"assistant","content":"hedge"},"finish_reason":"stop"}]}`)
	}))
	defer fast.Close()
	provider := func(url string) providers.Provider {
		cfg := openai.DefaultConfig("sk-test")
		cfg.BaseURL = url + "/v1"
		return oai.New(cfg)
	}
	rc := corePriority(target.Target{Ref: "slow/m"}, target.Target{Ref: "fast/m"})
	rc.Hedge = &routing.Hedge{After: 50 * time.Millisecond}
	c := coreClient(t, routing.WithProvider("slow", provider(slow.URL)), routing.WithProvider("fast", provider(fast.URL)),
		routing.WithGroup(coreGroup(rc)))
	ctx, tr := coreTraced(t.Context())
	resp, err := c.Chat(ctx, coreReq(coreModel))
	if err != nil || resp.Choices[0].Message.Content != "hedge" {
		t.Fatalf("Chat = %v, %v", resp, err)
	}
	select {
	case <-disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled try's server never saw the client go away")
	}
	if diff := cmp.Diff(traceClasses(tr), []string{"slow/m hedge_cancelled", "fast/m ok"}); diff != "" {
		t.Errorf("trace (-got +want):\n%s", diff)
	}
}
