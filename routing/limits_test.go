package routing_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/stores"
	"github.com/llmroute/llmroute/target"
)

// events collects a Client's events of some kinds.
type events struct {
	mu    sync.Mutex
	kinds []routing.EventKind
	got   []routing.Event
}

func (e *events) Observe(_ context.Context, ev routing.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range e.kinds {
		if ev.Kind == k {
			e.got = append(e.got, ev)
		}
	}
}

func (e *events) list() []routing.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]routing.Event(nil), e.got...)
}

// limitClient is a Client over p serving grp/chat with priority routing
// over targets "a" and "b" of account acct, configured by rc.
func limitClient(t *testing.T, p providers.Provider, rc routing.RoutingConfig, opts ...routing.Option) *routing.Client {
	t.Helper()
	opts = append([]routing.Option{routing.WithProvider(coreAcct, p), routing.WithGroup(coreGroup(rc))}, opts...)
	return coreClient(t, opts...)
}

func twoTargets(a, b target.RateLimit) routing.RoutingConfig {
	return corePriority(target.Target{Ref: coreRef("a"), RateLimit: a}, target.Target{Ref: coreRef("b"), RateLimit: b})
}

// served makes a chat call and returns the model that served it and the
// call's Trace.
func served(t *testing.T, c *routing.Client, req openai.ChatCompletionRequest) (string, *routing.Trace) {
	t.Helper()
	ctx, tr := coreTraced(t.Context())
	resp, err := c.Chat(ctx, req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	return resp.Model, tr
}

// skips returns the comparable part of a Trace's skips, times as offsets
// from start.
type skip struct {
	Target string
	Reason string
	At     time.Duration
	FreeAt time.Duration
}

func skips(tr *routing.Trace, start time.Time) []skip {
	var out []skip
	for _, s := range tr.Skipped {
		out = append(out, skip{s.Target, s.Reason.String(), s.At.Sub(start), s.FreeAt.Sub(start)})
	}
	return out
}

func TestRateLimitSkipsATargetAtItsLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		obs := &events{kinds: []routing.EventKind{routing.EventSkip, routing.EventHealth}}
		c := limitClient(t, p, twoTargets(target.RateLimit{RequestsPerMinute: 2}, target.RateLimit{}), routing.WithObserver(obs))
		start := time.Now()
		req := coreReq(coreModel)
		for i := range 2 {
			if got, _ := served(t, c, req); got != "a" {
				t.Fatalf("call %d served by %s, want a (within its budget)", i+1, got)
			}
		}
		got, tr := served(t, c, req)
		if got != "b" {
			t.Fatalf("third call served by %s, want b (a at its limit)", got)
		}
		// a was not tried at all: b was the first pick among the others.
		want := []coreTry{{Target: coreRef("b"), Try: 1, Status: 200, Class: "ok", Reason: "picked"}}
		if diff := cmp.Diff(coreTries(tr), want); diff != "" {
			t.Errorf("attempts (-got +want):\n%s", diff)
		}
		wantSkip := []skip{{coreRef("a"), "rate_limit", 0, 30 * time.Second}}
		if diff := cmp.Diff(skips(tr, start), wantSkip); diff != "" {
			t.Errorf("skips (-got +want):\n%s", diff)
		}
		if n := p.CallCount("a"); n != 2 {
			t.Errorf("a was sent %d requests, want 2", n)
		}
		evs := obs.list()
		if len(evs) != 1 || evs[0].Kind != routing.EventSkip || evs[0].Skip != tr.Skipped[0] || evs[0].Target != coreRef("a") {
			t.Errorf("events = %+v; want one EventSkip of a and no health change", evs)
		}
		// Half a minute later one request has refilled.
		time.Sleep(30 * time.Second)
		if got, tr := served(t, c, req); got != "a" || len(tr.Skipped) != 0 {
			t.Errorf("after 30s: served by %s with skips %+v; want a, none", got, tr.Skipped)
		}
	})
}

func TestRateLimitEveryTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		c := limitClient(t, p, twoTargets(target.RateLimit{RequestsPerMinute: 1}, target.RateLimit{RequestsPerMinute: 2}))
		req := coreReq(coreModel)
		for range 3 {
			served(t, c, req)
		}
		time.Sleep(10 * time.Second)
		start := time.Now()
		ctx, tr := coreTraced(t.Context())
		_, err := c.Chat(ctx, req)
		if !errors.Is(err, routing.ErrRateLimited) {
			t.Fatalf("error = %v; want ErrRateLimited", err)
		}
		var rle *routing.RateLimitError
		if !errors.As(err, &rle) {
			t.Fatalf("error %T is not a *RateLimitError", err)
		}
		// a frees 60s after its call at 0, b 30s after its second: b
		// first, 20s from now.
		if got := rle.RetryAfter(); got != 20*time.Second {
			t.Errorf("RetryAfter() = %v, want 20s", got)
		}
		if got := coreStatus(err); got != 429 {
			t.Errorf("StatusCode = %d, want 429", got)
		}
		pe, ok := providers.FromError(err)
		if !ok || pe.Status != 429 || pe.RetryAfter != 20*time.Second || pe.Code != "rate_limited" {
			t.Errorf("providers.FromError = %+v, %t; want 429, 20s, rate_limited", pe, ok)
		}
		if !strings.Contains(err.Error(), "every target is at its rate limit") || !strings.Contains(err.Error(), "20s") {
			t.Errorf("error text %q does not say what happened", err)
		}
		wantSkip := []skip{{coreRef("a"), "rate_limit", 0, 50 * time.Second}, {coreRef("b"), "rate_limit", 0, 20 * time.Second}}
		if diff := cmp.Diff(skips(tr, start), wantSkip); diff != "" {
			t.Errorf("skips (-got +want):\n%s", diff)
		}
		if len(tr.Attempts) != 0 || p.CallCount("a")+p.CallCount("b") != 3 {
			t.Errorf("attempts %+v, %d requests sent; want none beyond the 3 calls", tr.Attempts, p.CallCount("a")+p.CallCount("b"))
		}
		// Nothing was held against the targets: once a frees, it is
		// picked first, not demoted.
		time.Sleep(50 * time.Second)
		if got, tr := served(t, c, req); got != "a" || tr.Attempts[0].Reason.String() != "picked" {
			t.Errorf("after the wait: served by %s (%+v); want a, picked", got, coreTries(tr))
		}
	})
}

func TestRateLimitDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		rc := twoTargets(target.RateLimit{RequestsPerMinute: 3}, target.RateLimit{})
		rc.RateLimit = target.RateLimit{RequestsPerMinute: 1}
		c := limitClient(t, p, rc)
		req := coreReq(coreModel)
		var got []string
		for range 5 {
			ctx, _ := coreTraced(t.Context())
			resp, err := c.Chat(ctx, req)
			if err != nil {
				got = append(got, "limited")
				continue
			}
			got = append(got, resp.Model)
		}
		// a has its own 3 a minute; b the default, 1.
		if diff := cmp.Diff(got, []string{"a", "a", "a", "b", "limited"}); diff != "" {
			t.Errorf("served (-got +want):\n%s", diff)
		}
	})
}

func TestRateLimitSkipsARetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		p.Script("a", fake.Fail(500))
		c := limitClient(t, p, twoTargets(target.RateLimit{RequestsPerMinute: 1}, target.RateLimit{}), routing.WithRand(coreRand(0.5)))
		start := time.Now()
		got, tr := served(t, c, coreReq(coreModel))
		if got != "b" {
			t.Fatalf("served by %s, want b", got)
		}
		want := []coreTry{
			{Target: coreRef("a"), Try: 1, Status: 500, Class: "retry", Reason: "picked"},
			{Target: coreRef("b"), Try: 1, Status: 200, Class: "ok", Reason: "fallback", Fallback: true},
		}
		if diff := cmp.Diff(coreTries(tr), want); diff != "" {
			t.Errorf("attempts (-got +want):\n%s", diff)
		}
		if len(tr.Skipped) != 1 || tr.Skipped[0].Target != coreRef("a") || !tr.Skipped[0].At.After(start) {
			t.Errorf("skips = %+v; want a's retry, after the backoff", tr.Skipped)
		}
		if n := p.CallCount("a"); n != 1 {
			t.Errorf("a was sent %d requests, want 1", n)
		}
	})
}

func TestTokenLimitEstimateAndCorrection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		// 160 bytes (40 tokens) + 4 per message, and up to 20 out: 64
		// estimated; each answer used 40.
		p.Script("a", fake.Reply("x").WithUsage(30, 10).Times(3), fake.Reply("x").WithUsage(150, 50))
		c := limitClient(t, p, twoTargets(target.RateLimit{TokensPerMinute: 120}, target.RateLimit{}))
		req := coreReq(coreModel)
		req.Messages[0].Content = strings.Repeat("x", 160)
		req.MaxTokens = 20
		start := time.Now()
		// 40 used, then 64 more fit in 120; corrected to 80, 64 more do
		// not: that wait is (80+64-120) tokens at 2 a second.
		for i, want := range []string{"a", "a", "b"} {
			if got, _ := served(t, c, req); got != want {
				t.Fatalf("call %d served by %s, want %s", i+1, got, want)
			}
		}
		_, tr := served(t, c, req)
		if diff := cmp.Diff(skips(tr, start), []skip{{coreRef("a"), "rate_limit", 0, 12 * time.Second}}); diff != "" {
			t.Errorf("skips (-got +want):\n%s", diff)
		}
		// 12s later the estimate fits again; that answer used 40. At
		// 42s the last step answers with 200 used: 136 more than the
		// estimate, a debt that holds the next call back.
		time.Sleep(12 * time.Second)
		if got, _ := served(t, c, req); got != "a" {
			t.Fatalf("after 12s served by %s, want a", got)
		}
		time.Sleep(30 * time.Second)
		if got, _ := served(t, c, req); got != "a" {
			t.Fatalf("after 42s served by %s, want a", got)
		}
		now := time.Now()
		_, tr = served(t, c, req)
		// At 12s the budget, in time, was full at 60s; at 42s the 64
		// estimated make it 92s, and the 136 more used 160s. 64 more
		// fit once it is 60s from full: at 160+32-60 = 132s, 90s from
		// now.
		if diff := cmp.Diff(skips(tr, now), []skip{{coreRef("a"), "rate_limit", 0, 90 * time.Second}}); diff != "" {
			t.Errorf("skips after the debt (-got +want):\n%s", diff)
		}
	})
}

