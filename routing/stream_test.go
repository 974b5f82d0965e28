package routing_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/llmroute/llmroute/target"
)

// streamClient serves "grp/chat": priority primary "acct/a", backup
// "acct/b", with the given target settings applied to both.
func streamClient(t *testing.T, f providers.Provider, tweak func(*target.Target), opts ...routing.Option) *routing.Client {
	t.Helper()
	targets := []target.Target{{Ref: "acct/a"}, {Ref: "acct/b", Priority: 1}}
	for i := range targets {
		if tweak != nil {
			tweak(&targets[i])
		}
	}
	opts = append([]routing.Option{routing.WithProvider("acct", f), routing.WithGroup(routing.Group{
		Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: targets,
		}}},
	})}, opts...)
	c, err := routing.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drain reads a stream to its end and returns the content, the models seen
// and the final error (io.EOF for a complete answer).
func drain(st *routing.Stream) (content string, models []string, err error) {
	var b strings.Builder
	for {
		ch, err := st.Recv()
		if err != nil {
			return b.String(), models, err
		}
		if len(models) == 0 || models[len(models)-1] != ch.Model {
			models = append(models, ch.Model)
		}
		for _, c := range ch.Choices {
			b.WriteString(c.Delta.Content)
		}
	}
}

func chatReq() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{Model: "grp/chat", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}
}

func TestStreamCompleteAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Stream("Hel", "lo", "!").FirstChunkAfter(200*time.Millisecond).Every(10*time.Millisecond))
		c := streamClient(t, f, nil)
		var tr routing.Trace
		st, err := c.ChatStream(routing.WithTrace(t.Context(), &tr), chatReq())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, models, err := drain(st)
		if err != io.EOF {
			t.Fatalf("Recv error = %v, want io.EOF", err)
		}
		if got != "Hello!" {
			t.Errorf("content = %q, want %q", got, "Hello!")
		}
		if diff := cmp.Diff(models, []string{"a"}); diff != "" {
			t.Errorf("chunk models (-got +want):\n%s", diff)
		}
		if tr.Resolved != "acct/a" || len(tr.Attempts) != 1 {
			t.Fatalf("trace = %+v, want one attempt resolved to acct/a", tr)
		}
		a := tr.Attempts[0]
		if a.TTFT != 210*time.Millisecond { // role chunk at 200ms, first content 10ms later
			t.Errorf("TTFT = %v, want 210ms", a.TTFT)
		}
		if a.TPOT != 10*time.Millisecond {
			t.Errorf("TPOT = %v, want 10ms", a.TPOT)
		}
		// A finished stream stays finished.
		if _, err := st.Recv(); err != io.EOF {
			t.Errorf("Recv after EOF = %v, want io.EOF", err)
		}
	})
}

func TestStreamFailuresBeforeCommitFallBack(t *testing.T) {
	tests := []struct {
		name     string
		primary  fake.Step
		tweak    func(*target.Target)
		wantA    []int // statuses of the attempts on acct/a
		wantWait bool
	}{
		{
			name:    "error event as first event",
			primary: fake.Fail(503).WithCode("overloaded").InBand(),
			wantA:   []int{503, 503, 503},
		},
		{
			name:    "HTTP error before the stream",
			primary: fake.Fail(502),
			wantA:   []int{502, 502, 502},
		},
		{
			name:    "slow first token",
			primary: fake.Stream("late").FirstChunkAfter(5 * time.Second),
			tweak:   func(t *target.Target) { t.TTFTTimeout = time.Second },
			wantA:   []int{408},
		},
		{
			name:    "silent upstream past request timeout",
			primary: fake.Hang(),
			tweak:   func(t *target.Target) { t.RequestTimeout = 2 * time.Second },
			wantA:   []int{408},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("a", tt.primary)
				f.Script("b", fake.Stream("from ", "b"))
				c := streamClient(t, f, tt.tweak)
				var tr routing.Trace
				st, err := c.ChatStream(routing.WithTrace(t.Context(), &tr), chatReq())
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				got, _, err := drain(st)
				if err != io.EOF || got != "from b" {
					t.Fatalf("drain = %q, %v; want %q, io.EOF", got, err, "from b")
				}
				var statuses []int
				for _, a := range tr.Attempts {
					if a.Target == "acct/a" {
						statuses = append(statuses, a.Status)
					}
				}
				if diff := cmp.Diff(statuses, tt.wantA); diff != "" {
					t.Errorf("statuses on acct/a (-got +want):\n%s", diff)
				}
				if tr.Resolved != "acct/b" || st.Target() != "acct/b" {
					t.Errorf("resolved = %q, target = %q; want acct/b", tr.Resolved, st.Target())
				}
			})
		})
	}
}

