package otel_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// These tests run calls through a routing.Client with the Observer
// registered, in virtual time, and read what reached the SDK.

// newClient builds a Client over one fake account "acct" serving group
// "app" with the chat model "chat" routed by priority over targets.
func newClient(t testing.TB, o routing.Observer, f providers.Provider, targets ...target.Target) *routing.Client {
	t.Helper()
	for i := range targets {
		targets[i].Priority = i
	}
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithRand(func() float64 { return 0.5 }),
		routing.WithObserver(o),
		routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{{
			Name:    "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: targets},
		}}}),
	)
	if err != nil {
		t.Fatalf("routing.New: %v", err)
	}
	return c
}

func chatReq() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:    "app/chat",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello there"}},
	}
}

// spanShape is what TestClient* compare of each span.
type spanShape struct {
	Name   string
	Kind   trace.SpanKind
	Parent string // the parent's name, "" for a root
	Status codes.Code
	Attrs  map[string]any
}

// shapes renders the ended spans as a tree walk: each root (in the order
// the roots ended), then its children in the order they ended, which for
// a call's attempts is the order they were made. Only the listed
// attributes are kept.
func shapes(spans []sdktrace.ReadOnlySpan, keys ...string) []spanShape {
	byID := map[trace.SpanID]string{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s.Name()
	}
	shape := func(s sdktrace.ReadOnlySpan) spanShape {
		all := attrs(s.Attributes())
		kept := map[string]any{}
		for _, k := range keys {
			if v, ok := all[k]; ok {
				kept[k] = v
			}
		}
		return spanShape{Name: s.Name(), Kind: s.SpanKind(), Parent: byID[s.Parent().SpanID()], Status: s.Status().Code, Attrs: kept}
	}
	var out []spanShape
	for _, root := range spans {
		if root.Parent().IsValid() {
			continue
		}
		out = append(out, shape(root))
		for _, s := range spans {
			if s.Parent().SpanID() == root.SpanContext().SpanID() {
				out = append(out, shape(s))
			}
		}
	}
	return out
}

// TestClientRetryThenFallback: target A fails with 500 twice (one retry),
// then the fallback B serves: one call span, three attempt spans in
// order, the failed ones in error with error.type, the serving one with
// usage and response model, the call span not in error.
func TestClientRetryThenFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		f := fake.New()
		f.Script("model-a", fake.Fail(500).WithMessage("upstream broke"))
		f.Script("model-b", fake.Reply("hi").WithUsage(10, 3))
		c := newClient(t, r.o, f,
			target.Target{Ref: "acct/model-a", Retry: &target.Retry{Attempts: 1, Delay: 100 * time.Millisecond}},
			target.Target{Ref: "acct/model-b"})

		resp, err := c.Chat(context.Background(), chatReq())
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		if got, want := resp.Choices[0].Message.Content, "hi"; got != want {
			t.Fatalf("answer: got %q, want %q", got, want)
		}

		got := shapes(r.spans(), "error.type", "llmroute.class", "llmroute.try", "llmroute.reason", "llmroute.wait",
			"gen_ai.response.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.provider.name",
			"llmroute.attempts", "llmroute.retries", "llmroute.fallbacks", "llmroute.resolved", "gen_ai.response.finish_reasons")
		want := []spanShape{
			{Name: "chat app/chat", Kind: trace.SpanKindInternal, Status: codes.Unset, Attrs: map[string]any{
				"llmroute.attempts": int64(3), "llmroute.retries": int64(1), "llmroute.fallbacks": int64(1),
				"llmroute.resolved": "acct/model-b", "gen_ai.response.model": "model-b",
			}},
			{Name: "chat model-a", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Error, Attrs: map[string]any{
				"error.type": "500", "llmroute.class": "retry", "llmroute.try": int64(1), "llmroute.reason": "picked",
				"gen_ai.provider.name": "fake",
			}},
			{Name: "chat model-a", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Error, Attrs: map[string]any{
				"error.type": "500", "llmroute.class": "fallback", "llmroute.try": int64(2), "llmroute.reason": "picked",
				"llmroute.wait": 0.1, "gen_ai.provider.name": "fake",
			}},
			{Name: "chat model-b", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Unset, Attrs: map[string]any{
				"llmroute.class": "ok", "llmroute.try": int64(1), "llmroute.reason": "fallback",
				"gen_ai.response.model": "model-b", "gen_ai.usage.input_tokens": int64(10), "gen_ai.usage.output_tokens": int64(3),
				"gen_ai.provider.name": "fake", "gen_ai.response.finish_reasons": []string{"stop"},
			}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("spans (-got +want):\n%s", diff)
		}

		ms := r.metrics(t)
		pts := histPoints(t, ms[routeotel.MetricOperationDuration])
		var failed, served uint64
		for _, p := range pts {
			if v, ok := p.Attributes.Value("error.type"); ok && v.AsString() == "500" {
				failed += p.Count
			} else {
				served += p.Count
			}
		}
		if failed != 2 || served != 1 {
			t.Errorf("%s: got %d failed and %d served attempts, want 2 and 1", routeotel.MetricOperationDuration, failed, served)
		}
		if got := sumPoints(t, ms[routeotel.MetricRetries]); len(got) != 1 {
			t.Errorf("%s: got %v, want one series", routeotel.MetricRetries, got)
		}
	})
}

