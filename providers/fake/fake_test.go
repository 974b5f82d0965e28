package fake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
)

// The fake must satisfy every capability interface.
var (
	_ providers.Provider  = (*fake.Provider)(nil)
	_ providers.Completer = (*fake.Provider)(nil)
	_ providers.Embedder  = (*fake.Provider)(nil)
	_ providers.Streamer  = (*fake.Provider)(nil)
)

func chatReq(model, prompt string) providers.ChatRequest {
	return providers.ChatRequest{Request: openai.ChatCompletionRequest{
		Model:    model,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: prompt}},
	}}
}

// diffErr compares got with want: nil, a *providers.Error (field by field,
// its Err by errors.Is) or any other error (by errors.Is).
func diffErr(got, want error) string {
	switch {
	case want == nil && got == nil:
		return ""
	case want == nil || got == nil:
		return fmt.Sprintf("error = %v, want %v", got, want)
	}
	var wantPE *providers.Error
	if errors.As(want, &wantPE) {
		gotPE, ok := providers.AsError(got)
		if !ok {
			return fmt.Sprintf("error = %v (%T), want a *providers.Error %v", got, got, want)
		}
		return cmp.Diff(*gotPE, *wantPE, cmpopts.EquateErrors())
	}
	if !errors.Is(got, want) {
		return fmt.Sprintf("error = %v, want errors.Is %v", got, want)
	}
	return ""
}

// status is the outcome of a call as a status: 200 for success.
func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if pe, ok := providers.AsError(err); ok {
		return pe.Status
	}
	return -1
}

var ignoreResp = cmp.Options{
	cmpopts.IgnoreUnexported(openai.ChatCompletionResponse{}, openai.CompletionResponse{}, openai.EmbeddingResponse{}),
	cmpopts.IgnoreFields(openai.ChatCompletionResponse{}, "Created"),
	cmpopts.IgnoreFields(openai.CompletionResponse{}, "Created"),
}

func TestChatSteps(t *testing.T) {
	chat := func(content string, finish openai.FinishReason, prompt, completion int) *openai.ChatCompletionResponse {
		return &openai.ChatCompletionResponse{
			ID:     "fake-1",
			Object: "chat.completion",
			Model:  "gpt-4o",
			Choices: []openai.ChatCompletionChoice{{
				Message:      openai.ChatCompletionMessage{Role: "assistant", Content: content},
				FinishReason: finish,
			}},
			Usage: openai.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion},
		}
	}
	tests := []struct {
		name    string
		step    fake.Step
		want    *openai.ChatCompletionResponse
		wantErr error
	}{
		{name: "zero step", step: fake.Step{}, want: chat("ok", "stop", 3, 1)},
		{name: "reply", step: fake.Reply("hello there"), want: chat("hello there", "stop", 3, 2)},
		{name: "empty reply", step: fake.Reply(""), want: chat("", "stop", 3, 1)},
		{name: "usage", step: fake.Reply("hello").WithUsage(10, 5), want: chat("hello", "stop", 10, 5)},
		{name: "finish reason", step: fake.Reply("hel").WithFinishReason(openai.FinishReasonLength), want: chat("hel", "length", 3, 1)},
		{name: "stream step joins chunks", step: fake.Stream("Hel", "lo", "!"), want: chat("Hello!", "stop", 3, 3)},
		{name: "stream faults ignored", step: fake.Stream("a", "b").CutAfter(1).Every(time.Hour), want: chat("ab", "stop", 3, 2)},
		{name: "status 200 succeeds", step: fake.Fail(200), want: chat("ok", "stop", 3, 1)},
		{
			name:    "429 with retry-after",
			step:    fake.Fail(429).WithRetryAfter(2 * time.Second).WithCode("rate_limit_exceeded").WithType("requests"),
			wantErr: &providers.Error{Status: 429, RetryAfter: 2 * time.Second, Code: "rate_limit_exceeded", Type: "requests", Message: "Too Many Requests"},
		},
		{
			name:    "400 with message",
			step:    fake.Fail(400).WithCode("context_length_exceeded").WithType("invalid_request_error").WithMessage("too long"),
			wantErr: &providers.Error{Status: 400, Code: "context_length_exceeded", Type: "invalid_request_error", Message: "too long"},
		},
		{
			name:    "in-band failure outside a stream",
			step:    fake.Fail(503).WithCode("overloaded").InBand(),
			wantErr: &providers.Error{Status: 503, Code: "overloaded", Message: "Service Unavailable"},
		},
		{
			name:    "transport",
			step:    fake.Transport(),
			wantErr: &providers.Error{Status: 502, Err: fake.ErrTransport},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			f.Script("gpt-4o", tt.step)
			got, err := f.Chat(t.Context(), chatReq("gpt-4o", "say hello please"))
			if d := diffErr(err, tt.wantErr); d != "" {
				t.Fatalf("Chat error (-got +want):\n%s", d)
			}
			if tt.want == nil {
				return
			}
			if d := cmp.Diff(got, *tt.want, ignoreResp); d != "" {
				t.Errorf("Chat (-got +want):\n%s", d)
			}
		})
	}
}

