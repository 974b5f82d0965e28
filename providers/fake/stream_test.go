package fake_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
)

// chunk is what a test checks of one stream chunk: when it arrived
// (since ChatStream returned) and what it carried.
type chunk struct {
	At        time.Duration
	Role      string
	Content   string
	Finish    openai.FinishReason
	NoChoices bool
	Usage     *openai.Usage
}

func summarize(at time.Duration, c openai.ChatCompletionStreamResponse) chunk {
	s := chunk{At: at, Usage: c.Usage}
	if len(c.Choices) == 0 {
		s.NoChoices = true
		return s
	}
	ch := c.Choices[0]
	s.Role, s.Content, s.Finish = ch.Delta.Role, ch.Delta.Content, ch.FinishReason
	return s
}

// drain reads st until Recv fails, returning the chunks, when Recv failed
// and its error.
func drain(st providers.Stream) ([]chunk, time.Duration, error) {
	start := time.Now()
	var got []chunk
	for {
		c, err := st.Recv()
		if err != nil {
			return got, time.Since(start), err
		}
		got = append(got, summarize(time.Since(start), c))
	}
}

func usage(p, c int) *openai.Usage {
	return &openai.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}

func TestStream(t *testing.T) {
	const ms = time.Millisecond
	role := chunk{Role: "assistant"}
	text := func(at time.Duration, s string) chunk { return chunk{At: at, Content: s} }
	stop := func(at time.Duration) chunk { return chunk{At: at, Finish: "stop"} }
	truncated := &providers.Error{Status: 502, Code: "stream_truncated", Message: "stream ended before a finish reason", Err: io.ErrUnexpectedEOF}

	tests := []struct {
		name         string
		step         fake.Step
		includeUsage bool
		timeout      time.Duration // ctx deadline, from the call
		want         []chunk
		wantErr      error
		wantErrAt    time.Duration // since ChatStream returned
	}{
		{
			name:    "reply is one chunk",
			step:    fake.Reply("hello"),
			want:    []chunk{role, text(0, "hello"), stop(0)},
			wantErr: io.EOF,
		},
		{
			name:    "chunks",
			step:    fake.Stream("Hel", "lo"),
			want:    []chunk{role, text(0, "Hel"), text(0, "lo"), stop(0)},
			wantErr: io.EOF,
		},
		{
			name:    "no chunks",
			step:    fake.Stream(),
			want:    []chunk{role, stop(0)},
			wantErr: io.EOF,
		},
		{
			name:    "finish reason",
			step:    fake.Stream("a").WithFinishReason(openai.FinishReasonLength),
			want:    []chunk{role, text(0, "a"), {Finish: "length"}},
			wantErr: io.EOF,
		},
		{
			name:         "usage chunk when asked",
			step:         fake.Stream("Hel", "lo"),
			includeUsage: true,
			want:         []chunk{role, text(0, "Hel"), text(0, "lo"), stop(0), {NoChoices: true, Usage: usage(2, 2)}},
			wantErr:      io.EOF,
		},
		{
			name:         "scripted usage",
			step:         fake.Reply("x").WithUsage(100, 20),
			includeUsage: true,
			want:         []chunk{role, text(0, "x"), stop(0), {NoChoices: true, Usage: usage(100, 20)}},
			wantErr:      io.EOF,
		},
		{
			name:    "paced with a slow first chunk",
			step:    fake.Stream("a", "b", "c").FirstChunkAfter(2 * time.Second).Every(100 * ms),
			want:    []chunk{{At: 2 * time.Second, Role: "assistant"}, text(2100*ms, "a"), text(2200*ms, "b"), text(2300*ms, "c"), stop(2300 * ms)},
			wantErr: io.EOF, wantErrAt: 2300 * ms,
		},
		{
			name:    "cut after one chunk",
			step:    fake.Stream("Hel", "lo", "!").CutAfter(1),
			want:    []chunk{role, text(0, "Hel")},
			wantErr: truncated,
		},
		{
			name:    "cut before any content",
			step:    fake.Stream("Hel", "lo").CutAfter(0),
			want:    []chunk{role},
			wantErr: truncated,
		},
		{
			name:    "cut after all content, before the finish reason",
			step:    fake.Stream("Hel", "lo").CutAfter(2),
			want:    []chunk{role, text(0, "Hel"), text(0, "lo")},
			wantErr: truncated,
		},
		{
			name:    "cut beyond the content",
			step:    fake.Stream("a").CutAfter(5),
			want:    []chunk{role, text(0, "a")},
			wantErr: truncated,
		},
		{
			name:    "negative cut counts as zero",
			step:    fake.Stream("a").CutAfter(-1),
			want:    []chunk{role},
			wantErr: truncated,
		},
		{
			name:    "paced cut arrives with the next chunk",
			step:    fake.Stream("a", "b").Every(time.Second).CutAfter(1),
			want:    []chunk{role, text(time.Second, "a")},
			wantErr: truncated, wantErrAt: 2 * time.Second,
		},
		{
			name:    "malformed event",
			step:    fake.Stream("a", "b").MalformedAfter(1),
			want:    []chunk{role, text(0, "a")},
			wantErr: &providers.Error{Status: 502, Code: "malformed_event", Message: "malformed stream event"},
		},
		{
			name: "error event after content",
			step: fake.Stream("a", "b").Every(time.Second).
				ErrorAfter(1, fake.Fail(503).WithCode("overloaded").WithType("overloaded_error").WithRetryAfter(time.Second)),
			want: []chunk{role, text(time.Second, "a")},
			wantErr: &providers.Error{
				Status: 503, RetryAfter: time.Second, Code: "overloaded", Type: "overloaded_error", Message: "Service Unavailable",
			},
			wantErrAt: 2 * time.Second,
		},
		{
			name:    "error event of a step that is not a failure",
			step:    fake.Stream("a").ErrorAfter(0, fake.Reply("ok")),
			want:    []chunk{role},
			wantErr: &providers.Error{Status: 502, Message: "error event in stream"},
		},
		{
			name:    "the last fault wins over an error event",
			step:    fake.Stream("a", "b").ErrorAfter(0, fake.Fail(500)).CutAfter(1),
			want:    []chunk{role, text(0, "a")},
			wantErr: truncated,
		},
		{
			name:    "in-band error as first event",
			step:    fake.Fail(503).WithCode("overloaded").WithType("overloaded_error").WithMessage("Overloaded").InBand(),
			wantErr: &providers.Error{Status: 503, Code: "overloaded", Type: "overloaded_error", Message: "Overloaded"},
		},
		{
			name:    "in-band error after a slow first chunk",
			step:    fake.Fail(500).InBand().FirstChunkAfter(time.Second),
			wantErr: &providers.Error{Status: 500, Message: "Internal Server Error"}, wantErrAt: time.Second,
		},
		{
			name:    "stall after one chunk until the deadline",
			step:    fake.Stream("a", "b").StallAfter(1),
			timeout: 10 * time.Second,
			want:    []chunk{role, text(0, "a")},
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantErrAt: 10 * time.Second,
		},
		{
			name:    "stall before content",
			step:    fake.Stream("a").Every(time.Second).StallAfter(0),
			timeout: 5 * time.Second,
			want:    []chunk{role},
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantErrAt: 5 * time.Second,
		},
		{
			name:    "last fault wins",
			step:    fake.Stream("a", "b").StallAfter(0).CutAfter(1),
			want:    []chunk{role, text(0, "a")},
			wantErr: truncated,
		},
		{
			name:    "deadline while paced",
			step:    fake.Stream("a", "b", "c").Every(time.Second),
			timeout: 2500 * ms,
			want:    []chunk{role, text(time.Second, "a"), text(2*time.Second, "b")},
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantErrAt: 2500 * ms,
		},
		{
			name:    "deadline before the first chunk",
			step:    fake.Stream("a").FirstChunkAfter(time.Minute),
			timeout: 10 * time.Second,
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantErrAt: 10 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				f := fake.New()
				f.Script("m", tt.step)
				req := chatReq("m", "two words")
				req.Request.Stream = true
				if tt.includeUsage {
					req.Request.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
				}
				st, err := f.ChatStream(ctx, req)
				if err != nil {
					t.Fatalf("ChatStream: %v", err)
				}
				defer st.Close()
				got, at, err := drain(st)
				if d := cmp.Diff(got, tt.want); d != "" {
					t.Errorf("chunks (-got +want):\n%s", d)
				}
				if d := diffErr(err, tt.wantErr); d != "" {
					t.Errorf("final error (-got +want):\n%s", d)
				}
				if at != tt.wantErrAt {
					t.Errorf("final error after %v, want %v", at, tt.wantErrAt)
				}
				// The end is final: Recv again returns the same error at once.
				start := time.Now()
				_, again := st.Recv()
				if d := diffErr(again, tt.wantErr); d != "" {
					t.Errorf("Recv after the end (-got +want):\n%s", d)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("Recv after the end took %v, want 0", d)
				}
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
	}
}

func TestStreamChunkFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Chat(t.Context(), chatReq("other", "x")) // so this stream is call 2
		f.Script("gpt-4o", fake.Stream("Hi"))
		req := chatReq("gpt-4o", "x")
		req.Request.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		st, err := f.ChatStream(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var got []openai.ChatCompletionStreamResponse
		for {
			c, err := st.Recv()
			if err != nil {
				break
			}
			got = append(got, c)
		}
		base := openai.ChatCompletionStreamResponse{
			ID: "fake-2", Object: "chat.completion.chunk", Created: time.Now().Unix(), Model: "gpt-4o",
		}
		with := func(choices []openai.ChatCompletionStreamChoice, u *openai.Usage) openai.ChatCompletionStreamResponse {
			c := base
			c.Choices, c.Usage = choices, u
			return c
		}
		want := []openai.ChatCompletionStreamResponse{
			with([]openai.ChatCompletionStreamChoice{{Delta: openai.ChatCompletionStreamChoiceDelta{Role: "assistant"}}}, nil),
			with([]openai.ChatCompletionStreamChoice{{Delta: openai.ChatCompletionStreamChoiceDelta{Content: "Hi"}}}, nil),
			with([]openai.ChatCompletionStreamChoice{{FinishReason: "stop"}}, nil),
			with([]openai.ChatCompletionStreamChoice{}, usage(1, 1)),
		}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("chunks (-got +want):\n%s", d)
		}
	})
}