// TestClientProviderContext: the context the provider is given carries
// the attempt's span.
func TestClientProviderContext(t *testing.T) {
	r := newRig(t)
	p := &spyProvider{}
	c := newClient(t, r.o, p, target.Target{Ref: "acct/m"})
	if _, err := c.Chat(context.Background(), chatReq()); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	attempt := spanNamed(t, r.spans(), "chat m")
	if got, want := p.sc.SpanID(), attempt.SpanContext().SpanID(); got != want {
		t.Errorf("span in the provider's context: got %v, want the attempt's %v", got, want)
	}
	if !p.sc.IsSampled() {
		t.Errorf("the provider's span context is not sampled")
	}
	if got := attrs(attempt.Attributes())["gen_ai.provider.name"]; got != "acct" {
		t.Errorf("gen_ai.provider.name of a provider that does not describe itself: got %v, want the account, acct", got)
	}
}

// spyProvider records the span context it was called with.
type spyProvider struct{ sc trace.SpanContext }

func (p *spyProvider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	p.sc = trace.SpanContextFromContext(ctx)
	return openai.ChatCompletionResponse{ID: "x", Model: req.Request.Model, Choices: []openai.ChatCompletionChoice{{FinishReason: "stop"}}}, nil
}

// TestClientStream: a stream's call span ends at io.EOF, not before, with
// its time to first chunk recorded.
func TestClientStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		f := fake.New()
		f.Script("m", fake.Stream("Hel", "lo", "!").FirstChunkAfter(300*time.Millisecond).Every(10*time.Millisecond).WithUsage(4, 3))
		c := newClient(t, r.o, f, target.Target{Ref: "acct/m"})
		req := chatReq()
		req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		s, err := c.ChatStream(context.Background(), req)
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer s.Close()
		chunks := 0
		for {
			_, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			chunks++
			if n := len(r.spans()); n != 0 {
				t.Fatalf("%d spans ended before io.EOF", n)
			}
		}
		spans := r.spans()
		if got := len(spans); got != 2 {
			t.Fatalf("got %d spans %v after io.EOF, want 2", got, names(spans))
		}
		call := spanNamed(t, spans, "chat app/chat")
		if got := call.Status().Code; got != codes.Unset {
			t.Errorf("call span status: got %v, want unset", got)
		}
		at := attrs(spanNamed(t, spans, "chat m").Attributes())
		// The role chunk comes after 300ms, the first content 10ms
		// later: the time to first chunk is the Client's, to content.
		if got, want := at["gen_ai.response.time_to_first_chunk"], any(0.31); got != want {
			t.Errorf("time to first chunk: got %v, want %v (virtual time)", got, want)
		}
		if got, want := at["gen_ai.usage.output_tokens"], any(int64(3)); got != want {
			t.Errorf("output tokens: got %v, want %v", got, want)
		}
		if got, want := at["gen_ai.usage.input_tokens"], any(int64(4)); got != want {
			t.Errorf("input tokens: got %v, want %v", got, want)
		}
		ms := r.metrics(t)
		ttfc := histPoints(t, ms[routeotel.MetricTimeToFirstChunk])
		if len(ttfc) != 1 || ttfc[0].Count != 1 || ttfc[0].Sum != 0.31 {
			t.Errorf("%s: got %+v, want one record of 0.31 s", routeotel.MetricTimeToFirstChunk, ttfc)
		}
		tpoc := histPoints(t, ms[routeotel.MetricTimePerOutputChunk])
		if len(tpoc) != 1 || tpoc[0].Count != uint64(chunks-1) {
			t.Errorf("%s: got %+v, want %d records (one per chunk after the first)", routeotel.MetricTimePerOutputChunk, tpoc, chunks-1)
		}
	})
}