func TestErrorsAreFresh(t *testing.T) {
	f := fake.New()
	f.Script("m", fake.Fail(500))
	_, err1 := f.Chat(t.Context(), chatReq("m", "x"))
	_, err2 := f.Chat(t.Context(), chatReq("m", "x"))
	pe1, _ := providers.AsError(err1)
	pe2, _ := providers.AsError(err2)
	if pe1 == nil || pe1 == pe2 {
		t.Fatalf("errors %p and %p: want two distinct *providers.Error", pe1, pe2)
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		name    string
		step    fake.Step
		prompt  any
		want    *openai.CompletionResponse
		wantErr error
	}{
		{
			name:   "reply",
			step:   fake.Reply("four"),
			prompt: "two plus two is",
			want: &openai.CompletionResponse{
				ID: "fake-1", Object: "text_completion", Model: "davinci",
				Choices: []openai.CompletionChoice{{Text: "four", FinishReason: "stop"}},
				Usage:   &openai.Usage{PromptTokens: 4, CompletionTokens: 1, TotalTokens: 5},
			},
		},
		{
			name:   "prompt list and usage",
			step:   fake.Reply("x").WithUsage(7, 3).WithFinishReason(openai.FinishReasonLength),
			prompt: []string{"a b", "c"},
			want: &openai.CompletionResponse{
				ID: "fake-1", Object: "text_completion", Model: "davinci",
				Choices: []openai.CompletionChoice{{Text: "x", FinishReason: "length"}},
				Usage:   &openai.Usage{PromptTokens: 7, CompletionTokens: 3, TotalTokens: 10},
			},
		},
		{
			name:    "failure",
			step:    fake.Fail(404).WithCode("model_not_found"),
			prompt:  "x",
			wantErr: &providers.Error{Status: 404, Code: "model_not_found", Message: "Not Found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			f.Script("davinci", tt.step)
			got, err := f.Completion(t.Context(), providers.CompletionRequest{
				Request: openai.CompletionRequest{Model: "davinci", Prompt: tt.prompt},
			})
			if d := diffErr(err, tt.wantErr); d != "" {
				t.Fatalf("Completion error (-got +want):\n%s", d)
			}
			if tt.want == nil {
				return
			}
			if d := cmp.Diff(got, *tt.want, ignoreResp); d != "" {
				t.Errorf("Completion (-got +want):\n%s", d)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	embed := func(t *testing.T, f *fake.Provider, input any, dims int) (openai.EmbeddingResponse, error) {
		t.Helper()
		return f.Embed(t.Context(), providers.EmbeddingRequest{
			Request: openai.EmbeddingRequest{Model: "text-embedding-3-small", Input: input, Dimensions: dims},
		})
	}

	t.Run("vector step", func(t *testing.T) {
		f := fake.New()
		f.Script(fake.AnyModel, fake.Vector(1, 0, 0).WithUsage(9, 0))
		got, err := embed(t, f, []string{"a", "b c"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := openai.EmbeddingResponse{
			Object: "list",
			Model:  "text-embedding-3-small",
			Data: []openai.Embedding{
				{Object: "embedding", Embedding: []float32{1, 0, 0}, Index: 0},
				{Object: "embedding", Embedding: []float32{1, 0, 0}, Index: 1},
			},
			Usage: openai.Usage{PromptTokens: 9, TotalTokens: 9},
		}
		if d := cmp.Diff(got, want, ignoreResp); d != "" {
			t.Errorf("Embed (-got +want):\n%s", d)
		}
		got.Data[0].Embedding[0] = 42 // must not change the script's vector
		again, _ := embed(t, f, "a", 0)
		if d := cmp.Diff(again.Data[0].Embedding, []float32{1, 0, 0}); d != "" {
			t.Errorf("vector after mutating an earlier answer (-got +want):\n%s", d)
		}
	})

	t.Run("a vector per input", func(t *testing.T) {
		f := fake.New()
		f.Script(fake.AnyModel, fake.Vector(9).WithVectors([]float32{1, 0}, nil))
		got, err := embed(t, f, []string{"a", "b", "c"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var vectors [][]float32
		for _, d := range got.Data {
			vectors = append(vectors, d.Embedding)
		}
		// The third input has no vector of its own: it gets Vector's.
		if d := cmp.Diff(vectors, [][]float32{{1, 0}, {}, {9}}); d != "" {
			t.Errorf("vectors (-got +want):\n%s", d)
		}
	})

	t.Run("default vectors", func(t *testing.T) {
		tests := []struct {
			name      string
			input     any
			dims      int
			wantCount int
			wantDims  int
			wantUsage int
		}{
			{name: "string", input: "hello world", wantCount: 1, wantDims: 8, wantUsage: 2},
			{name: "strings", input: []string{"a", "b", "c"}, wantCount: 3, wantDims: 8, wantUsage: 3},
			{name: "dimensions", input: "x", dims: 3, wantCount: 1, wantDims: 3, wantUsage: 1},
			{name: "tokens", input: []int{1, 2, 3}, wantCount: 1, wantDims: 8, wantUsage: 3},
			{name: "token lists", input: [][]int{{1}, {2}}, wantCount: 2, wantDims: 8, wantUsage: 2},
			{name: "any list", input: []any{"a", "b"}, wantCount: 2, wantDims: 8, wantUsage: 2},
			{name: "negative dimensions", input: "x", dims: -1, wantCount: 1, wantDims: 8, wantUsage: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := fake.New()
				got, err := embed(t, f, tt.input, tt.dims)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Data) != tt.wantCount {
					t.Fatalf("got %d embeddings, want %d", len(got.Data), tt.wantCount)
				}
				for i, e := range got.Data {
					if len(e.Embedding) != tt.wantDims || e.Index != i {
						t.Errorf("embedding %d: index %d, %d dims; want index %d, %d dims", i, e.Index, len(e.Embedding), i, tt.wantDims)
					}
					var norm float64
					for _, x := range e.Embedding {
						norm += float64(x) * float64(x)
					}
					if math.Abs(norm-1) > 1e-5 {
						t.Errorf("embedding %d: squared norm %v, want 1", i, norm)
					}
				}
				if got.Usage.PromptTokens != tt.wantUsage || got.Usage.TotalTokens != tt.wantUsage {
					t.Errorf("usage %+v, want %d prompt and total tokens", got.Usage, tt.wantUsage)
				}
			})
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		f := fake.New()
		a1, _ := embed(t, f, "alpha", 0)
		a2, _ := embed(t, fake.New(), "alpha", 0)
		b, _ := embed(t, f, "beta", 0)
		if d := cmp.Diff(a1.Data[0].Embedding, a2.Data[0].Embedding); d != "" {
			t.Errorf("same input, different vectors (-got +want):\n%s", d)
		}
		if cmp.Equal(a1.Data[0].Embedding, b.Data[0].Embedding) {
			t.Errorf("different inputs, same vector %v", b.Data[0].Embedding)
		}
	})

	t.Run("failure", func(t *testing.T) {
		f := fake.New()
		f.Script(fake.AnyModel, fake.Transport())
		_, err := embed(t, f, "x", 0)
		if d := diffErr(err, &providers.Error{Status: 502, Err: fake.ErrTransport}); d != "" {
			t.Errorf("Embed error (-got +want):\n%s", d)
		}
	})
}

func TestScriptOrder(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fake.Provider)
		opts  []fake.Option
		calls []string // models called, in order
		want  []int    // statuses
	}{
		{
			name:  "no script succeeds",
			calls: []string{"a", "b"},
			want:  []int{200, 200},
		},
		{
			name: "429 twice then succeed",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(429).Times(2), fake.Reply("ok"))
			},
			calls: []string{"a", "a", "a", "a"},
			want:  []int{429, 429, 200, 200},
		},
		{
			name: "last step repeats forever",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Reply("ok"), fake.Fail(503))
			},
			calls: []string{"a", "a", "a", "a"},
			want:  []int{200, 503, 503, 503},
		},
		{
			name: "times on the last step still repeats",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(500).Times(2))
			},
			calls: []string{"a", "a", "a"},
			want:  []int{500, 500, 500},
		},
		{
			name: "times below one counts once",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(500).Times(0), fake.Fail(501).Times(-3), fake.Reply("ok"))
			},
			calls: []string{"a", "a", "a"},
			want:  []int{500, 501, 200},
		},
		{
			name: "scripts are per model",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(500), fake.Reply("ok"))
				f.Script("b", fake.Fail(401))
			},
			calls: []string{"b", "a", "c", "a", "b"},
			want:  []int{401, 500, 200, 200, 401},
		},
		{
			name: "any model shares one script",
			setup: func(f *fake.Provider) {
				f.Script(fake.AnyModel, fake.Fail(503).Times(2), fake.Reply("ok"))
				f.Script("own", fake.Fail(400))
			},
			calls: []string{"a", "own", "b", "a"},
			want:  []int{503, 400, 503, 200},
		},
		{
			name: "script replaces and rewinds",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(500))
				f.Script("a", fake.Fail(429), fake.Reply("ok"))
			},
			calls: []string{"a", "a"},
			want:  []int{429, 200},
		},
		{
			name: "script without steps removes it",
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Fail(500))
				f.Script("a")
			},
			calls: []string{"a"},
			want:  []int{200},
		},
		{
			name:  "default script",
			opts:  []fake.Option{fake.WithDefault(fake.Fail(503), fake.Reply("ok"))},
			calls: []string{"a", "b", "c"},
			want:  []int{503, 200, 200},
		},
		{
			name: "model script wins over default",
			opts: []fake.Option{fake.WithDefault(fake.Fail(503))},
			setup: func(f *fake.Provider) {
				f.Script("a", fake.Reply("ok"))
			},
			calls: []string{"a", "b"},
			want:  []int{200, 503},
		},
		{
			name:  "default without steps is ignored",
			opts:  []fake.Option{fake.WithDefault()},
			calls: []string{"a"},
			want:  []int{200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(tt.opts...)
			if tt.setup != nil {
				tt.setup(f)
			}
			var got []int
			for _, m := range tt.calls {
				_, err := f.Chat(t.Context(), chatReq(m, "hi"))
				got = append(got, status(err))
			}
			if d := cmp.Diff(got, tt.want); d != "" {
				t.Errorf("statuses (-got +want):\n%s", d)
			}
		})
	}
}