func TestProviderLimitSkipsUntilTheReset(t *testing.T) {
	spent := providers.RateLimits{Requests: providers.Quota{Reported: true, Limit: 60, Remaining: 0, Reset: 2 * time.Second}}
	for _, tc := range []struct {
		name string
		step fake.Step
		// wantFirst is the target that serves the call that gets the
		// report: a, or b when a refused.
		wantFirst string
	}{
		{"a success", fake.Reply("hi").WithRateLimits(spent), "a"},
		{"a refusal", fake.Fail(429).WithRateLimits(spent), "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := fake.New()
				p.Script("a", tc.step, fake.Reply("hi"))
				// No retries: the refusal falls back at once.
				rc := corePriority(target.Target{Ref: coreRef("a"), Retry: &target.Retry{}}, target.Target{Ref: coreRef("b")})
				c := limitClient(t, p, rc)
				req := coreReq(coreModel)
				if got, _ := served(t, c, req); got != tc.wantFirst {
					t.Fatalf("first call served by %s, want %s", got, tc.wantFirst)
				}
				sentA := p.CallCount("a")
				time.Sleep(time.Second)
				now := time.Now()
				got, tr := served(t, c, req)
				if got != "b" {
					t.Fatalf("1s later served by %s, want b", got)
				}
				if diff := cmp.Diff(skips(tr, now), []skip{{coreRef("a"), "provider_limit", 0, time.Second}}); diff != "" {
					t.Errorf("skips (-got +want):\n%s", diff)
				}
				if p.CallCount("a") != sentA {
					t.Errorf("a was sent a request before its reset")
				}
				time.Sleep(time.Second)
				if got, _ := served(t, c, req); got != "a" {
					t.Errorf("after the reset served by %s, want a", got)
				}
			})
		})
	}
}

func TestProviderLimitFromAStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		spent := providers.RateLimits{Tokens: providers.Quota{Reported: true, Remaining: 0, Reset: 5 * time.Second}}
		p.Script("a", fake.Stream("hel", "lo").WithRateLimits(spent))
		c := limitClient(t, p, twoTargets(target.RateLimit{}, target.RateLimit{}))
		stream := func() (string, *routing.Trace) {
			ctx, tr := coreTraced(t.Context())
			st, err := c.ChatStream(ctx, coreReq(coreModel))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for {
				if _, err := st.Recv(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			return st.Target(), tr
		}
		if got, _ := stream(); got != coreRef("a") {
			t.Fatalf("first stream served by %s, want a", got)
		}
		// The report came with the response headers: the next stream,
		// even one opened before the first ended, skips a.
		if got, tr := stream(); got != coreRef("b") || len(tr.Skipped) != 1 || tr.Skipped[0].Reason != routing.SkipProviderLimit {
			t.Errorf("second stream served by %s with skips %+v; want b, a skipped for its provider's limit", got, tr.Skipped)
		}
		time.Sleep(5 * time.Second)
		if got, _ := stream(); got != coreRef("a") {
			t.Errorf("after the reset served by %s, want a", got)
		}
	})
}

func TestStreamTokensCorrectTheEstimate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		// No usage is sent (the request does not ask for it): the
		// prompt's estimate and the chunks counted stand for it.
		p.Script(fake.AnyModel, fake.Stream("a", "b", "c").Times(10))
		c := limitClient(t, p, twoTargets(target.RateLimit{TokensPerMinute: 100}, target.RateLimit{}))
		req := coreReq(coreModel) // 11 bytes: 3 tokens + 4
		req.MaxTokens = 50
		for i, want := range []string{"a", "a", "a", "a", "a", "b"} {
			st, err := c.ChatStream(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := st.Recv(); err != nil {
					break
				}
			}
			st.Close()
			// Each stream is charged 57 and corrected to 10: five
			// fit, the sixth would need 50+57 of 100.
			if got := st.Target(); got != coreRef(want) {
				t.Fatalf("stream %d served by %s, want %s", i+1, got, want)
			}
		}
	})
}

