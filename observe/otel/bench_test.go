package otel_test

import (
	"context"
	"io"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// instantProvider answers at once from memory, so that a benchmark
// measures the routing and the telemetry, nothing else.
type instantProvider struct {
	resp   openai.ChatCompletionResponse
	chunks []openai.ChatCompletionStreamResponse
}

func newInstantProvider(chunks int) *instantProvider {
	p := &instantProvider{resp: openai.ChatCompletionResponse{
		ID: "chatcmpl-1", Model: "m",
		Choices: []openai.ChatCompletionChoice{{Message: openai.ChatCompletionMessage{Role: "assistant", Content: "hi"}, FinishReason: "stop"}},
		Usage:   openai.Usage{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4},
	}}
	for i := range chunks {
		ch := openai.ChatCompletionStreamResponse{ID: "chatcmpl-1", Model: "m",
			Choices: []openai.ChatCompletionStreamChoice{{Delta: openai.ChatCompletionStreamChoiceDelta{Content: "x"}}}}
		if i == chunks-1 {
			ch.Choices[0].FinishReason = "stop"
		}
		p.chunks = append(p.chunks, ch)
	}
	return p
}

func (p *instantProvider) Chat(context.Context, providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	return p.resp, nil
}

func (p *instantProvider) ChatStream(context.Context, providers.ChatRequest) (providers.Stream, error) {
	return &instantStream{chunks: p.chunks}, nil
}

type instantStream struct {
	chunks []openai.ChatCompletionStreamResponse
	i      int
}

func (s *instantStream) Recv() (openai.ChatCompletionStreamResponse, error) {
	if s.i >= len(s.chunks) {
		return openai.ChatCompletionStreamResponse{}, io.EOF
	}
	s.i++
	return s.chunks[s.i-1], nil
}

func (s *instantStream) Close() error { return nil }

// discard is a span exporter that drops every span.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// observers are the telemetry set-ups the benchmarks compare: none, the
// Observer over no-op providers, and the Observer over the real SDK (a
// batching span processor with a discarding exporter, and a meter
// provider whose reader is never collected, so every record is
// aggregated as in production).
func observers(b *testing.B) []struct {
	name string
	opts []routing.Option
} {
	b.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return []struct {
		name string
		opts []routing.Option
	}{
		{"none", nil},
		{"noop", []routing.Option{routing.WithObserver(routeotel.New(
			routeotel.WithTracerProvider(tracenoop.NewTracerProvider()),
			routeotel.WithMeterProvider(metricnoop.NewMeterProvider())))}},
		{"sdk", []routing.Option{routing.WithObserver(routeotel.New(
			routeotel.WithTracerProvider(tp), routeotel.WithMeterProvider(mp)))}},
	}
}

func benchClient(b *testing.B, p providers.Provider, opts []routing.Option) *routing.Client {
	b.Helper()
	opts = append([]routing.Option{
		routing.WithProvider("acct", p),
		routing.WithGroup(routing.Group{Name: "app", Models: []routing.VirtualModel{{
			Name:    "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/m"}}},
		}}}),
	}, opts...)
	c, err := routing.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkChat is the success path of one chat call through a Client:
// one call span, one attempt span and their metrics.
//
//	go test -run '^$' -bench BenchmarkChat -benchmem ./observe/otel/
func BenchmarkChat(b *testing.B) {
	ctx := context.Background()
	req := chatReq()
	for _, o := range observers(b) {
		b.Run(o.name, func(b *testing.B) {
			c := benchClient(b, newInstantProvider(0), o.opts)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStream is one streamed call of 64 chunks through a Client,
// with the streaming metrics; ns/chunk is the cost of a chunk, the call's
// spans included.
//
//	go test -run '^$' -bench BenchmarkStream -benchmem ./observe/otel/
func BenchmarkStream(b *testing.B) {
	const chunks = 64
	ctx := context.Background()
	req := chatReq()
	for _, o := range observers(b) {
		b.Run(o.name, func(b *testing.B) {
			c := benchClient(b, newInstantProvider(chunks), o.opts)
			b.ReportAllocs()
			for b.Loop() {
				s, err := c.ChatStream(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := s.Recv(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				s.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunks), "ns/chunk")
		})
	}
}

// BenchmarkStreamChunk is the Observer's own cost of one chunk, recording
// the time per output chunk into the real SDK: it must not allocate.
//
//	go test -run '^$' -bench BenchmarkStreamChunk -benchmem ./observe/otel/
func BenchmarkStreamChunk(b *testing.B) {
	r := newRig(b)
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	a.Stream = true
	actx := r.o.StartAttempt(r.o.StartCall(context.Background(), call), a)
	r.o.StreamChunk(actx, a)
	b.ReportAllocs()
	for b.Loop() {
		r.o.StreamChunk(actx, a)
	}
}
