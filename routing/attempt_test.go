package routing_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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

// Regression tests for the attempt loop: each names the defect it keeps
// out.

func TestCloseUnblocksARestartReconnecting(t *testing.T) {
	// The restart's new attempt must be reachable by Close while it
	// connects: with no deadline anywhere, a hanging next target would
	// otherwise keep Recv blocked for ever.
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Stream("x", "y").CutAfter(1))
		f.Script("b", fake.Hang())
		c := streamClient(t, f, nil)
		var tr routing.Trace
		st, err := c.ChatStream(routing.WithTrace(context.Background(), &tr), chatReq(), routing.RestartOnInterrupt(true))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := drain(st) // the answer, the cut, then the reconnect to "b"
			done <- err
		}()
		synctest.Wait() // Recv is now blocked on b's hang
		st.Close()
		err = <-done
		if !errors.Is(err, routing.ErrStreamClosed) || !errors.Is(err, providers.ErrStreamClosed) {
			t.Fatalf("Recv after Close = %v, want ErrStreamClosed", err)
		}
		if _, err := st.Recv(); !errors.Is(err, routing.ErrStreamClosed) {
			t.Errorf("a later Recv = %v, want ErrStreamClosed", err)
		}
		got := traceClasses(&tr)
		want := []string{"acct/a interrupted", "acct/b canceled"}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
	})
}

// traceClasses lists a trace's attempts as "target class".
func traceClasses(tr *routing.Trace) []string {
	var out []string
	for _, a := range tr.Attempts {
		out = append(out, a.Target+" "+a.Class)
	}
	return out
}

func TestCommittedStreamIsNeverCancelledByTheFirstTokenTimer(t *testing.T) {
	// The first chunk lands at the edge of the first-token budget, on
	// many streams at once: each stream either times out before its
	// commit (ChatStream fails with a 408) or, once committed, delivers
	// its whole answer. A committed stream ending in a cancellation is
	// the race this test exists for.
	if testing.Short() {
		t.Skip("stress test")
	}
	f := fake.New(fake.WithDefault(fake.Stream("one ", "two ", "three").FirstChunkAfter(18 * time.Millisecond)))
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(
		target.Target{Ref: coreRef("m"), TTFTTimeout: 20 * time.Millisecond},
	))))
	const goroutines, rounds = 200, 10
	var committed, spurious, timedOut atomic.Int64
	var mu sync.Mutex
	var firstBad error
	for range rounds {
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				st, err := c.ChatStream(context.Background(), coreReq(coreModel))
				if err != nil {
					if coreStatus(err) != http.StatusRequestTimeout {
						mu.Lock()
						firstBad = cmpOr(firstBad, fmt.Errorf("ChatStream: %w", err))
						mu.Unlock()
					}
					timedOut.Add(1)
					return
				}
				defer st.Close()
				committed.Add(1)
				got, _, err := drain(st)
				if err != io.EOF || got != "one two three" {
					spurious.Add(1)
					mu.Lock()
					firstBad = cmpOr(firstBad, fmt.Errorf("committed stream ended with %q, %v", got, err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	t.Logf("%d committed, %d timed out before commit", committed.Load(), timedOut.Load())
	if n := spurious.Load(); n != 0 || firstBad != nil {
		t.Errorf("%d of %d committed streams did not finish whole; first: %v", n, committed.Load(), firstBad)
	}
	if committed.Load() == 0 {
		t.Error("no stream committed: the test measured nothing")
	}
}

// cmpOr returns a unless it is nil.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func TestInterruptedStreamIsOneAttemptEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Stream("one", "two").CutAfter(1))
		var mu sync.Mutex
		var events []string
		obs := routing.ObserverFunc(func(_ context.Context, e routing.Event) {
			if e.Kind == routing.EventAttempt {
				mu.Lock()
				events = append(events, fmt.Sprintf("%s %d %s", e.Attempt.Target, e.Attempt.Status, e.Attempt.Class))
				mu.Unlock()
			}
		})
		c := streamClient(t, f, nil, routing.WithObserver(obs))
		var tr routing.Trace
		st, err := c.ChatStream(routing.WithTrace(t.Context(), &tr), chatReq())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, _, err := drain(st); !errors.Is(err, routing.ErrStreamInterrupted) {
			t.Fatalf("drain = %v, want ErrStreamInterrupted", err)
		}
		want := []string{"acct/a 502 interrupted"}
		if diff := cmp.Diff(events, want); diff != "" {
			t.Errorf("observer events (-got +want):\n%s", diff)
		}
		var fromTrace []string
		for _, a := range tr.Attempts {
			fromTrace = append(fromTrace, fmt.Sprintf("%s %d %s", a.Target, a.Status, a.Class))
		}
		if diff := cmp.Diff(fromTrace, want); diff != "" {
			t.Errorf("trace (-got +want):\n%s", diff)
		}
	})
}