func TestLimiterFailureFallsBackToTheLocalShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fake.New()
		var down sync.Mutex
		failing := true
		mem := stores.NewMemoryLimiter()
		l := stores.LimiterFunc(func(ctx context.Context, tk stores.Take) (stores.Taken, error) {
			down.Lock()
			defer down.Unlock()
			if failing {
				return stores.Taken{}, errors.New("limiter unreachable")
			}
			return mem.Take(ctx, tk)
		})
		obs := &events{kinds: []routing.EventKind{routing.EventLimiterError}}
		c := limitClient(t, p, twoTargets(target.RateLimit{RequestsPerMinute: 8}, target.RateLimit{}),
			routing.WithLimiter(l), routing.WithReplicas(4), routing.WithObserver(obs))
		req := coreReq(coreModel)
		// Every call succeeds; this replica's share is 8/4 = 2 a minute.
		var got []string
		for range 3 {
			m, _ := served(t, c, req)
			got = append(got, m)
		}
		if diff := cmp.Diff(got, []string{"a", "a", "b"}); diff != "" {
			t.Errorf("served while the limiter fails (-got +want):\n%s", diff)
		}
		// One event: for a second the limiter is not asked again.
		if evs := obs.list(); len(evs) != 1 || evs[0].Err == nil || evs[0].Target != coreRef("a") || evs[0].Model != coreModel {
			t.Errorf("events = %+v; want one EventLimiterError for a", evs)
		}
		time.Sleep(time.Second)
		served(t, c, req)
		if n := len(obs.list()); n != 2 {
			t.Errorf("%d limiter errors after a second; want the limiter asked (and failing) again", n)
		}
		// Back: the shared budget applies again, and is whole.
		down.Lock()
		failing = false
		down.Unlock()
		time.Sleep(time.Second)
		got = got[:0]
		for range 9 {
			m, _ := served(t, c, req)
			got = append(got, m)
		}
		if diff := cmp.Diff(got, []string{"a", "a", "a", "a", "a", "a", "a", "a", "b"}); diff != "" {
			t.Errorf("served once the limiter is back (-got +want):\n%s", diff)
		}
		if n := len(obs.list()); n != 2 {
			t.Errorf("%d limiter errors once it is back; want no more", n)
		}
	})
}

func TestLimitOptionsRefuseNonsense(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  routing.Option
		want string
	}{
		{"nil limiter", routing.WithLimiter(nil), "WithLimiter: nil limiter"},
		{"no replicas", routing.WithReplicas(0), "WithReplicas(0): must be at least 1"},
		{"nil health store", routing.WithSharedHealth(nil), "WithSharedHealth: nil store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routing.New(routing.WithProvider(coreAcct, fake.New()), routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("a")}))), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v; want one saying %q", err, tc.want)
			}
		})
	}
}

// TestProviderLimitCountsFromTheResponse: a spent budget reported by a
// success that nothing else times (no Trace, no observers, no token
// limit) still counts its reset from when the response arrived, not from
// when the try began.
func TestProviderLimitCountsFromTheResponse(t *testing.T) {
	spent := providers.RateLimits{Requests: providers.Quota{Reported: true, Limit: 60, Remaining: 0, Reset: 2 * time.Second}}
	for name, rc := range map[string]routing.RoutingConfig{
		"priority": corePriority(target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")}),
		"weighted": coreWeighted(target.Target{Ref: coreRef("a"), Weight: 1}, target.Target{Ref: coreRef("b"), Weight: 0}),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := fake.New()
				p.Script("a", fake.Reply("hi").WithRateLimits(spent).After(3*time.Second), fake.Reply("hi"))
				c := limitClient(t, p, rc)
				req := coreReq(coreModel)
				// Untraced: the try's length is not measured.
				if resp, err := c.Chat(t.Context(), req); err != nil || resp.Model != "a" {
					t.Fatalf("first call: %v, served by %q, want a", err, resp.Model)
				}
				// The response arrived 3s after the call began; its reset
				// runs to 5s.
				time.Sleep(time.Second)
				now := time.Now()
				got, tr := served(t, c, req)
				if got != "b" {
					t.Fatalf("4s after the first call began served by %s, want b", got)
				}
				if diff := cmp.Diff(skips(tr, now), []skip{{coreRef("a"), "provider_limit", 0, time.Second}}); diff != "" {
					t.Errorf("skips (-got +want):\n%s", diff)
				}
			})
		})
	}
}
