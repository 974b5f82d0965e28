package routing

import (
	"context"
	"errors"
	"log/slog"

	"github.com/llmroute/llmroute/config"
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
	// (Event.Err is the *config.FieldError). Reported by New,
	// ApplyManifest and SetGroup, with the context they were given (New:
	// context.Background).
	EventConfigWarning
	// EventHealth: a target's health changed (Event.Target,
	// Event.Health): demoted after repeated failures or an SLA breach,
	// probed after its cooldown, or recovered.
	EventHealth
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
	// Err is the failure, for EventStoreError, or the warning, for
	// EventConfigWarning.
	Err error
	// Target and Health are the target and its change, for EventHealth.
	Target string
	Health HealthChange
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
// successful ones at Debug, Store failures at Warn, a target demoted at
// Warn and probed or recovered at Info. Errors are logged as
// the Client reports them, which never include API keys.
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
		}
	}))
}

// warn reports the warnings of newly applied groups, with the lines of the
// manifest they came from, if any.
func (c *Client) warn(ctx context.Context, groups []config.Group, manifests ...*config.Manifest) {
	if len(c.observers) == 0 {
		return
	}
	for _, w := range config.Warnings(groups) {
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