// TestClientInterruptedStream: a stream cut after its first chunks ends
// its call span with the interruption's error type.
func TestClientInterruptedStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		f := fake.New()
		f.Script("m", fake.Stream("a", "b", "c", "d").CutAfter(2))
		c := newClient(t, r.o, f, target.Target{Ref: "acct/m"})
		s, err := c.ChatStream(context.Background(), chatReq())
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer s.Close()
		for err == nil {
			_, err = s.Recv()
		}
		if !errors.Is(err, routing.ErrStreamInterrupted) {
			t.Fatalf("Recv: got %v, want ErrStreamInterrupted", err)
		}
		got := shapes(r.spans(), "error.type", "llmroute.class")
		want := []spanShape{
			{Name: "chat app/chat", Kind: trace.SpanKindInternal, Status: codes.Error, Attrs: map[string]any{"error.type": "stream_truncated"}},
			{Name: "chat m", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Error, Attrs: map[string]any{
				"error.type": "stream_truncated", "llmroute.class": "interrupted",
			}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("spans (-got +want):\n%s", diff)
		}
		if got, want := spanNamed(t, r.spans(), "chat app/chat").Status().Description, err.Error(); got != want {
			t.Errorf("call span status description: got %q, want the caller's error %q", got, want)
		}
		if got := sumPoints(t, r.metrics(t)[routeotel.MetricStreamInterruptions]); len(got) != 1 {
			t.Errorf("%s: got %v, want one interruption", routeotel.MetricStreamInterruptions, got)
		}
	})
}

// TestClientStreamRestart: an interrupted stream restarted on the next
// target is one call with two attempts and one restart.
func TestClientStreamRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		f := fake.New()
		f.Script("a", fake.Stream("x", "y", "z").CutAfter(1))
		f.Script("b", fake.Stream("1", "2"))
		c := newClient(t, r.o, f, target.Target{Ref: "acct/a"}, target.Target{Ref: "acct/b"})
		s, err := c.ChatStream(context.Background(), chatReq(), routing.RestartOnInterrupt(true))
		if err != nil {
			t.Fatalf("ChatStream: %v", err)
		}
		defer s.Close()
		for {
			_, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil && !errors.Is(err, routing.ErrStreamRestarted) {
				t.Fatalf("Recv: %v", err)
			}
		}
		got := shapes(r.spans(), "error.type", "llmroute.class", "llmroute.restarts", "llmroute.resolved")
		want := []spanShape{
			{Name: "chat app/chat", Kind: trace.SpanKindInternal, Status: codes.Unset, Attrs: map[string]any{
				"llmroute.restarts": int64(1), "llmroute.resolved": "acct/b",
			}},
			{Name: "chat a", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Error, Attrs: map[string]any{
				"error.type": "stream_truncated", "llmroute.class": "interrupted",
			}},
			{Name: "chat b", Kind: trace.SpanKindClient, Parent: "chat app/chat", Status: codes.Unset, Attrs: map[string]any{"llmroute.class": "ok"}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("spans (-got +want):\n%s", diff)
		}
		ms := r.metrics(t)
		for _, name := range []string{routeotel.MetricStreamRestarts, routeotel.MetricStreamInterruptions} {
			if got := sumPoints(t, ms[name]); len(got) != 1 {
				t.Errorf("%s: got %v, want one series", name, got)
			}
		}
	})
}

