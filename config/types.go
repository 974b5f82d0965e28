package config

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
	Routing Routing
}

// RoutingType is how a virtual model picks its first target.
type RoutingType string

// Routing types.
const (
	WeightBased   RoutingType = "weight-based-routing"
	LatencyBased  RoutingType = "latency-based-routing"
	PriorityBased RoutingType = "priority-based-routing"
)

// Routing is a virtual model's routing_config.
type Routing struct {
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

// Source is where a session identifier is read from.
type Source string

// Sources.
const (
	FromHeaders  Source = "headers"
	FromMetadata Source = "metadata"
)

// SessionIdentifier names one request value of a session key.
type SessionIdentifier struct {
	Source Source
	Key    string
}

// Types returns m's model types with the default filled in.
func (m *VirtualModel) Types() []ModelType {
	if len(m.ModelTypes) == 0 {
		return []ModelType{Chat}
	}
	return m.ModelTypes
}
