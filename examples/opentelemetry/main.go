// Command opentelemetry shows the OpenTelemetry traces of a routed call:
// the virtual model "support/chat" tries its primary, which fails with a
// 500, retries it once, and falls back to its backup, which answers. It
// prints the spans as the OpenTelemetry stdout exporter writes them (one
// JSON document per span), then the same spans as a tree:
//
//	go run ./examples/opentelemetry
//
// The call is one INTERNAL span, "chat support/chat", whose status is what
// the caller saw (unset: the backup served); each attempt is a CLIENT
// child span named after the model it called, carrying the GenAI
// attributes (gen_ai.provider.name, gen_ai.request.model, usage, response
// model), error.type and ERROR status when it failed, and llmroute's own
// (target, try, reason, class, the back-off slept before it).
//
// The providers are scripted fakes (package providers/fake): no network
// and no API key. In a service, register real accounts (providers/openai
// and the others) the same way and point the TracerProvider at your
// collector, for example with the OTLP exporter:
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(otlpExporter))
//	c, err := routing.New(..., routing.WithObserver(routeotel.New(
//		routeotel.WithTracerProvider(tp), routeotel.WithMeterProvider(mp))))
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

func main() {
	if err := run(os.Stdout, true); err != nil {
		fmt.Fprintln(os.Stderr, "opentelemetry:", err)
		os.Exit(1)
	}
}

// run makes one call that retries and falls back, and prints its spans to
// w: as the stdout exporter writes them when withJSON is set, then as a
// tree, then the promise.
func run(w io.Writer, withJSON bool) error {
	ctx := context.Background()
	mem := tracetest.NewInMemoryExporter()
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSyncer(mem)}
	if withJSON {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return err
		}
		opts = append(opts, sdktrace.WithSyncer(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	defer tp.Shutdown(ctx)

	f := fake.New()
	f.Script("gpt-4o", fake.Fail(500).WithMessage("internal server error"))
	f.Script("gpt-4o-mini", fake.Reply("Your order ships tomorrow.").WithUsage(12, 6))
	c, err := routing.New(
		routing.WithProvider("acct", f),
		routing.WithRand(routing.SeededRand(1)),
		routing.WithObserver(routeotel.New(routeotel.WithTracerProvider(tp))),
		routing.WithGroup(routing.Group{
			Name: "support",
			Models: []routing.VirtualModel{{
				Name: "chat",
				Routing: routing.RoutingConfig{
					Type: routing.PriorityBased,
					Targets: []target.Target{
						// One retry on the primary, 100 ms later
						// (with jitter), then the backup.
						{Ref: "acct/gpt-4o", Priority: 0, Retry: &target.Retry{Attempts: 1, Delay: 100 * time.Millisecond}},
						{Ref: "acct/gpt-4o-mini", Priority: 1},
					},
				},
			}},
		}),
	)
	if err != nil {
		return err
	}
	resp, err := c.Chat(ctx, goopenai.ChatCompletionRequest{
		Model:    "support/chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Where is my order?"}},
	})
	if err != nil {
		return err
	}

	spans := mem.GetSpans()
	fmt.Fprintf(w, "\nanswer: %q\n\nspans:\n", resp.Choices[0].Message.Content)
	printTree(w, spans)
	fmt.Fprintln(w)
	fmt.Fprintln(w, promise(spans))
	return nil
}

// treeKeys are the attributes the tree shows, in this order.
var treeKeys = []attribute.Key{
	routeotel.ErrorTypeKey, routeotel.GenAIProviderNameKey, routeotel.TargetKey, routeotel.TryKey,
	routeotel.ReasonKey, routeotel.ClassKey, routeotel.WaitKey,
	routeotel.GenAIResponseModelKey, routeotel.GenAIUsageInputTokensKey, routeotel.GenAIUsageOutputTokensKey,
	routeotel.AttemptsKey, routeotel.RetriesKey, routeotel.FallbacksKey, routeotel.ResolvedKey,
}

// printTree prints each root span and its children, one line each: name,
// kind, status and the attributes of treeKeys it has.
func printTree(w io.Writer, spans tracetest.SpanStubs) {
	for _, root := range spans {
		if root.Parent.IsValid() {
			continue
		}
		fmt.Fprintln(w, line(root))
		var children tracetest.SpanStubs
		for _, s := range spans {
			if s.Parent.SpanID() == root.SpanContext.SpanID() {
				children = append(children, s)
			}
		}
		for i, s := range children {
			branch := "├─ "
			if i == len(children)-1 {
				branch = "└─ "
			}
			fmt.Fprintln(w, branch+line(s))
		}
	}
}

func line(s tracetest.SpanStub) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s, %s]", s.Name, s.SpanKind, status(s.Status.Code))
	for _, k := range treeKeys {
		i := slices.IndexFunc(s.Attributes, func(kv attribute.KeyValue) bool { return kv.Key == k })
		if i < 0 {
			continue
		}
		v := s.Attributes[i].Value
		if k == routeotel.WaitKey {
			fmt.Fprintf(&b, " %s=%.3fs", k, v.AsFloat64())
			continue
		}
		fmt.Fprintf(&b, " %s=%s", k, v.Emit())
	}
	return b.String()
}

func status(c codes.Code) string {
	switch c {
	case codes.Error:
		return "ERROR"
	case codes.Ok:
		return "OK"
	}
	return "unset"
}

// promise checks the spans against what the example shows and says it in
// one line.
func promise(spans tracetest.SpanStubs) string {
	var call *tracetest.SpanStub
	var failed, served []string
	for i := range spans {
		s := &spans[i]
		if !s.Parent.IsValid() {
			call = s
			continue
		}
		if s.Status.Code == codes.Error {
			for _, kv := range s.Attributes {
				if kv.Key == routeotel.ErrorTypeKey {
					failed = append(failed, kv.Value.AsString())
				}
			}
			continue
		}
		for _, kv := range s.Attributes {
			if kv.Key == routeotel.TargetKey {
				served = append(served, kv.Value.AsString())
			}
		}
	}
	if call == nil || call.Status.Code == codes.Error || len(served) != 1 {
		return "the spans do not show a call served after failed attempts"
	}
	return fmt.Sprintf("one call span (%s) over %d attempt spans: %d in ERROR (error.type %s), then %s served; the call span is not in error",
		call.Name, len(failed)+len(served), len(failed), strings.Join(slices.Compact(failed), ", "), served[0])
}