func TestScriptAcrossOperations(t *testing.T) {
	// One script answers every operation on the model, in call order.
	f := fake.New()
	f.Script("m", fake.Fail(500), fake.Fail(502), fake.Fail(503), fake.Reply("ok"))
	ctx := t.Context()
	_, err1 := f.Chat(ctx, chatReq("m", "x"))
	_, err2 := f.Completion(ctx, providers.CompletionRequest{Request: openai.CompletionRequest{Model: "m"}})
	_, err3 := f.Embed(ctx, providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "m"}})
	st, err4 := f.ChatStream(ctx, chatReq("m", "x"))
	if err4 == nil {
		st.Close()
	}
	got := []int{status(err1), status(err2), status(err3), status(err4)}
	if d := cmp.Diff(got, []int{500, 502, 503, 200}); d != "" {
		t.Errorf("statuses (-got +want):\n%s", d)
	}
}

func TestResponseIDsAndModel(t *testing.T) {
	f := fake.New()
	var got []string
	for _, m := range []string{"a", "b", "a"} {
		resp, err := f.Chat(t.Context(), chatReq(m, "x"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.ID+" "+resp.Model)
	}
	if d := cmp.Diff(got, []string{"fake-1 a", "fake-2 b", "fake-3 a"}); d != "" {
		t.Errorf("ID and Model (-got +want):\n%s", d)
	}
}

func TestReset(t *testing.T) {
	f := fake.New(fake.WithDefault(fake.Fail(503), fake.Reply("ok")))
	f.Script("a", fake.Fail(429))
	for range 2 {
		f.Chat(t.Context(), chatReq("a", "x"))
		f.Chat(t.Context(), chatReq("b", "x"))
	}
	f.Reset()
	if n := len(f.Calls()); n != 0 {
		t.Errorf("after Reset, %d calls recorded, want 0", n)
	}
	var got []string
	for _, m := range []string{"a", "b"} {
		resp, err := f.Chat(t.Context(), chatReq(m, "x"))
		got = append(got, fmt.Sprint(resp.ID, " ", status(err)))
	}
	// "a" lost its script; the default script was rewound; IDs restart.
	if d := cmp.Diff(got, []string{" 503", "fake-2 200"}); d != "" {
		t.Errorf("after Reset (-got +want):\n%s", d)
	}
}

func TestZeroProvider(t *testing.T) {
	var f fake.Provider
	resp, err := f.Chat(t.Context(), chatReq("m", "x"))
	if err != nil || resp.Choices[0].Message.Content != fake.DefaultReply {
		t.Errorf("zero Provider: Chat = %+v, %v; want the default reply", resp.Choices, err)
	}
	f.Script("m", fake.Fail(500))
	if _, err := f.Chat(t.Context(), chatReq("m", "x")); status(err) != 500 {
		t.Errorf("zero Provider after Script: error %v, want status 500", err)
	}
}

func TestCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		ctx := t.Context()
		start := time.Now()

		chat := chatReq("gpt-4o", "hi")
		chat.Header = http.Header{"X-Session-Id": {"abc"}}
		chat.RemoveHeader = []string{"X-Debug"}
		chat.Extra = map[string]any{"prompt_version_fqn": "p:1"}
		f.Chat(ctx, chat)

		time.Sleep(time.Second)
		comp := providers.CompletionRequest{Request: openai.CompletionRequest{Model: "davinci", Prompt: []string{"a"}}}
		f.Completion(ctx, comp)

		emb := providers.EmbeddingRequest{
			Request: openai.EmbeddingRequest{Model: "emb", Input: []string{"x"}},
			Call:    providers.Call{Header: http.Header{"X-Api-Version": {"2"}}},
		}
		f.Embed(ctx, emb)

		stream := chatReq("gpt-4o", "hi")
		stream.Request.Stream = true
		st, _ := f.ChatStream(ctx, stream)
		st.Close()

		// Changing the requests after the calls does not change the record.
		chat.Header.Set("X-Session-Id", "changed")
		chat.Request.Messages[0].Content = "changed"
		chat.Extra["prompt_version_fqn"] = "changed"
		comp.Request.Prompt.([]string)[0] = "changed"

		want := []fake.Call{
			{
				Op: providers.OpChat, Model: "gpt-4o", Chat: chatReq("gpt-4o", "hi").Request,
				Call: providers.Call{
					Header:       http.Header{"X-Session-Id": {"abc"}},
					RemoveHeader: []string{"X-Debug"},
					Extra:        map[string]any{"prompt_version_fqn": "p:1"},
				},
				Time: start,
			},
			{
				Op: providers.OpCompletion, Model: "davinci",
				Completion: openai.CompletionRequest{Model: "davinci", Prompt: []string{"a"}},
				Time:       start.Add(time.Second),
			},
			{
				Op: providers.OpEmbedding, Model: "emb",
				Embedding: openai.EmbeddingRequest{Model: "emb", Input: []string{"x"}},
				Call:      providers.Call{Header: http.Header{"X-Api-Version": {"2"}}},
				Time:      start.Add(time.Second),
			},
			{
				Op: providers.OpChat, Stream: true, Model: "gpt-4o", Chat: stream.Request,
				Time: start.Add(time.Second),
			},
		}
		got := f.Calls()
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("Calls (-got +want):\n%s", d)
		}

		// Changing what Calls returned does not change the record.
		got[0].Header.Set("X-Session-Id", "changed")
		got[0].Extra["prompt_version_fqn"] = "changed"
		got[0].Chat.Messages[0].Content = "changed"
		if d := cmp.Diff(f.Calls(), want); d != "" {
			t.Errorf("Calls after changing an earlier result (-got +want):\n%s", d)
		}

		counts := map[string]int{}
		for _, m := range []string{fake.AnyModel, "gpt-4o", "davinci", "emb", "other"} {
			counts[m] = f.CallCount(m)
		}
		if d := cmp.Diff(counts, map[string]int{"": 4, "gpt-4o": 2, "davinci": 1, "emb": 1, "other": 0}); d != "" {
			t.Errorf("CallCount (-got +want):\n%s", d)
		}
	})
}

