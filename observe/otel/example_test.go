package otel_test

import (
	"context"
	"fmt"
	"time"

	openai "github.com/sashabaranov/go-openai"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// A call whose first target fails twice and whose fallback serves: one
// call span, one child span per attempt.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	f := fake.New()
	f.Script("gpt-4o", fake.Fail(500))
	f.Script("gpt-4o-mini", fake.Reply("hello").WithUsage(9, 2))
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithObserver(routeotel.New(routeotel.WithTracerProvider(tp))),
		routing.WithGroup(routing.Group{Name: "support", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/gpt-4o", Priority: 0, Retry: &target.Retry{Attempts: 1, Delay: time.Millisecond}},
				{Ref: "acct/gpt-4o-mini", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Chat(context.Background(), openai.ChatCompletionRequest{
		Model:    "support/chat",
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "Where is my order?"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range spans.Ended() {
		errType := ""
		for _, kv := range s.Attributes() {
			if kv.Key == routeotel.ErrorTypeKey {
				errType = " error.type=" + kv.Value.AsString()
			}
		}
		fmt.Printf("%s (%s) %s%s\n", s.Name(), s.SpanKind(), s.Status().Code, errType)
	}
	// Output:
	// chat gpt-4o (client) Error error.type=500
	// chat gpt-4o (client) Error error.type=500
	// chat gpt-4o-mini (client) Unset
	// chat support/chat (internal) Unset
}

// Metrics go to the MeterProvider: here a manual reader collects the
// attempts' durations, by outcome, and the targets' health changes. After
// two failures the first target is demoted: the third call goes straight
// to the second.
func ExampleWithMeterProvider() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	f := fake.New()
	f.Script("gpt-4o", fake.Fail(503).WithCode("overloaded_error"))
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithObserver(routeotel.New(routeotel.WithMeterProvider(mp))),
		routing.WithGroup(routing.Group{Name: "support", Models: []routing.VirtualModel{{
			Name: "chat",
			Routing: routing.RoutingConfig{Type: routing.PriorityBased, Targets: []target.Target{
				{Ref: "acct/gpt-4o", Priority: 0, Retry: &target.Retry{Attempts: 0}},
				{Ref: "acct/gpt-4o-mini", Priority: 1},
			}},
		}}}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	req := openai.ChatCompletionRequest{Model: "support/chat", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}
	for range 3 {
		if _, err := c.Chat(context.Background(), req); err != nil {
			fmt.Println(err)
			return
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch m.Name {
		case routeotel.MetricOperationDuration:
			for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				model, _ := p.Attributes.Value(routeotel.GenAIRequestModelKey)
				errType, _ := p.Attributes.Value(routeotel.ErrorTypeKey)
				fmt.Printf("%s model=%s error.type=%q count=%d\n", m.Name, model.AsString(), errType.AsString(), p.Count)
			}
		case routeotel.MetricHealthChanges:
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				tgt, _ := p.Attributes.Value(routeotel.TargetKey)
				change, _ := p.Attributes.Value(routeotel.HealthKey)
				fmt.Printf("%s target=%s change=%s count=%d\n", m.Name, tgt.AsString(), change.AsString(), p.Value)
			}
		}
	}
	// Unordered output:
	// gen_ai.client.operation.duration model=gpt-4o error.type="overloaded_error" count=2
	// gen_ai.client.operation.duration model=gpt-4o-mini error.type="" count=3
	// llmroute.health.changes target=acct/gpt-4o change=demoted count=1
}