// TestClientEnds covers calls that end other than by an answer: each
// ends its call span (and any attempt span) in error with the documented
// error.type.
func TestClientEnds(t *testing.T) {
	for _, tt := range []struct {
		name     string
		call     func(ctx context.Context, c *routing.Client) error
		wantCall string
		wantTry  string // "" for no attempt span
	}{
		{
			name: "unknown model",
			call: func(ctx context.Context, c *routing.Client) error {
				req := chatReq()
				req.Model = "app/nope"
				_, err := c.Chat(ctx, req)
				return err
			},
			wantCall: "unknown_model",
		},
		{
			name: "cancelled while the provider hangs",
			call: func(ctx context.Context, c *routing.Client) error {
				ctx, cancel := context.WithCancel(ctx)
				go func() {
					time.Sleep(time.Second)
					cancel()
				}()
				req := chatReq()
				req.Model = "app/hang"
				_, err := c.Chat(ctx, req)
				return err
			},
			wantCall: "canceled", wantTry: "canceled",
		},
		{
			name: "deadline while the provider hangs",
			call: func(ctx context.Context, c *routing.Client) error {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				req := chatReq()
				req.Model = "app/hang"
				_, err := c.Chat(ctx, req)
				return err
			},
			wantCall: "timeout", wantTry: "timeout",
		},
		{
			name: "stream closed before its end",
			call: func(ctx context.Context, c *routing.Client) error {
				s, err := c.ChatStream(ctx, chatReq())
				if err != nil {
					return err
				}
				if _, err := s.Recv(); err != nil {
					return err
				}
				s.Close()
				_, err = s.Recv()
				return err
			},
			wantCall: "canceled", wantTry: "canceled",
		},
		{
			name: "invalid header",
			call: func(ctx context.Context, c *routing.Client) error {
				_, err := c.Chat(routing.WithHeaders(ctx, map[string][]string{"Bad Name": {"x"}}), chatReq())
				return err
			},
			wantCall: "invalid_request",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t)
				f := fake.New()
				f.Script("m", fake.Stream("a", "b", "c"))
				f.Script("hang", fake.Hang())
				c, err := routing.New(
					routing.WithProvider("acct", f),
					routing.WithObserver(r.o),
					routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{
						{Name: "chat", Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/m"}}}},
						{Name: "hang", Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/hang"}}}},
					}}),
				)
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.call(context.Background(), c); err == nil {
					t.Fatal("the call succeeded")
				}
				var call, try sdktrace.ReadOnlySpan
				for _, s := range r.spans() {
					if s.SpanKind() == trace.SpanKindInternal {
						call = s
					} else {
						try = s
					}
				}
				if call == nil {
					t.Fatalf("no call span among %v", names(r.spans()))
				}
				if got := attrs(call.Attributes())["error.type"]; got != tt.wantCall || call.Status().Code != codes.Error {
					t.Errorf("call span: got error.type %v, status %v; want %v, Error", got, call.Status().Code, tt.wantCall)
				}
				switch {
				case tt.wantTry == "" && try != nil:
					t.Errorf("an attempt span %q for a call that made none", try.Name())
				case tt.wantTry != "" && try == nil:
					t.Errorf("no attempt span")
				case try != nil:
					if got := attrs(try.Attributes())["error.type"]; got != tt.wantTry || try.Status().Code != codes.Error {
						t.Errorf("attempt span: got error.type %v, status %v; want %v, Error", got, try.Status().Code, tt.wantTry)
					}
				}
			})
		})
	}
}

// TestClientEmbeddingAndCompletion: the other operations are named after
// the conventions.
func TestClientEmbeddingAndCompletion(t *testing.T) {
	r := newRig(t)
	f := fake.New()
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithObserver(r.o),
		routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{
			{Name: "emb", ModelTypes: []routing.ModelType{routing.Embedding},
				Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/e"}}}},
			{Name: "txt", ModelTypes: []routing.ModelType{routing.Completion},
				Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/t"}}}},
		}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Embed(ctx, openai.EmbeddingRequest{Model: "app/emb", Input: "hi", Dimensions: 4}); err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if _, err := c.Completion(ctx, openai.CompletionRequest{Model: "app/txt", Prompt: "hi", MaxTokens: 9}); err != nil {
		t.Fatalf("Completion: %v", err)
	}
	got := shapes(r.spans(), "gen_ai.operation.name", "gen_ai.embeddings.dimension.count", "gen_ai.request.max_tokens", "gen_ai.usage.input_tokens")
	want := []spanShape{
		{Name: "embeddings app/emb", Kind: trace.SpanKindInternal, Attrs: map[string]any{"gen_ai.operation.name": "embeddings"}},
		{Name: "embeddings e", Kind: trace.SpanKindClient, Parent: "embeddings app/emb", Attrs: map[string]any{
			"gen_ai.operation.name": "embeddings", "gen_ai.embeddings.dimension.count": int64(4), "gen_ai.usage.input_tokens": int64(1),
		}},
		{Name: "text_completion app/txt", Kind: trace.SpanKindInternal, Attrs: map[string]any{"gen_ai.operation.name": "text_completion"}},
		{Name: "text_completion t", Kind: trace.SpanKindClient, Parent: "text_completion app/txt", Attrs: map[string]any{
			"gen_ai.operation.name": "text_completion", "gen_ai.request.max_tokens": int64(9), "gen_ai.usage.input_tokens": int64(1),
		}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("spans (-got +want):\n%s", diff)
	}
	// Embeddings report input tokens only.
	for _, p := range intHistPoints(t, r.metrics(t)[routeotel.MetricTokenUsage]) {
		op, _ := p.Attributes.Value("gen_ai.operation.name")
		typ, _ := p.Attributes.Value("gen_ai.token.type")
		if op.AsString() == "embeddings" && typ.AsString() == "output" {
			t.Errorf("output tokens recorded for embeddings")
		}
	}
}
