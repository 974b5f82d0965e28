package routing

import (
	"time"

	"github.com/llmroute/llmroute/target"
)

// Group is a virtual model provider group: virtual models and the
// subjects allowed to use and manage them. Its manifest form is a document
// of type provider-account/virtual-model.
type Group struct {
	// Name is the group's name, the first half of "group/model".
	Name string
	// Collaborators are the subjects admitted to the group. A group with
	// none is open to every caller.
	Collaborators []Collaborator
	// Models are the group's virtual models (its integrations).
	Models []VirtualModel
}

// Collaborator admits one subject to a group with a role.
type Collaborator struct {
	// Subject is "user:<email>", "team:<name>" or
	// "virtualaccount:<name>".
	Subject string
	// Role is RoleUser or RoleManager.
	Role Role
}

// Role is what a collaborator may do with a group.
type Role string

// Roles.
const (
	// RoleUser may call the group's virtual models.
	RoleUser Role = "provider-account-access"
	// RoleManager may call them and change the group's configuration.
	RoleManager Role = "provider-account-manager"
)

// ModelType is an operation a virtual model serves.
type ModelType string

// Model types.
const (
	Chat       ModelType = "chat"
	Completion ModelType = "completion"
	Embedding  ModelType = "embedding"
)

// VirtualModel is one virtual model: a name callers use and the routing
// that turns each call into calls to real models. Its manifest form is an
// integration of type integration/model/virtual.
type VirtualModel struct {
	// Name is the model's name, the second half of "group/model".
	Name string
	// Slug is an optional short global alias for the model.
	Slug string
	// ModelTypes are the operations the model serves; nil means
	// [Chat].
	ModelTypes []ModelType
	// Routing is the model's routing_config.
	Routing RoutingConfig
}

// RoutingType is how a virtual model picks its first target.
type RoutingType string

// Routing types.
const (
	WeightBased   RoutingType = "weight-based-routing"
	LatencyBased  RoutingType = "latency-based-routing"
	PriorityBased RoutingType = "priority-based-routing"
)

// RoutingConfig is a virtual model's routing_config: how it picks,
// retries and falls back among its targets. Each target is a
// [target.Target], the type package target defines for it.
type RoutingConfig struct {
	// Type is the routing type; it is required.
	Type RoutingType
	// Sticky, for weight-based routing only, pins a session to the
	// target that served it. Nil means no sticky routing.
	Sticky *Sticky
	// Targets are the load_balance_targets; at least one.
	Targets []target.Target
	// RequestTimeout, TTFTTimeout and StreamIdleTimeout are the defaults
	// for targets that do not set their own; 0 means none.
	RequestTimeout    time.Duration
	TTFTTimeout       time.Duration
	StreamIdleTimeout time.Duration
	// RateLimit is the rate_limit of every target that does not set its
	// own (a target's rate_limit replaces it whole); zero means none.
	// Each target's limit is a budget of its own.
	RateLimit target.RateLimit
	// RetryBudget limits each target's retries (and hedges) to a share
	// of its recent calls (retry_budget, an llmroute extension). Nil
	// means the defaults: 20% of the calls of the last 10 seconds plus 1
	// retry a second.
	RetryBudget *RetryBudget
	// Hedge, when not nil, starts the next target beside a first
	// attempt that is late (hedge, an llmroute extension, opt-in).
	Hedge *Hedge
}

// RetryBudget is a virtual model's retry_budget: over the last 10 seconds,
// the retries and hedges of each target may number at most Percent% of
// the calls it received, plus MinPerSecond for each second. Past it, a
// failure that would be retried falls back (or fails) instead.
type RetryBudget struct {
	// Disabled turns the budget off: retries follow retry_config alone.
	Disabled bool
	// Percent is the share of calls retries may add, 1 to 100; 0 means
	// 20.
	Percent int
	// MinPerSecond is the floor of retries a second that a quiet target
	// keeps whatever its traffic; 0 means 1.
	MinPerSecond float64
}

// Hedge is a virtual model's hedge: when the first attempt of a call has
// not answered (or, for a stream, sent its first content chunk) within a
// delay, the next target in the call's order starts beside it; the first
// success wins and the other attempt is cancelled, not counted as a
// failure. Hedges spend the retry budget of the late target, are never
// sent to a target with fallback_candidate false, and never start after a
// stream's first content chunk.
type Hedge struct {
	// After is the delay (after_ms).
	After time.Duration
	// AfterPercentile sets the delay from the late target's own recent
	// latency instead (after_percentile, 50 to 99.9): its time to answer
	// (or to a stream's first chunk) at that percentile over its last 256
	// successful attempts. Until a target has 20 such samples, After is
	// used if it is set, else the call is not hedged.
	AfterPercentile float64
	// Max is the most hedges one call starts (max_hedges); 0 means 1.
	Max int
}

// Sticky is a virtual model's sticky_routing.
type Sticky struct {
	// TTL is how long a pin lives after its last use, 30 minutes to 24
	// hours.
	TTL time.Duration
	// SessionIdentifiers name the request values that together make up
	// the session key; at least one.
	SessionIdentifiers []SessionIdentifier
}

// Sticky TTL bounds.
const (
	MinStickyTTL = 1800 * time.Second
	MaxStickyTTL = 86400 * time.Second
)

// SessionSource is where a session identifier is read from.
type SessionSource string

// Sources.
const (
	FromHeaders  SessionSource = "headers"
	FromMetadata SessionSource = "metadata"
)

// SessionIdentifier names one request value of a session key.
type SessionIdentifier struct {
	Source SessionSource
	Key    string
}

// Types returns m's model types with the default filled in.
func (m *VirtualModel) Types() []ModelType {
	if len(m.ModelTypes) == 0 {
		return []ModelType{Chat}
	}
	return m.ModelTypes
}
