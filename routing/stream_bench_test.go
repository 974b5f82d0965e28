package routing_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// BenchmarkStream compares reading a whole streamed answer directly with
// go-openai and through a routed Client (the OpenAI adapter, the commit
// gate, per-chunk accounting and the idle timer), against the same
// loopback server in one run. It reports the cost per chunk and the time
// to the first chunk.
func BenchmarkStream(b *testing.B) {
	const chunks = 200
	var body strings.Builder
	body.WriteString(sseChunk("m", "", ""))
	for range chunks {
		body.WriteString(sseChunk("m", "token ", ""))
	}
	body.WriteString(sseChunk("m", "", "stop"))
	body.WriteString(done)
	payload := body.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, payload)
	}))
	b.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	cfg := goopenai.DefaultConfig("sk-bench")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: transport}
	ctx := context.Background()
	req := goopenai.ChatCompletionRequest{Model: "m", Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}

	b.Run("direct", func(b *testing.B) {
		client := goopenai.NewClientWithConfig(cfg)
		r := req
		r.Stream = true
		readStreams(b, func() (chunkStream, error) { return client.CreateChatCompletionStream(ctx, r) })
	})
	b.Run("routed", func(b *testing.B) {
		c, err := routing.New(routing.WithProvider("oai", oai.New(cfg)), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type:    routing.PriorityBased,
				Targets: []target.Target{{Ref: "oai/m", StreamIdleTimeout: 10 * time.Second}},
			}}},
		}))
		if err != nil {
			b.Fatal(err)
		}
		r := req
		r.Model = "grp/chat"
		readStreams(b, func() (chunkStream, error) { return c.ChatStream(ctx, r) })
	})
}

// chunkStream is what go-openai's stream and a routed Stream have in
// common.
type chunkStream interface {
	Recv() (goopenai.ChatCompletionStreamResponse, error)
	Close() error
}

// readStreams opens and reads a whole stream per iteration, and reports
// the time per chunk and the time to the first chunk.
func readStreams(b *testing.B, open func() (chunkStream, error)) {
	b.ReportAllocs()
	var ttft time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		st, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for first := true; ; first = false {
			_, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if first {
				ttft += time.Since(start)
			}
			n++
		}
		st.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/chunk")
	b.ReportMetric(float64(ttft.Nanoseconds())/float64(b.N), "ns-ttft/op")
}

// memStream replays prepared chunks with no I/O, so the routed-minus-direct
// difference is the routing layer's own per-chunk cost.
type memStream struct {
	chunks []goopenai.ChatCompletionStreamResponse
	i      int
}

func (s *memStream) Recv() (goopenai.ChatCompletionStreamResponse, error) {
	if s.i == len(s.chunks) {
		return goopenai.ChatCompletionStreamResponse{}, io.EOF
	}
	s.i++
	return s.chunks[s.i-1], nil
}

func (s *memStream) Close() error { return nil }

type memStreamer struct {
	chunks []goopenai.ChatCompletionStreamResponse
}

func (p memStreamer) Chat(context.Context, providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	return goopenai.ChatCompletionResponse{}, nil
}

func (p memStreamer) ChatStream(context.Context, providers.ChatRequest) (providers.Stream, error) {
	return &memStream{chunks: p.chunks}, nil
}

// BenchmarkStreamGate measures the routing layer alone per chunk: the same
// in-memory stream read directly and through a Client.
func BenchmarkStreamGate(b *testing.B) {
	const n = 1000
	chunks := make([]goopenai.ChatCompletionStreamResponse, n)
	for i := range chunks {
		chunks[i] = goopenai.ChatCompletionStreamResponse{Model: "m", Choices: []goopenai.ChatCompletionStreamChoice{{Delta: goopenai.ChatCompletionStreamChoiceDelta{Content: "token "}}}}
	}
	chunks[n-1].Choices[0].FinishReason = "stop"
	p := memStreamer{chunks: chunks}
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st, _ := p.ChatStream(ctx, providers.ChatRequest{})
			for {
				if _, err := st.Recv(); err != nil {
					break
				}
			}
			st.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/chunk")
	})
	b.Run("routed", func(b *testing.B) {
		c, err := routing.New(routing.WithProvider("mem", p), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type:    routing.PriorityBased,
				Targets: []target.Target{{Ref: "mem/m", StreamIdleTimeout: 10 * time.Second}},
			}}},
		}))
		if err != nil {
			b.Fatal(err)
		}
		req := goopenai.ChatCompletionRequest{Model: "grp/chat"}
		b.ReportAllocs()
		for b.Loop() {
			st, err := c.ChatStream(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := st.Recv(); err != nil {
					break
				}
			}
			st.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/chunk")
	})
}
