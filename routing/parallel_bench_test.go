package routing_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/llmroute/llmroute/internal/benchcpu"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// BenchmarkChatParallel measures the routing layer under contention:
// chat calls from 8 and 64 goroutines at once through one Client, on a
// virtual model of two targets over a provider that answers at once, for
// each routing type, and for weight-based routing with sticky sessions
// in the in-memory store (1,024 sessions, each goroutine walking them
// from its own offset). ns/op is wall time per call over all goroutines;
// cpu-ns/op is the CPU time the process spent per call.
//
//	go test -run '^$' -bench BenchmarkChatParallel -benchmem -count 5 ./routing/
func BenchmarkChatParallel(b *testing.B) {
	for _, kind := range []string{"weight", "priority", "latency", "sticky"} {
		for _, goroutines := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", kind, goroutines), func(b *testing.B) {
				benchParallel(b, kind, goroutines)
			})
		}
	}
}

func benchParallel(b *testing.B, kind string, goroutines int) {
	ts := []target.Target{{Ref: coreRef("a")}, {Ref: coreRef("b")}}
	var rc routing.RoutingConfig
	switch kind {
	case "priority":
		rc = corePriority(ts...)
	case "latency":
		rc = routing.RoutingConfig{Type: routing.LatencyBased, Targets: ts}
	default:
		ts[0].Weight, ts[1].Weight = 50, 50
		rc = coreWeighted(ts...)
	}
	ctxs := []context.Context{context.Background()}
	if kind == "sticky" {
		rc.Sticky = stickyGroup().Models[0].Routing.Sticky
		ctxs = make([]context.Context, 1024)
		for i := range ctxs {
			ctxs[i] = sessionCtx(context.Background(), fmt.Sprintf("session-%d", i), "alice")
		}
	}
	c := coreClient(b, routing.WithProvider(coreAcct, benchProvider{}), routing.WithGroup(coreGroup(rc)))
	req := coreReq(coreModel)
	// Warm up: pin every session and give latency routing its samples.
	for _, ctx := range ctxs {
		for range 4 {
			if _, err := c.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	var worker atomic.Int64
	b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	defer benchcpu.Start(b)()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) * 97
		for pb.Next() {
			if _, err := c.Chat(ctxs[i%len(ctxs)], req); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
