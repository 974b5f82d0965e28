package otel_test

import (
	"context"
	"sort"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	routeotel "github.com/llmroute/llmroute/observe/otel"
)

// Every provider, server and stream the tests make is shut down at
// cleanup, so no goroutine may be left at the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// rig is an Observer recording into an in-memory span recorder and a
// manual metric reader.
type rig struct {
	o  *routeotel.Observer
	tp *sdktrace.TracerProvider
	sr *tracetest.SpanRecorder
	rd *sdkmetric.ManualReader
}

func newRig(t testing.TB, opts ...routeotel.Option) *rig {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	opts = append([]routeotel.Option{routeotel.WithTracerProvider(tp), routeotel.WithMeterProvider(mp)}, opts...)
	return &rig{o: routeotel.New(opts...), tp: tp, sr: sr, rd: rd}
}

// spans returns the ended spans, in the order they ended.
func (r *rig) spans() []sdktrace.ReadOnlySpan { return r.sr.Ended() }

// metrics collects every metric by name.
func (r *rig) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.rd.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrs renders attributes as a map for cmp.Diff.
func attrs(kvs []attribute.KeyValue) map[string]any {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

// setAttrs renders an attribute set as a map.
func setAttrs(s attribute.Set) map[string]any { return attrs(s.ToSlice()) }

// spanNamed returns the only ended span with the given name.
func spanNamed(t testing.TB, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			if found != nil {
				t.Fatalf("two spans named %q", name)
			}
			found = s
		}
	}
	if found == nil {
		t.Fatalf("no span named %q among %v", name, names(spans))
	}
	return found
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// histPoints returns a float64 histogram's data points, sorted by their
// attributes for stable comparison.
func histPoints(t testing.TB, m metricdata.Metrics) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: data is %T, want a float64 histogram", m.Name, m.Data)
	}
	pts := h.DataPoints
	sort.Slice(pts, func(i, j int) bool {
		return pts[i].Attributes.Encoded(attribute.DefaultEncoder()) < pts[j].Attributes.Encoded(attribute.DefaultEncoder())
	})
	return pts
}

// intHistPoints is histPoints for an int64 histogram.
func intHistPoints(t testing.TB, m metricdata.Metrics) []metricdata.HistogramDataPoint[int64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[int64])
	if !ok {
		t.Fatalf("%s: data is %T, want an int64 histogram", m.Name, m.Data)
	}
	pts := h.DataPoints
	sort.Slice(pts, func(i, j int) bool {
		return pts[i].Attributes.Encoded(attribute.DefaultEncoder()) < pts[j].Attributes.Encoded(attribute.DefaultEncoder())
	})
	return pts
}

// sumPoints returns a counter's data points as attributes → value.
func sumPoints(t testing.TB, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: data is %T, want an int64 sum", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, p := range s.DataPoints {
		out[p.Attributes.Encoded(attribute.DefaultEncoder())] = p.Value
	}
	return out
}