func TestStreamInterruptedAfterCommit(t *testing.T) {
	tests := []struct {
		name       string
		step       fake.Step
		tweak      func(*target.Target)
		wantStatus int
	}{
		{"cut", fake.Stream("one ", "two ", "three").CutAfter(2), nil, 502},
		{"malformed event", fake.Stream("one ", "two ", "three").MalformedAfter(2), nil, 502},
		{"stall", fake.Stream("one ", "two ", "three").StallAfter(2), func(t *target.Target) { t.StreamIdleTimeout = 3 * time.Second }, 408},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("a", tt.step)
				c := streamClient(t, f, tt.tweak)
				var tr routing.Trace
				st, err := c.ChatStream(routing.WithTrace(t.Context(), &tr), chatReq())
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				start := time.Now()
				got, _, err := drain(st)
				if got != "one two " {
					t.Errorf("content = %q, want %q", got, "one two ")
				}
				if err == io.EOF || !errors.Is(err, routing.ErrStreamInterrupted) {
					t.Fatalf("Recv error = %v, want ErrStreamInterrupted", err)
				}
				var se *routing.StreamError
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *StreamError", err)
				}
				if se.Delivered != "one two " || se.Target != "acct/a" {
					t.Errorf("StreamError = %+v, want delivered %q from acct/a", se, "one two ")
				}
				if se.StatusCode() != tt.wantStatus {
					t.Errorf("StatusCode() = %d, want %d", se.StatusCode(), tt.wantStatus)
				}
				if tt.wantStatus == 408 {
					if waited := time.Since(start); waited != 3*time.Second {
						t.Errorf("stall detected after %v, want 3s", waited)
					}
				}
				if errors.Is(err, routing.ErrStreamRestarted) {
					t.Error("an interruption without opt-in must not claim a restart")
				}
				// The error is final, and no other target was tried.
				if _, err2 := st.Recv(); !errors.Is(err2, routing.ErrStreamInterrupted) {
					t.Errorf("second Recv = %v, want the same interruption", err2)
				}
				if n := f.CallCount("b"); n != 0 {
					t.Errorf("backup called %d times after the commit point, want 0", n)
				}
				if tr.Resolved != "" || tr.Attempts[len(tr.Attempts)-1].Class != "interrupted" {
					t.Errorf("trace = %+v, want the serving attempt marked interrupted", tr)
				}
			})
		})
	}
}

func TestStreamRestartOptIn(t *testing.T) {
	for _, viaClient := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.Script("a", fake.Stream("par", "tial", "never").CutAfter(2))
			f.Script("b", fake.Stream("whole ", "answer"))
			var opts []routing.Option
			var sopts []routing.StreamOption
			if viaClient {
				opts = append(opts, routing.WithStreamRestart(true))
			} else {
				sopts = append(sopts, routing.RestartOnInterrupt(true))
			}
			c := streamClient(t, f, nil, opts...)
			st, err := c.ChatStream(t.Context(), chatReq(), sopts...)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			got, _, err := drain(st)
			if got != "partial" || !errors.Is(err, routing.ErrStreamRestarted) {
				t.Fatalf("first drain = %q, %v; want %q, ErrStreamRestarted", got, err, "partial")
			}
			if errors.Is(err, routing.ErrStreamInterrupted) {
				t.Error("a restart signal must not read as a final interruption")
			}
			got, models, err := drain(st)
			if got != "whole answer" || err != io.EOF {
				t.Fatalf("after restart = %q, %v; want %q, io.EOF", got, err, "whole answer")
			}
			if diff := cmp.Diff(models, []string{"b"}); diff != "" {
				t.Errorf("models after restart (-got +want):\n%s", diff)
			}
		})
	}
}