func TestCallerHeaderMistakeIsRefusedBeforeAnyAttempt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		names  string // what the error must name
	}{
		{"CR LF in a value", http.Header{"X-Trace": {"a\r\nX-Injected: 1"}}, `"X-Trace"`},
		{"NUL in a value", http.Header{"X-Trace": {"a\x00b"}}, `"X-Trace"`},
		{"space in a name", http.Header{"Bad Header": {"v"}}, `"Bad Header"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(
				target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")},
			))))
			ctx, tr := coreTraced(routing.WithHeaders(t.Context(), tc.header))
			for range 3 {
				_, err := c.Chat(ctx, coreReq(coreModel))
				if !errors.Is(err, routing.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.names) {
					t.Fatalf("Chat = %v, want ErrInvalidRequest naming %s", err, tc.names)
				}
				if st, err := c.ChatStream(ctx, coreReq(coreModel)); !errors.Is(err, routing.ErrInvalidRequest) {
					if st != nil {
						st.Close()
					}
					t.Fatalf("ChatStream = %v, want ErrInvalidRequest", err)
				}
			}
			if n := len(f.Calls()); n != 0 {
				t.Errorf("provider got %d calls, want none", n)
			}
			if len(tr.Attempts) != 0 {
				t.Errorf("trace has %d attempts, want none", len(tr.Attempts))
			}
			// No target was penalised: the primary is still picked first.
			ctx, tr = coreTraced(t.Context())
			if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
				t.Fatal(err)
			}
			if a := tr.Attempts[0]; a.Target != coreRef("a") || a.Reason.String() != "picked" {
				t.Errorf("next call went to %s (%v), want the healthy primary picked", a.Target, a.Reason)
			}
		})
	}
}

func TestUnencodableBodyIsTheCallersErrorThroughTheOpenAIAdapter(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(srv.Close)
	cfg := openai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL + "/v1"
	c := coreClient(t, routing.WithProvider(coreAcct, oai.New(cfg)), routing.WithGroup(coreGroup(corePriority(
		target.Target{Ref: coreRef("a")}, target.Target{Ref: coreRef("b")},
	))))
	req := coreReq(coreModel)
	req.Temperature = float32(math.NaN())
	ctx, tr := coreTraced(t.Context())
	_, err := c.Chat(ctx, req)
	if !errors.Is(err, routing.ErrInvalidRequest) {
		t.Fatalf("Chat = %v, want ErrInvalidRequest", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
	// Each target's adapter refused it in turn; nothing was sent.
	if got := traceClasses(tr); !cmp.Equal(got, []string{coreRef("a") + " invalid", coreRef("b") + " invalid"}) {
		t.Errorf("trace = %v, want both targets to refuse it", got)
	}
}

// pickyProvider refuses requests that carry an image URL, as an adapter
// whose API takes images only inline does; other requests it answers.
type pickyProvider struct{ calls atomic.Int64 }

func (p *pickyProvider) Chat(_ context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	if len(req.Request.Messages) > 0 && len(req.Request.Messages[0].MultiContent) > 0 {
		return openai.ChatCompletionResponse{}, fmt.Errorf("%w: messages[0].content[0].image_url: only inline images", providers.ErrInvalidRequest)
	}
	p.calls.Add(1)
	return openai.ChatCompletionResponse{Model: req.Request.Model}, nil
}

func TestARefusalBeforeSendingMovesToATargetThatCanTakeIt(t *testing.T) {
	picky := &pickyProvider{}
	f := fake.New()
	c := coreClient(t, routing.WithProvider("picky", picky), routing.WithProvider(coreAcct, f),
		routing.WithGroup(coreGroup(corePriority(target.Target{Ref: "picky/m"}, target.Target{Ref: coreRef("b")}))))
	req := coreReq(coreModel)
	req.Messages = []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
		{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://example.com/cat.png"}},
	}}}
	for range 3 {
		ctx, tr := coreTraced(t.Context())
		if _, err := c.Chat(ctx, req); err != nil {
			t.Fatalf("Chat = %v, want the target that takes image URLs to serve", err)
		}
		if got := traceClasses(tr); !cmp.Equal(got, []string{"picky/m invalid", coreRef("b") + " ok"}) {
			t.Errorf("trace = %v", got)
		}
	}
	// Refusals count against no one: a plain request still goes to the
	// primary, picked first.
	ctx, tr := coreTraced(t.Context())
	if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
		t.Fatal(err)
	}
	if a := tr.Attempts[0]; a.Target != "picky/m" || a.Reason.String() != "picked" || picky.calls.Load() != 1 {
		t.Errorf("plain call went to %s (%v), want the primary picked", a.Target, a.Reason)
	}
}

// behaviourError is a user's own provider error: no *providers.Error, only
// the behaviour methods.
type behaviourError struct {
	status int
	after  time.Duration
	code   string
}

func (e behaviourError) Error() string             { return fmt.Sprintf("my provider: %d", e.status) }
func (e behaviourError) StatusCode() int           { return e.status }
func (e behaviourError) RetryAfter() time.Duration { return e.after }
func (e behaviourError) ErrorCode() string         { return e.code }
func (e behaviourError) wrapped() error            { return fmt.Errorf("calling upstream: %w", e) }

// scriptedProvider answers each call with the next error, then succeeds.
type scriptedProvider struct {
	mu   sync.Mutex
	errs map[string][]error
}

func (p *scriptedProvider) Chat(_ context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if q := p.errs[req.Request.Model]; len(q) > 0 {
		p.errs[req.Request.Model] = q[1:]
		return openai.ChatCompletionResponse{}, q[0]
	}
	return openai.ChatCompletionResponse{Model: req.Request.Model, Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: "ok"}, FinishReason: "stop"}}}, nil
}

func TestErrorsAreClassifiedByBehaviour(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		tries []string // "target status class" per attempt
		waits []time.Duration
	}{
		{
			name:  "own error with StatusCode 429 and RetryAfter is retried after its wait",
			err:   behaviourError{status: 429, after: 3 * time.Second}.wrapped(),
			tries: []string{"acct/a 429 retry", "acct/a 200 ok"},
			waits: []time.Duration{0, 3 * time.Second},
		},
		{
			name:  "own error with a fallback error code falls back at once",
			err:   behaviourError{status: 400, code: "context_length_exceeded"},
			tries: []string{"acct/a 400 fallback", "acct/b 200 ok"},
			waits: []time.Duration{0, 0},
		},
		{
			name:  "bare go-openai APIError 400 stops",
			err:   &openai.APIError{HTTPStatusCode: 400, Message: "bad", Type: "invalid_request_error"},
			tries: []string{"acct/a 400 stop"},
			waits: []time.Duration{0},
		},
		{
			name:  "bare go-openai RequestError 503 is retried",
			err:   &openai.RequestError{HTTPStatusCode: 503, Err: errors.New("unavailable")},
			tries: []string{"acct/a 503 retry", "acct/a 200 ok"},
			waits: []time.Duration{0, 100 * time.Millisecond},
		},
		{
			name:  "an error with no status is a transport failure",
			err:   errors.New("connection reset"),
			tries: []string{"acct/a 502 retry", "acct/a 200 ok"},
			waits: []time.Duration{0, 100 * time.Millisecond},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &scriptedProvider{errs: map[string][]error{"a": {tc.err}}}
				c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithRand(coreRand(0.5)),
					routing.WithGroup(coreGroup(corePriority(
						target.Target{Ref: coreRef("a"), FallbackErrorCodes: []string{"context_length_exceeded"}},
						target.Target{Ref: coreRef("b")},
					))))
				ctx, tr := coreTraced(t.Context())
				c.Chat(ctx, coreReq(coreModel))
				var got []string
				for _, a := range tr.Attempts {
					got = append(got, fmt.Sprintf("%s %d %s", a.Target, a.Status, a.Class))
				}
				if diff := cmp.Diff(got, tc.tries); diff != "" {
					t.Errorf("attempts (-got +want):\n%s", diff)
				}
				if diff := cmp.Diff(coreWaits(tr), tc.waits); diff != "" {
					t.Errorf("waits (-got +want):\n%s", diff)
				}
			})
		})
	}
}

func TestNilOptionsAreErrors(t *testing.T) {
	for name, opt := range map[string]routing.Option{
		"WithLogger":       routing.WithLogger(nil),
		"WithObserver":     routing.WithObserver(nil),
		"WithStore":        routing.WithStore(nil),
		"WithTeamResolver": routing.WithTeamResolver(nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := routing.New(opt)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("New(%s(nil)) = %v, want an error naming %s", name, err, name)
			}
		})
	}
	// And a real logger still works.
	if _, err := routing.New(routing.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
		t.Errorf("New(WithLogger(l)) = %v", err)
	}
}

func TestCancelledCallCountsTheAttemptInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Hang())
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("a")}))))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		ctx, tr := coreTraced(ctx)
		_, err := c.Chat(ctx, coreReq(coreModel))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Chat = %v, want DeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "after 1 attempt") || len(tr.Attempts) != 1 {
			t.Errorf("error %q with %d traced attempts, want it to say 1 attempt", err, len(tr.Attempts))
		}
	})
}

func TestZeroClientRefusesCleanly(t *testing.T) {
	for name, c := range map[string]*routing.Client{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := c.Chat(ctx, coreReq(coreModel)); !errors.Is(err, routing.ErrNotCreated) {
				t.Errorf("Chat = %v, want ErrNotCreated", err)
			}
			if _, err := c.ChatStream(ctx, coreReq(coreModel)); !errors.Is(err, routing.ErrNotCreated) {
				t.Errorf("ChatStream = %v, want ErrNotCreated", err)
			}
			if _, err := c.Embed(ctx, openai.EmbeddingRequest{Model: coreModel}); !errors.Is(err, routing.ErrNotCreated) {
				t.Errorf("Embed = %v, want ErrNotCreated", err)
			}
			if err := c.SetGroup(ctx, coreGroup(corePriority(target.Target{Ref: coreRef("a")}))); !errors.Is(err, routing.ErrNotCreated) {
				t.Errorf("SetGroup = %v, want ErrNotCreated", err)
			}
			if g := c.Groups(); len(g) != 0 {
				t.Errorf("Groups = %v, want none", g)
			}
		})
	}
}

func TestSuccessLengthMeasuredForWhatReadsIt(t *testing.T) {
	// A success's length is left unmeasured when nothing reads it; a
	// Trace and an observer each read it, and must get the real one.
	for _, tc := range []struct {
		name  string
		trace bool
		obs   bool
	}{{"trace", true, false}, {"observer", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New(fake.WithDefault(fake.Reply("hi").After(250 * time.Millisecond)))
				var seen []time.Duration
				opts := []routing.Option{routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(coreWeighted(target.Target{Ref: coreRef("m"), Weight: 1})))}
				if tc.obs {
					opts = append(opts, routing.WithObserver(routing.ObserverFunc(func(_ context.Context, e routing.Event) {
						if e.Kind == routing.EventAttempt {
							seen = append(seen, e.Attempt.Duration)
						}
					})))
				}
				c := coreClient(t, opts...)
				ctx := context.Background()
				var tr routing.Trace
				if tc.trace {
					ctx = routing.WithTrace(ctx, &tr)
				}
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
				if tc.trace {
					for _, a := range tr.Attempts {
						seen = append(seen, a.Duration)
					}
				}
				if want := []time.Duration{250 * time.Millisecond}; !slices.Equal(seen, want) {
					t.Errorf("durations %v, want %v", seen, want)
				}
			})
		})
	}
}
