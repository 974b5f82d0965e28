package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores"
)

// Defaults of the options.
const (
	// DefaultPrefix starts the Redis key of every pin.
	DefaultPrefix = "llmroute:pin:"
	// DefaultLimitPrefix starts the Redis keys of every rate-limit
	// budget, and DefaultHealthPrefix those of every shared health
	// record.
	DefaultLimitPrefix  = "llmroute:limit:"
	DefaultHealthPrefix = "llmroute:health:"
	// DefaultTimeout bounds each Redis operation.
	DefaultTimeout = 50 * time.Millisecond
)

var (
	errNoClient = errors.New("stores/redis: no client")
)

// Option configures a Store made by [New].
type Option func(*Store)

// WithPrefix starts the Redis key of every pin with prefix instead of
// [DefaultPrefix]. Services that share a Redis but must not share
// sessions use different prefixes. An empty prefix is allowed: keys are
// then the session keys themselves. Rate limits and health have prefixes
// of their own; see [WithNamespace].
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithNamespace puts every key the Store writes under ns: pins under
// ns+"pin:", rate-limit budgets under ns+"limit:" and health records
// under ns+"health:". Services that share a Redis but must share nothing
// use different namespaces; the default is "llmroute:". A later
// WithPrefix still sets the pins' prefix alone.
func WithNamespace(ns string) Option {
	return func(s *Store) {
		s.prefix, s.limitPrefix, s.healthPrefix = ns+"pin:", ns+"limit:", ns+"health:"
	}
}

// WithTimeout bounds each Redis operation to d instead of
// [DefaultTimeout]; the caller's ctx still applies when its deadline is
// sooner. d <= 0 means DefaultTimeout. Keep d short: a sticky call waits
// for the pin before it starts, and a pin that comes late is worth less
// than a call that starts on time.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// Store is a [stores.Store] that keeps pins in Redis, so that every
// replica of a service sees the same pins.
//
// Each pin is one Redis string: key prefix+session key, value the pin's
// Target, with the pin's TTL as the key's expiry. GetPin is one GETEX
// with PX (read and refresh in one round trip), or a GET when it does not
// refresh; SetPin is one SET with PX. TTLs are rounded up to whole
// milliseconds. Redis 6.2 or later is needed, for GETEX.
//
// Every operation is bounded by the Store's timeout: when Redis is down,
// stalled or slow, it returns an error instead of waiting, and the call
// goes on without its pin. Errors do not contain the session key, which
// may carry a caller's session identifier.
//
// A Store is safe for concurrent use. It does not own its client: close
// the client when done with both. Make a Store with [New]; the zero Store
// returns an error from every operation.
type Store struct {
	client       goredis.UniversalClient
	prefix       string
	limitPrefix  string
	healthPrefix string
	timeout      time.Duration
}

var _ stores.Store = (*Store)(nil)

// New returns a Store that keeps pins through client, configured by
// opts.
//
// The client must be built with ContextTimeoutEnabled set: without it,
// go-redis ignores context deadlines on the network and a stalled Redis
// would hold each sticky call for the client's read timeout, seconds by
// default. New returns an error for a nil client, and for a *Client,
// *ClusterClient or *Ring whose options leave ContextTimeoutEnabled off.
func New(client goredis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("stores/redis: New: client is nil")
	}
	if err := checkClient(client); err != nil {
		return nil, err
	}
	s := &Store{client: client, prefix: DefaultPrefix, limitPrefix: DefaultLimitPrefix, healthPrefix: DefaultHealthPrefix, timeout: DefaultTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	return s, nil
}

// checkClient rejects a client that is a nil pointer or, as far as its
// type tells, ignores context deadlines. A client of another type is
// trusted to honour them.
func checkClient(client goredis.UniversalClient) error {
	var isNil, enabled bool
	switch c := client.(type) {
	case *goredis.Client:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	case *goredis.Ring:
		isNil = c == nil
		enabled = isNil || c.Options().ContextTimeoutEnabled
	default:
		enabled = true
	}
	switch {
	case isNil:
		return errors.New("stores/redis: New: client is nil")
	case !enabled:
		return errors.New("stores/redis: New: client has ContextTimeoutEnabled false; " +
			"set it so that the per-operation timeout bounds a stalled Redis")
	}
	return nil
}

// GetPin implements [stores.Store]: a GETEX key PX ttl when ttl > 0, a
// GET otherwise.
func (s *Store) GetPin(ctx context.Context, key string, ttl time.Duration) (stores.Pin, bool, error) {
	if s.client == nil {
		return stores.Pin{}, false, errNoClient
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var cmd *goredis.StringCmd
	if ttl > 0 {
		cmd = goredis.NewStringCmd(ctx, "getex", s.prefix+key, "px", millis(ttl))
	} else {
		cmd = goredis.NewStringCmd(ctx, "get", s.prefix+key)
	}
	_ = s.client.Process(ctx, cmd)
	target, err := cmd.Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return stores.Pin{}, false, nil
	case err != nil:
		return stores.Pin{}, false, fmt.Errorf("stores/redis: get pin: %w", err)
	case target == "":
		// Not written by a Store, which never writes an empty target.
		return stores.Pin{}, false, nil
	}
	return stores.Pin{Target: target}, true, nil
}

// SetPin implements [stores.Store]: a SET key target PX ttl. Invalid
// input gives the errors of [stores.CheckPin].
func (s *Store) SetPin(ctx context.Context, key string, pin stores.Pin, ttl time.Duration) error {
	if err := stores.CheckPin(pin, ttl); err != nil {
		return err
	}
	if s.client == nil {
		return errNoClient
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := goredis.NewStatusCmd(ctx, "set", s.prefix+key, pin.Target, "px", millis(ttl))
	_ = s.client.Process(ctx, cmd)
	if err := cmd.Err(); err != nil {
		return fmt.Errorf("stores/redis: set pin: %w", err)
	}
	return nil
}

// millis is d in whole milliseconds, rounded up: Redis takes no less.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