func TestStreamBeforeHeaders(t *testing.T) {
	tests := []struct {
		name      string
		step      fake.Step
		timeout   time.Duration
		wantErr   error
		wantAfter time.Duration
	}{
		{name: "429", step: fake.Fail(429).WithRetryAfter(time.Second), wantErr: &providers.Error{Status: 429, RetryAfter: time.Second, Message: "Too Many Requests"}},
		{name: "transport", step: fake.Transport(), wantErr: &providers.Error{Status: 502, Err: fake.ErrTransport}},
		{name: "slow headers", step: fake.Stream("a").After(300 * time.Millisecond), wantAfter: 300 * time.Millisecond},
		{name: "slow failure", step: fake.Fail(503).After(time.Second), wantErr: &providers.Error{Status: 503, Message: "Service Unavailable"}, wantAfter: time.Second},
		{name: "hang", step: fake.Hang(), timeout: 3 * time.Second, wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantAfter: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				f := fake.New()
				f.Script("m", tt.step)
				start := time.Now()
				st, err := f.ChatStream(ctx, chatReq("m", "x"))
				if d := diffErr(err, tt.wantErr); d != "" {
					t.Errorf("ChatStream error (-got +want):\n%s", d)
				}
				if (st == nil) != (err != nil) {
					t.Errorf("ChatStream = %v, %v: want exactly one of a stream and an error", st, err)
				}
				if st != nil {
					st.Close()
				}
				if got := time.Since(start); got != tt.wantAfter {
					t.Errorf("ChatStream returned after %v, want %v", got, tt.wantAfter)
				}
			})
		})
	}
}