func TestStreamRestartWithNoTargetLeft(t *testing.T) {
	// A restart is announced only once another target has taken over;
	// when none can, the caller gets one interruption with its real
	// status and every attempt.
	for _, tc := range []struct {
		name     string
		b        []fake.Step // nil: the model has one target only
		stall    bool
		status   int
		attempts []string
	}{
		{name: "only target cut", status: 502, attempts: []string{"acct/a 502"}},
		{name: "only target stalled", stall: true, status: 408, attempts: []string{"acct/a 408"}},
		{name: "fallback refuses", b: []fake.Step{fake.Fail(400)}, status: 502, attempts: []string{"acct/a 502", "acct/b 400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				if tc.stall {
					f.Script("a", fake.Stream("x", "y").StallAfter(1))
				} else {
					f.Script("a", fake.Stream("x", "y").CutAfter(1))
				}
				targets := []target.Target{{Ref: "acct/a", StreamIdleTimeout: time.Second}}
				if tc.b != nil {
					f.Script("b", tc.b...)
					targets = append(targets, target.Target{Ref: "acct/b", Priority: 1, StreamIdleTimeout: time.Second})
				}
				c, err := routing.New(routing.WithProvider("acct", f), routing.WithGroup(routing.Group{
					Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
						Type: routing.PriorityBased, Targets: targets,
					}}},
				}))
				if err != nil {
					t.Fatal(err)
				}
				var tr routing.Trace
				st, err := c.ChatStream(routing.WithTrace(t.Context(), &tr), chatReq(), routing.RestartOnInterrupt(true))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				_, _, err = drain(st)
				if errors.Is(err, routing.ErrStreamRestarted) || !errors.Is(err, routing.ErrStreamInterrupted) {
					t.Fatalf("error = %v, want ErrStreamInterrupted and no restart signal", err)
				}
				var se *routing.StreamError
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *StreamError", err)
				}
				if se.StatusCode() != tc.status {
					t.Errorf("StatusCode = %d, want %d", se.StatusCode(), tc.status)
				}
				var got []string
				for _, a := range se.Attempts {
					got = append(got, fmt.Sprintf("%s %d", a.Target, a.Status))
				}
				if diff := cmp.Diff(got, tc.attempts); diff != "" {
					t.Errorf("attempts (-got +want):\n%s", diff)
				}
				if _, err2 := st.Recv(); err2 != err {
					t.Errorf("Recv after the end = %v, want the same error", err2)
				}
				if tr.Resolved != "" {
					t.Errorf("Trace.Resolved = %q, want none", tr.Resolved)
				}
			})
		})
	}
}

func TestStreamCloseAndCancelStopUpstream(t *testing.T) {
	t.Run("close unblocks a stalled Recv", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.Script("a", fake.Stream("one", "two").StallAfter(1))
			c := streamClient(t, f, nil)
			st, err := c.ChatStream(t.Context(), chatReq())
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var got error
			wg.Go(func() {
				_, _, got = drain(st)
			})
			synctest.Wait() // the reader is blocked in the stall
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if got == nil || got == io.EOF {
				t.Errorf("Recv after Close = %v, want an error", got)
			}
			if err := st.Close(); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
			if _, err := st.Recv(); err == nil || err == io.EOF {
				t.Errorf("Recv after Close = %v, want an error", err)
			}
		})
	})
	t.Run("cancel ends the stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.Script("a", fake.Stream("one", "two").StallAfter(1))
			c := streamClient(t, f, nil)
			ctx, cancel := context.WithCancel(t.Context())
			st, err := c.ChatStream(ctx, chatReq())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			time.AfterFunc(time.Second, cancel)
			_, _, err = drain(st)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Recv = %v, want context.Canceled", err)
			}
			if f.CallCount("b") != 0 {
				t.Error("a cancelled stream must not fall back")
			}
		})
	})
}

func TestStreamUsageAndSkipsNonStreamingTargets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stream := fake.New()
		stream.Script("b", fake.Stream("a", "b", "c"))
		chatOnly := fake.New()
		c, err := routing.New(
			routing.WithProvider("plain", chatOnly.Without(fake.Streaming)),
			routing.WithProvider("acct", stream),
			routing.WithGroup(routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type: routing.PriorityBased, Targets: []target.Target{{Ref: "plain/a"}, {Ref: "acct/b", Priority: 1}},
			}}}}),
		)
		if err != nil {
			t.Fatal(err)
		}
		req := chatReq()
		req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		st, err := c.ChatStream(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var usage *openai.Usage
		for {
			ch, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Usage != nil {
				usage = ch.Usage
			}
		}
		if usage == nil || usage.CompletionTokens != 3 {
			t.Errorf("usage = %+v, want 3 completion tokens", usage)
		}
		if n := chatOnly.CallCount(fake.AnyModel); n != 0 {
			t.Errorf("non-streaming target called %d times, want 0", n)
		}
	})
}

func TestStreamSlowReaderIsNotAStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("a", fake.Stream("one ", "two ", "three").Every(10*time.Millisecond))
		c := streamClient(t, f, func(t *target.Target) { t.StreamIdleTimeout = time.Second })
		st, err := c.ChatStream(t.Context(), chatReq())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var got strings.Builder
		for {
			// The caller takes longer than the idle timeout over each
			// chunk; the upstream never does.
			time.Sleep(2 * time.Second)
			ch, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Recv = %v after %q; a slow reader is not a stalled upstream", err, got.String())
			}
			for _, c := range ch.Choices {
				got.WriteString(c.Delta.Content)
			}
		}
		if got.String() != "one two three" {
			t.Errorf("content = %q, want the whole answer", got.String())
		}
	})
}
