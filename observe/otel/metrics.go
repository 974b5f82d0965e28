package otel

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// instruments are the Observer's metrics.
type instruments struct {
	// Per attempt, after the conventions.
	duration metric.Float64Histogram
	tokens   metric.Int64Histogram
	ttfc     metric.Float64Histogram
	tpoc     metric.Float64Histogram

	// Per call and per event, llmroute's own.
	callDuration  metric.Float64Histogram
	callAttempts  metric.Int64Histogram
	retries       metric.Int64Counter
	fallbacks     metric.Int64Counter
	sticky        metric.Int64Counter
	interruptions metric.Int64Counter
	restarts      metric.Int64Counter
	health        metric.Int64Counter
	storeErrors   metric.Int64Counter
	warnings      metric.Int64Counter
}

func newInstruments(m metric.Meter) instruments {
	return instruments{
		duration: seconds(m, MetricOperationDuration, "GenAI operation duration.", durationBounds),
		tokens:   histogram(m, MetricTokenUsage, "{token}", "Number of input and output tokens used.", tokenBounds),
		ttfc:     seconds(m, MetricTimeToFirstChunk, "Time to receive the first chunk of a streaming response.", durationBounds),
		tpoc:     seconds(m, MetricTimePerOutputChunk, "Time per output chunk, recorded for each chunk after the first one.", durationBounds),

		callDuration:  seconds(m, MetricCallDuration, "Duration of a routed call, with all its attempts and waits; for a stream, to its end.", callBounds),
		callAttempts:  histogram(m, MetricCallAttempts, "{attempt}", "Attempts made by a routed call.", attemptBounds),
		retries:       counter(m, MetricRetries, "{retry}", "Attempts that repeated a failed try on the same target."),
		fallbacks:     counter(m, MetricFallbacks, "{fallback}", "First tries on a target after another target failed."),
		sticky:        counter(m, MetricStickyHits, "{call}", "Calls whose first target a session pin chose."),
		interruptions: counter(m, MetricStreamInterruptions, "{interruption}", "Streams that broke after their first content chunk."),
		restarts:      counter(m, MetricStreamRestarts, "{restart}", "Interrupted streams restarted on another target."),
		health:        counter(m, MetricHealthChanges, "{change}", "Targets demoted, probed or recovered."),
		storeErrors:   counter(m, MetricStoreErrors, "{error}", "Sticky-session store failures; the call went on without its pin."),
		warnings:      counter(m, MetricConfigWarnings, "{warning}", "Configuration warnings reported by the Client."),
	}
}

// The helpers below pass an instrument creation error to the global
// handler and keep the instrument the provider returned with it, as the
// API asks providers to return a usable one; a provider that returns none
// gets a no-op.

func seconds(m metric.Meter, name, desc string, bounds []float64) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(bounds...))
	if err != nil {
		otel.Handle(err)
	}
	if h == nil {
		return noop.Float64Histogram{}
	}
	return h
}

func histogram(m metric.Meter, name, unit, desc string, bounds []float64) metric.Int64Histogram {
	h, err := m.Int64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(bounds...))
	if err != nil {
		otel.Handle(err)
	}
	if h == nil {
		return noop.Int64Histogram{}
	}
	return h
}

func counter(m metric.Meter, name, unit, desc string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	if err != nil {
		otel.Handle(err)
	}
	if c == nil {
		return noop.Int64Counter{}
	}
	return c
}
