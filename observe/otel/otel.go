package otel

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmroute/llmroute/routing"
)

// ScopeName is the instrumentation scope of the Tracer and Meter this
// package uses.
const ScopeName = "github.com/llmroute/llmroute/observe/otel"

// Observer turns a routing Client's calls into OpenTelemetry spans and
// metrics. Give it to the Client with routing.WithObserver: it implements
// both routing.Observer and routing.Tracer.
//
// An Observer is safe for concurrent use and may serve several Clients.
// Make one with New; the zero Observer records nothing.
type Observer struct {
	tracer  trace.Tracer
	content bool
	m       instruments
}

var (
	_ routing.Observer = (*Observer)(nil)
	_ routing.Tracer   = (*Observer)(nil)
)

// Option configures an Observer made by New.
type Option func(*config)

type config struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	content bool
}

// WithTracerProvider sets where spans go. Without it, or with nil, the
// global provider (otel.GetTracerProvider) is used, as it is when New
// runs: a global provider installed later still receives the spans, since
// the global one delegates to it.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go. Without it, or with nil, the
// global provider (otel.GetMeterProvider) is used, as for
// WithTracerProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithContent sets whether attempt spans carry the prompt, as the
// conventions' opt-in gen_ai.input.messages attribute. It is off by
// default: prompts often hold personal data, and they can be large (the
// span limits of the SDK truncate long attribute values).
func WithContent(on bool) Option {
	return func(c *config) { c.content = on }
}

// New returns an Observer configured by opts. A nil Option is ignored.
//
// Creating an instrument cannot fail for the names this package uses; if
// a MeterProvider reports an error anyway, it goes to the global error
// handler (otel.Handle) and the instrument the provider returned with it
// is used.
func New(opts ...Option) *Observer {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return &Observer{
		tracer:  c.tp.Tracer(ScopeName, trace.WithSchemaURL(schemaURL)),
		content: c.content,
		m:       newInstruments(c.mp.Meter(ScopeName, metric.WithSchemaURL(schemaURL))),
	}
}

// schemaURL names the conventions' version for the backends that read it.
const schemaURL = "https://opentelemetry.io/schemas/" + SemConvVersion

// Observe counts the Client's events that are not attempts: health
// changes (MetricHealthChanges, by target, virtual model and change),
// Store failures (MetricStoreErrors) and configuration warnings
// (MetricConfigWarnings). Attempts are recorded by the Tracer methods, so
// EventAttempt is ignored here rather than counted twice.
func (o *Observer) Observe(ctx context.Context, e routing.Event) {
	if o.tracer == nil {
		return
	}
	switch e.Kind {
	case routing.EventHealth:
		o.m.health.Add(ctx, 1, withSet(nil, nil,
			TargetKey.String(e.Target), VirtualModelKey.String(e.Model), HealthKey.String(e.Health.String())))
	case routing.EventStoreError:
		o.m.storeErrors.Add(ctx, 1, withSet(nil, nil, VirtualModelKey.String(e.Model)))
	case routing.EventConfigWarning:
		o.m.warnings.Add(ctx, 1)
	}
}
