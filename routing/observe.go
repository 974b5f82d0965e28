package routing

import (
	"context"
	"errors"
	"log/slog"
)

// EventKind is the kind of an Event.
type EventKind uint8

// Event kinds.
const (
	// EventAttempt: one try on one target ended (Event.Attempt).
	EventAttempt EventKind = iota + 1
	// EventStoreError: the sticky-session Store failed; the call went on
	// without its pin (Event.Err).
	EventStoreError
	// EventConfigWarning: a configuration the Client accepted has
	// something worth a look, such as weights that do not sum to 100
	// (Event.Err is the *FieldError). Reported by New,
	// ApplyManifest and SetGroup, with the context they were given (New:
	// context.Background).
	EventConfigWarning
	// EventHealth: a target's health changed (Event.Target,
	// Event.Health): demoted after repeated failures or an SLA breach,
	// probed after its cooldown, or recovered.
	EventHealth
	// EventSkip: a call passed a target over without sending it
	// anything, because it was at its rate limit (Event.Target,
	// Event.Skip).
	EventSkip
	// EventLimiterError: the Limiter failed (Event.Err); for a second
	// the Client enforces its own share of each budget
	// (WithReplicas).
	EventLimiterError
	// EventHealthStoreError: the shared HealthStore failed (Event.Err);
	// for a second the Client judges health on its own.
	EventHealthStoreError
)

// HealthChange is a change in a target's health, for EventHealth.
type HealthChange uint8

// Health changes.
const (
	// HealthDemoted: the target became unhealthy and is tried last.
	HealthDemoted HealthChange = iota + 1
	// HealthProbed: a call is trying the unhealthy target first again,
	// after its cooldown.
	HealthProbed
	// HealthRecovered: the target is healthy again.
	HealthRecovered
)

// String names h: "demoted", "probed" or "recovered".
func (h HealthChange) String() string {
	switch h {
	case HealthDemoted:
		return "demoted"
	case HealthProbed:
		return "probed"
	case HealthRecovered:
		return "recovered"
	}
	return "unknown"
}

// String names k.
func (k EventKind) String() string {
	switch k {
	case EventAttempt:
		return "attempt"
	case EventStoreError:
		return "store_error"
	case EventConfigWarning:
		return "config_warning"
	case EventHealth:
		return "health"
	case EventSkip:
		return "skip"
	case EventLimiterError:
		return "limiter_error"
	case EventHealthStoreError:
		return "health_store_error"
	}
	return "unknown"
}

// Event is something a Client reports to its observers as it happens: the
// same facts a Trace records, for every call, for logs and metrics.
type Event struct {
	Kind EventKind
	// Model is the resolved virtual model, "group/model".
	Model string
	// Attempt is the attempt, for EventAttempt.
	Attempt Attempt
	// Err is the failure, for EventStoreError, EventLimiterError and
	// EventHealthStoreError, or the warning, for EventConfigWarning.
	Err error
	// Target is the target, for EventHealth, EventSkip and
	// EventLimiterError; Health its change, for EventHealth.
	Target string
	Health HealthChange
	// Skip is the skip, for EventSkip.
	Skip Skip
}

// Observer receives a Client's events. Observe is called on the calling
// goroutine, synchronously, so it must be quick and safe for concurrent
// use; a panic in it is not recovered.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// WithObserver adds an observer of every call's events.
func WithObserver(o Observer) Option {
	return func(s *settings) {
		if o == nil {
			s.errs = append(s.errs, errors.New("routing: WithObserver: nil observer"))
			return
		}
		s.observers = append(s.observers, o)
	}
}

// WithLogger logs the Client's events to l: failed attempts at Warn,
// successful ones at Debug, Store, Limiter and HealthStore failures at
// Warn, a target demoted at Warn and probed or recovered at Info, and a
// target skipped at its rate limit at Debug (a saturated target is
// skipped by every call). Errors are logged as the Client reports them,
// which never include API keys.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		return func(s *settings) { s.errs = append(s.errs, errors.New("routing: WithLogger: nil logger")) }
	}
	return WithObserver(ObserverFunc(func(ctx context.Context, e Event) {
		switch e.Kind {
		case EventAttempt:
			a := &e.Attempt
			level := slog.LevelDebug
			if a.Err != nil {
				level = slog.LevelWarn
			}
			if !l.Enabled(ctx, level) {
				return
			}
			attrs := []slog.Attr{
				slog.String("model", e.Model), slog.String("target", a.Target),
				slog.Int("try", a.Try), slog.Int("status", a.Status), slog.String("class", a.Class),
				slog.String("reason", a.Why()), slog.Duration("duration", a.Duration),
			}
			if a.Wait > 0 {
				attrs = append(attrs, slog.Duration("wait", a.Wait))
			}
			if a.Err != nil {
				attrs = append(attrs, slog.String("error", a.Err.Error()))
			}
			l.LogAttrs(ctx, level, "llmroute attempt", attrs...)
		case EventStoreError:
			l.LogAttrs(ctx, slog.LevelWarn, "llmroute store failed; routing without the sticky pin",
				slog.String("model", e.Model), slog.String("error", e.Err.Error()))
		case EventConfigWarning:
			l.LogAttrs(ctx, slog.LevelWarn, "llmroute configuration warning", slog.String("warning", e.Err.Error()))
		case EventHealth:
			level := slog.LevelInfo
			if e.Health == HealthDemoted {
				level = slog.LevelWarn
			}
			l.LogAttrs(ctx, level, "llmroute target health", slog.String("model", e.Model),
				slog.String("target", e.Target), slog.String("change", e.Health.String()))
		case EventSkip:
			l.LogAttrs(ctx, slog.LevelDebug, "llmroute target skipped at its rate limit", slog.String("model", e.Model),
				slog.String("target", e.Target), slog.String("reason", e.Skip.Reason.String()),
				slog.Duration("free_in", e.Skip.FreeAt.Sub(e.Skip.At)))
		case EventLimiterError:
			l.LogAttrs(ctx, slog.LevelWarn, "llmroute limiter failed; enforcing this replica's share of the limits",
				slog.String("model", e.Model), slog.String("error", e.Err.Error()))
		case EventHealthStoreError:
			l.LogAttrs(ctx, slog.LevelWarn, "llmroute health store failed; judging health locally",
				slog.String("model", e.Model), slog.String("error", e.Err.Error()))
		}
	}))
}

// warn reports the warnings of newly applied groups, with the lines of the
// manifest they came from, if any.
func (c *Client) warn(ctx context.Context, groups []Group, manifests ...*Manifest) {
	if len(c.observers) == 0 {
		return
	}
	for _, w := range GroupWarnings(groups) {
		for _, m := range manifests {
			m.Annotate(w)
		}
		c.observe(ctx, Event{Kind: EventConfigWarning, Err: w})
	}
}

// observe reports an event to every observer.
func (c *Client) observe(ctx context.Context, e Event) {
	for _, o := range c.observers {
		o.Observe(ctx, e)
	}
}
