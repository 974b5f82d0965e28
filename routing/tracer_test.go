package routing_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// recorder is a Tracer (and Observer) that writes down every hook, and
// puts the attempt it starts into the context it returns.
type recorder struct {
	mu     sync.Mutex
	events []string
	chunks int
}

type attemptKey struct{}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Observe(context.Context, routing.Event) {}

func (r *recorder) StartCall(ctx context.Context, c *routing.CallInfo) context.Context {
	r.add("start call %s %s stream=%v", c.Operation, c.Model, c.Stream)
	return ctx
}

func (r *recorder) EndCall(_ context.Context, c *routing.CallInfo, e *routing.CallEnd) {
	resp := "none"
	if e.Response != nil {
		resp = fmt.Sprintf("%s/%d+%d/%v", e.Response.Model, e.Response.InputTokens, e.Response.OutputTokens, e.Response.FinishReasons)
	}
	r.add("end call %s resolved=%q attempts=%d retries=%d fallbacks=%d err=%v resp=%s",
		e.VirtualModel, e.Resolved, e.Attempts, e.Retries, e.Fallbacks, e.Err != nil, resp)
}

func (r *recorder) StartAttempt(ctx context.Context, a *routing.AttemptInfo) context.Context {
	r.add("start %s try %d provider=%s model=%s sent=%v", a.Target, a.Try, a.Provider.Name, a.Model, a.Chat != nil && a.Chat.Request.Model == a.Model)
	return context.WithValue(ctx, attemptKey{}, fmt.Sprintf("%s#%d", a.Target, a.Try))
}

func (r *recorder) EndAttempt(ctx context.Context, a *routing.AttemptInfo, rec *routing.Attempt, resp *routing.Response) {
	model := ""
	if resp != nil {
		model = resp.Model
	}
	r.add("end %v %d %s resp=%q", ctx.Value(attemptKey{}), rec.Status, rec.Class, model)
}

func (r *recorder) StreamChunk(ctx context.Context, a *routing.AttemptInfo) {
	r.mu.Lock()
	r.chunks++
	r.mu.Unlock()
}

// ctxProvider records the attempt each call's context names.
type ctxProvider struct {
	*fake.Provider
	mu   sync.Mutex
	seen []any
}

func (p *ctxProvider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	p.mu.Lock()
	p.seen = append(p.seen, ctx.Value(attemptKey{}))
	p.mu.Unlock()
	return p.Provider.Chat(ctx, req)
}

func TestTracerSeesEveryCallAndAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Fail(500).Times(2))
		f.Script("b", fake.Reply("hi").WithUsage(5, 2))
		p := &ctxProvider{Provider: f}
		rec := &recorder{}
		c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithObserver(rec), routing.WithGroup(coreGroup(corePriority(
			target.Target{Ref: coreRef("a"), Retry: &target.Retry{Attempts: 1}}, target.Target{Ref: coreRef("b")},
		))))
		if _, err := c.Chat(t.Context(), coreReq(coreModel)); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"start call chat grp/chat stream=false",
			"start acct/a try 1 provider=fake model=a sent=true",
			`end acct/a#1 500 retry resp=""`,
			"start acct/a try 2 provider=fake model=a sent=true",
			`end acct/a#2 500 fallback resp=""`,
			"start acct/b try 1 provider=fake model=b sent=true",
			`end acct/b#1 200 ok resp="b"`,
			`end call grp/chat resolved="acct/b" attempts=3 retries=1 fallbacks=1 err=false resp=b/5+2/[stop]`,
		}
		if diff := cmp.Diff(rec.events, want); diff != "" {
			t.Errorf("hooks (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(p.seen, []any{"acct/a#1", "acct/a#2", "acct/b#1"}); diff != "" {
			t.Errorf("contexts the provider saw (-got +want):\n%s", diff)
		}
	})
}

func TestTracerFollowsAStreamToItsEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		step   fake.Step
		close  bool // close after the first chunk instead of draining
		want   []string
		chunks int
	}{
		{
			name: "complete", step: fake.Stream("one ", "two").WithUsage(5, 2),
			want: []string{
				"start call chat grp/chat stream=true",
				"start acct/a try 1 provider=fake model=a sent=true",
				`end acct/a#1 200 ok resp="a"`,
				`end call grp/chat resolved="acct/a" attempts=1 retries=0 fallbacks=0 err=false resp=a/5+2/[stop]`,
			},
		},
		{
			name: "interrupted", step: fake.Stream("one ", "two").CutAfter(1),
			want: []string{
				"start call chat grp/chat stream=true",
				"start acct/a try 1 provider=fake model=a sent=true",
				`end acct/a#1 502 interrupted resp="a"`,
				`end call grp/chat resolved="" attempts=1 retries=0 fallbacks=0 err=true resp=none`,
			},
		},
		{
			name: "closed", step: fake.Stream("one ", "two"), close: true,
			want: []string{
				"start call chat grp/chat stream=true",
				"start acct/a try 1 provider=fake model=a sent=true",
				`end acct/a#1 0 canceled resp="a"`,
				`end call grp/chat resolved="" attempts=1 retries=0 fallbacks=0 err=true resp=none`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("a", tc.step)
				rec := &recorder{}
				c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithObserver(rec), routing.WithGroup(coreGroup(corePriority(
					target.Target{Ref: coreRef("a")},
				))))
				req := coreReq(coreModel)
				req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
				st, err := c.ChatStream(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				delivered := 0
				for {
					_, err := st.Recv()
					if err != nil {
						if tc.close && !errors.Is(err, routing.ErrStreamClosed) {
							t.Errorf("Recv after Close = %v", err)
						}
						break
					}
					delivered++
					if tc.close {
						st.Close()
					}
				}
				st.Close()
				if diff := cmp.Diff(rec.events, tc.want); diff != "" {
					t.Errorf("hooks (-got +want):\n%s", diff)
				}
				if rec.chunks != delivered {
					t.Errorf("StreamChunk called %d times for %d chunks delivered", rec.chunks, delivered)
				}
			})
		})
	}
}