func TestStreamClose(t *testing.T) {
	t.Run("twice, then Recv", func(t *testing.T) {
		f := fake.New()
		st, err := f.ChatStream(t.Context(), chatReq("m", "x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := st.Close(); err != nil {
				t.Errorf("Close #%d: %v", i+1, err)
			}
		}
		if _, err := st.Recv(); !errors.Is(err, fake.ErrStreamClosed) {
			t.Errorf("Recv after Close: %v, want ErrStreamClosed", err)
		}
	})

	t.Run("after the end", func(t *testing.T) {
		f := fake.New()
		st, _ := f.ChatStream(t.Context(), chatReq("m", "x"))
		if _, _, err := drain(st); err != io.EOF {
			t.Fatalf("drain: %v, want io.EOF", err)
		}
		st.Close()
		if _, err := st.Recv(); !errors.Is(err, fake.ErrStreamClosed) {
			t.Errorf("Recv after io.EOF and Close: %v, want ErrStreamClosed", err)
		}
	})

	t.Run("after a failure", func(t *testing.T) {
		f := fake.New()
		f.Script("m", fake.Stream("a").CutAfter(0))
		st, _ := f.ChatStream(t.Context(), chatReq("m", "x"))
		if _, _, err := drain(st); status(err) != 502 {
			t.Fatalf("drain: %v, want a 502", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close after a failure: %v", err)
		}
	})

	closers := []struct {
		name string
		step fake.Step
	}{
		{"stalled", fake.Stream("a", "b").StallAfter(1)},
		{"paced", fake.Stream("a", "b").Every(time.Hour)},
		{"slow first chunk", fake.Stream("a").FirstChunkAfter(time.Hour)},
	}
	for _, tt := range closers {
		t.Run("unblocks a "+tt.name+" Recv", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New()
				f.Script("m", tt.step)
				st, err := f.ChatStream(t.Context(), chatReq("m", "x"))
				if err != nil {
					t.Fatal(err)
				}
				// Stop the reader 5s from now, as an idle timer would.
				time.AfterFunc(5*time.Second, func() { st.Close() })
				start := time.Now()
				_, at, err := drain(st)
				if !errors.Is(err, fake.ErrStreamClosed) {
					t.Errorf("Recv: %v, want ErrStreamClosed", err)
				}
				if at != 5*time.Second || time.Since(start) != 5*time.Second {
					t.Errorf("Recv returned after %v, want 5s", at)
				}
			})
		})
	}

	t.Run("cancel ends the stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			f := fake.New()
			f.Script("m", fake.Stream("a", "b").StallAfter(1))
			st, err := f.ChatStream(ctx, chatReq("m", "x"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			time.AfterFunc(time.Second, cancel)
			got, at, err := drain(st)
			if len(got) != 2 || !errors.Is(err, context.Canceled) || at != time.Second {
				t.Errorf("drain = %d chunks, %v after %v; want 2 chunks, context.Canceled after 1s", len(got), err, at)
			}
		})
	})

	t.Run("cancel after the answer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		f := fake.New()
		st, _ := f.ChatStream(ctx, chatReq("m", "x"))
		defer st.Close()
		for range 3 { // role, content, finish
			if _, err := st.Recv(); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if _, err := st.Recv(); err != io.EOF {
			t.Errorf("Recv after the finish chunk and a cancel: %v, want io.EOF", err)
		}
	})
}

func TestStreamCallRecordedBeforeHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("m", fake.Stream("a").After(time.Minute))
		go func() {
			st, err := f.ChatStream(t.Context(), chatReq("m", "x"))
			if err == nil {
				st.Close()
			}
		}()
		synctest.Wait()
		calls := f.Calls()
		if len(calls) != 1 || !calls[0].Stream {
			t.Errorf("while waiting for headers: Calls = %+v, want one stream call", calls)
		}
		time.Sleep(time.Minute)
	})
}