func TestWaits(t *testing.T) {
	const (
		cancelAt = iota + 1
		deadlineAt
	)
	tests := []struct {
		name      string
		step      fake.Step
		ctxKind   int
		ctxAt     time.Duration
		wantErr   error
		wantAfter time.Duration
	}{
		{name: "delay then succeed", step: fake.Reply("ok").After(300 * time.Millisecond), wantAfter: 300 * time.Millisecond},
		{name: "delay then fail", step: fake.Fail(503).After(time.Second), wantErr: &providers.Error{Status: 503, Message: "Service Unavailable"}, wantAfter: time.Second},
		{name: "delay within deadline", step: fake.Reply("ok").After(time.Second), ctxKind: deadlineAt, ctxAt: 2 * time.Second, wantAfter: time.Second},
		{
			name: "delay past deadline", step: fake.Reply("ok").After(time.Second), ctxKind: deadlineAt, ctxAt: 100 * time.Millisecond,
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantAfter: 100 * time.Millisecond,
		},
		{
			name: "delay cancelled", step: fake.Reply("ok").After(time.Second), ctxKind: cancelAt, ctxAt: 250 * time.Millisecond,
			wantErr: context.Canceled, wantAfter: 250 * time.Millisecond,
		},
		{
			name: "hang until deadline", step: fake.Hang(), ctxKind: deadlineAt, ctxAt: 30 * time.Second,
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded}, wantAfter: 30 * time.Second,
		},
		{
			name: "hang until cancel", step: fake.Hang(), ctxKind: cancelAt, ctxAt: time.Minute,
			wantErr: context.Canceled, wantAfter: time.Minute,
		},
		{
			name: "done ctx, no delay", step: fake.Reply("ok"), ctxKind: cancelAt, ctxAt: 0,
			wantErr: context.Canceled,
		},
		{
			name: "deadline passed, no delay", step: fake.Fail(429), ctxKind: deadlineAt, ctxAt: 0,
			wantErr: &providers.Error{Status: 408, Err: context.DeadlineExceeded},
		},
	}
	ops := []struct {
		name string
		call func(ctx context.Context, f *fake.Provider) error
	}{
		{"chat", func(ctx context.Context, f *fake.Provider) error {
			_, err := f.Chat(ctx, chatReq("m", "x"))
			return err
		}},
		{"completion", func(ctx context.Context, f *fake.Provider) error {
			_, err := f.Completion(ctx, providers.CompletionRequest{Request: openai.CompletionRequest{Model: "m"}})
			return err
		}},
		{"embed", func(ctx context.Context, f *fake.Provider) error {
			_, err := f.Embed(ctx, providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "m", Input: "x"}})
			return err
		}},
		{"stream", func(ctx context.Context, f *fake.Provider) error {
			st, err := f.ChatStream(ctx, chatReq("m", "x"))
			if err == nil {
				st.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		for _, op := range ops {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx := t.Context()
					switch tt.ctxKind {
					case cancelAt:
						var cancel context.CancelFunc
						ctx, cancel = context.WithCancel(ctx)
						defer cancel()
						if tt.ctxAt == 0 {
							cancel()
						} else {
							time.AfterFunc(tt.ctxAt, cancel)
						}
					case deadlineAt:
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, tt.ctxAt)
						defer cancel()
						synctest.Wait() // let a zero timeout expire
					}
					f := fake.New()
					f.Script("m", tt.step)
					start := time.Now()
					err := op.call(ctx, f)
					if d := diffErr(err, tt.wantErr); d != "" {
						t.Errorf("error (-got +want):\n%s", d)
					}
					if got := time.Since(start); got != tt.wantAfter {
						t.Errorf("returned after %v, want %v", got, tt.wantAfter)
					}
				})
			})
		}
	}
}

func TestHangingCallIsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("silent", fake.Hang())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := f.Chat(ctx, chatReq("silent", "anyone?"))
			done <- err
		}()
		synctest.Wait()
		if n := f.CallCount("silent"); n != 1 {
			t.Errorf("while hanging: CallCount = %d, want 1", n)
		}
		select {
		case err := <-done:
			t.Fatalf("hanging call returned %v", err)
		default:
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("after cancel: error %v, want context.Canceled", err)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	const callers, failures = 64, 10
	f := fake.New()
	f.Script("m", fake.Fail(500).Times(failures), fake.Reply("ok"))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
	)
	for i := range callers {
		wg.Go(func() {
			var err error
			switch i % 4 {
			case 0:
				_, err = f.Chat(t.Context(), chatReq("m", "x"))
			case 1:
				_, err = f.Completion(t.Context(), providers.CompletionRequest{Request: openai.CompletionRequest{Model: "m"}})
			case 2:
				_, err = f.Embed(t.Context(), providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "m"}})
			case 3:
				var st providers.Stream
				st, err = f.ChatStream(t.Context(), chatReq("m", "x"))
				if err == nil {
					for {
						if _, err = st.Recv(); err != nil {
							break
						}
					}
					st.Close()
					if errors.Is(err, io.EOF) {
						err = nil
					}
				}
			}
			mu.Lock()
			counts[status(err)]++
			mu.Unlock()
		})
		// Readers and other scripts, concurrently with the calls.
		wg.Go(func() {
			_ = f.Calls()
			_ = f.CallCount("m")
			f.Script(fmt.Sprint("other-", i), fake.Reply("x"))
		})
	}
	wg.Wait()
	if d := cmp.Diff(counts, map[int]int{500: failures, 200: callers - failures}); d != "" {
		t.Errorf("outcomes by status (-got +want):\n%s", d)
	}
	if n := f.CallCount("m"); n != callers {
		t.Errorf("CallCount = %d, want %d", n, callers)
	}
	ids := map[string]bool{}
	f.Reset()
	for range callers {
		wg.Go(func() {
			resp, err := f.Chat(t.Context(), chatReq("n", "x"))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			ids[resp.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != callers {
		t.Errorf("%d distinct response IDs for %d calls", len(ids), callers)
	}
}

func TestWithout(t *testing.T) {
	tests := []struct {
		name string
		view func(f *fake.Provider) providers.Provider
		want []bool // completion, embedding, streaming
	}{
		{"nothing", func(f *fake.Provider) providers.Provider { return f.Without() }, []bool{true, true, true}},
		{"completions", func(f *fake.Provider) providers.Provider { return f.Without(fake.Completions) }, []bool{false, true, true}},
		{"embeddings", func(f *fake.Provider) providers.Provider { return f.Without(fake.Embeddings) }, []bool{true, false, true}},
		{"streaming", func(f *fake.Provider) providers.Provider { return f.Without(fake.Streaming) }, []bool{true, true, false}},
		{"completions and embeddings", func(f *fake.Provider) providers.Provider {
			return f.Without(fake.Completions, fake.Embeddings)
		}, []bool{false, false, true}},
		{"completions and streaming", func(f *fake.Provider) providers.Provider {
			return f.Without(fake.Completions | fake.Streaming)
		}, []bool{false, true, false}},
		{"embeddings and streaming", func(f *fake.Provider) providers.Provider {
			return f.Without(fake.Embeddings, fake.Streaming)
		}, []bool{true, false, false}},
		{"all", func(f *fake.Provider) providers.Provider {
			return f.Without(fake.Completions, fake.Embeddings, fake.Streaming)
		}, []bool{false, false, false}},
		{"chat only", (*fake.Provider).ChatOnly, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			f.Script("m", fake.Fail(503), fake.Reply("ok"))
			v := tt.view(f)
			_, streams := v.(providers.Streamer)
			got := []bool{providers.Supports(v, providers.OpCompletion), providers.Supports(v, providers.OpEmbedding), streams}
			if d := cmp.Diff(got, tt.want); d != "" {
				t.Errorf("completion, embedding, streaming supported (-got +want):\n%s", d)
			}
			if !providers.Supports(v, providers.OpChat) {
				t.Error("chat not supported")
			}
			ctx := t.Context()
			// The view shares the script and the record.
			_, err1 := v.Chat(ctx, chatReq("m", "x"))
			var err2 error
			if c, ok := v.(providers.Completer); ok {
				_, err2 = c.Completion(ctx, providers.CompletionRequest{Request: openai.CompletionRequest{Model: "m"}})
			} else if e, ok := v.(providers.Embedder); ok {
				_, err2 = e.Embed(ctx, providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Model: "m"}})
			} else if s, ok := v.(providers.Streamer); ok {
				var st providers.Stream
				st, err2 = s.ChatStream(ctx, chatReq("m", "x"))
				st.Close()
			} else {
				_, err2 = v.Chat(ctx, chatReq("m", "x"))
			}
			if d := cmp.Diff([]int{status(err1), status(err2)}, []int{503, 200}); d != "" {
				t.Errorf("statuses through the view (-got +want):\n%s", d)
			}
			if n := f.CallCount("m"); n != 2 {
				t.Errorf("CallCount = %d, want 2", n)
			}
		})
	}
}

func TestNilContextIsBackground(t *testing.T) {
	f := fake.New()
	// A nil context is the input under test.
	if _, err := f.Chat(nil, providers.ChatRequest{}); err != nil {
		t.Errorf("Chat(nil ctx) = %v, want the default reply", err)
	}
	st, err := f.ChatStream(nil, providers.ChatRequest{})
	if err != nil {
		t.Fatalf("ChatStream(nil ctx) = %v", err)
	}
	st.Close()
}