func TestTraceFormat(t *testing.T) {
	tr := &routing.Trace{Model: "chat", VirtualModel: "grp/chat", Attempts: []routing.Attempt{
		{Target: "acct/a", Try: 1, Status: 503, Class: "fallback", Reason: strategy.ReasonPicked, Wait: 0, Err: errors.New("status 503: overloaded"), BudgetExhausted: true},
		{Target: "acct/b", Try: 1, Status: 0, Class: "hedge_cancelled", Reason: strategy.ReasonFallback, Hedge: true, Err: context.Canceled},
	}, Notes: []string{"acct/a: prompt_version_fqn not sent: the request carries tools"}}
	plain := fmt.Sprint(tr)
	for _, want := range []string{"grp/chat: not served, 2 attempts", "acct/a  try 1  503  fallback", "retry budget exhausted", "hedge", "note: acct/a: prompt_version_fqn"} {
		if !strings.Contains(plain, want) {
			t.Errorf("%%v lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "overloaded") {
		t.Errorf("%%v shows errors; only %%+v should:\n%s", plain)
	}
	if detailed := fmt.Sprintf("%+v", tr); !strings.Contains(detailed, "status 503: overloaded") || !strings.Contains(detailed, "context canceled") {
		t.Errorf("%%+v lacks the errors:\n%s", detailed)
	}
	var none *routing.Trace
	if got := none.String(); got != "<nil>" {
		t.Errorf("nil Trace = %q", got)
	}
}

// TestTraceFormatLayout checks the whole text a Trace prints: the
// attempts' extras (wait, hedge, retry budget, ttft, tpot; times per
// token under half a millisecond left out), the errors in a column of
// their own, its skips with
// their reasons, a skip whose free time is unknown, its notes, and the
// width that indents the lines after the first.
func TestTraceFormatLayout(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tr := &routing.Trace{Model: "chat", VirtualModel: "grp/chat", Resolved: "acct/c",
		Attempts: []routing.Attempt{
			{Target: "acct/b", Try: 1, Status: 503, Class: "fallback", Reason: strategy.ReasonDemoted, Cause: strategy.CauseFailures, Duration: 12 * time.Millisecond, BudgetExhausted: true, Err: errors.New("status 503: overloaded")},
			{Target: "acct/c", Try: 1, Status: 200, Class: "ok", Reason: strategy.ReasonFallback, Duration: 250 * time.Millisecond, Wait: 120 * time.Millisecond, Hedge: true, TTFT: 40 * time.Millisecond, TPOT: 1260 * time.Microsecond},
			{Target: "acct/c", Try: 2, Status: 200, Class: "ok", Reason: strategy.ReasonFallback, TTFT: 400 * time.Microsecond, TPOT: 300 * time.Microsecond},
		},
		Skipped: []routing.Skip{
			{Target: "acct/a", Reason: routing.SkipRateLimit, At: at, FreeAt: at.Add(20 * time.Second)},
			{Target: "acct/d", Reason: routing.SkipProviderLimit, At: at, FreeAt: at.Add(1500 * time.Millisecond)},
			{Target: "acct/e", Reason: routing.SkipRateLimit, At: at},
		},
		Notes: []string{"acct/c: prompt_version_fqn not sent: the request carries tools"},
	}
	lines := []string{
		"grp/chat → acct/c, 3 attempts",
		"  acct/b  try 1  503  fallback  demoted, failures  12ms   retry budget exhausted",
		"  acct/c  try 1  200  ok        fallback           250ms  after 120ms, hedge, ttft 40ms, tpot 1ms",
		"  acct/c  try 2  200  ok        fallback           0s",
		"  skipped acct/a: rate_limit, free in 20s",
		"  skipped acct/d: provider_limit, free in 1.5s",
		"  skipped acct/e: rate_limit",
		"  note: acct/c: prompt_version_fqn not sent: the request carries tools",
	}
	errLines := slices.Clone(lines)
	errLines[1] += "                   status 503: overloaded"
	// Errors line up in their own column, after the extras' one, however
	// wide the extras of a line without an error; no line ends in spaces.
	overloaded := errors.New("status 503: overloaded")
	retried := &routing.Trace{VirtualModel: "grp/chat", Resolved: "acct/a", Attempts: []routing.Attempt{
		{Target: "acct/a", Try: 1, Status: 503, Class: "retry", Reason: strategy.ReasonPicked, Duration: 5 * time.Millisecond, Err: overloaded},
		{Target: "acct/a", Try: 2, Status: 503, Class: "retry", Reason: strategy.ReasonPicked, Duration: 5 * time.Millisecond, Wait: 100 * time.Millisecond, Err: overloaded},
		{Target: "acct/a", Try: 3, Status: 200, Class: "ok", Reason: strategy.ReasonPicked, Duration: 5 * time.Millisecond, Wait: 200 * time.Millisecond, Hedge: true},
	}}
	indent := func(lines []string, by string) string {
		return strings.Join(lines, "\n"+by)
	}
	for _, tc := range []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", tr, strings.Join(lines, "\n")},
		{"%s", tr, strings.Join(lines, "\n")},
		{"%v", tr.String(), strings.Join(lines, "\n")},
		{"%+v", tr, strings.Join(errLines, "\n")},
		{"  call 1: %2v", tr, "  call 1: " + indent(lines, "  ")},
		{"%+4v", tr, indent(errLines, "    ")},
		{"%4s", tr, indent(lines, "    ")},
		{"%+v", retried, strings.Join([]string{
			"grp/chat → acct/a, 3 attempts",
			"  acct/a  try 1  503  retry  picked  5ms                      status 503: overloaded",
			"  acct/a  try 2  503  retry  picked  5ms  after 100ms         status 503: overloaded",
			"  acct/a  try 3  200  ok     picked  5ms  after 200ms, hedge",
		}, "\n")},
		{"%d", tr, "%!d(*routing.Trace)"},
		{"%3v", (*routing.Trace)(nil), "<nil>"},
	} {
		if got := fmt.Sprintf(tc.format, tc.arg); got != tc.want {
			t.Errorf("Sprintf(%q) =\n%s\nwant\n%s", tc.format, got, tc.want)
		}
	}
}
