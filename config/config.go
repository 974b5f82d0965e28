package config

import (
	"github.com/llmroute/llmroute/internal/httpheader"
	"github.com/llmroute/llmroute/routing"
)

// The configuration types, defined in package routing.
type (
	// Deprecated: use routing.Group.
	Group = routing.Group
	// Deprecated: use routing.Collaborator.
	Collaborator = routing.Collaborator
	// Deprecated: use routing.Role.
	Role = routing.Role
	// Deprecated: use routing.ModelType.
	ModelType = routing.ModelType
	// Deprecated: use routing.VirtualModel.
	VirtualModel = routing.VirtualModel
	// Deprecated: use routing.RoutingType.
	RoutingType = routing.RoutingType
	// Deprecated: use routing.RoutingConfig.
	Routing = routing.RoutingConfig
	// Deprecated: use routing.RetryBudget.
	RetryBudget = routing.RetryBudget
	// Deprecated: use routing.Hedge.
	Hedge = routing.Hedge
	// Deprecated: use routing.Sticky.
	Sticky = routing.Sticky
	// Deprecated: use routing.SessionSource.
	Source = routing.SessionSource
	// Deprecated: use routing.SessionIdentifier.
	SessionIdentifier = routing.SessionIdentifier
	// Deprecated: use routing.FieldError.
	FieldError = routing.FieldError
	// Deprecated: use routing.FieldErrors.
	Errors = routing.FieldErrors
	// Deprecated: use routing.Accounts.
	Accounts = routing.Accounts
	// Deprecated: use routing.Manifest.
	Manifest = routing.Manifest
)

// The configuration constants, defined in package routing.
const (
	// Deprecated: use routing.RoleUser.
	RoleUser = routing.RoleUser
	// Deprecated: use routing.RoleManager.
	RoleManager = routing.RoleManager
	// Deprecated: use routing.Chat.
	Chat = routing.Chat
	// Deprecated: use routing.Completion.
	Completion = routing.Completion
	// Deprecated: use routing.Embedding.
	Embedding = routing.Embedding
	// Deprecated: use routing.WeightBased.
	WeightBased = routing.WeightBased
	// Deprecated: use routing.LatencyBased.
	LatencyBased = routing.LatencyBased
	// Deprecated: use routing.PriorityBased.
	PriorityBased = routing.PriorityBased
	// Deprecated: use routing.FromHeaders.
	FromHeaders = routing.FromHeaders
	// Deprecated: use routing.FromMetadata.
	FromMetadata = routing.FromMetadata
	// Deprecated: use routing.MinStickyTTL.
	MinStickyTTL = routing.MinStickyTTL
	// Deprecated: use routing.MaxStickyTTL.
	MaxStickyTTL = routing.MaxStickyTTL
	// Deprecated: use routing.MaxWeight.
	MaxWeight = routing.MaxWeight
	// Deprecated: use routing.MaxRateLimit.
	MaxRateLimit = routing.MaxRateLimit
	// Deprecated: use routing.GroupType.
	GroupType = routing.GroupType
	// Deprecated: use routing.VirtualModelType.
	VirtualModelType = routing.VirtualModelType
)

// ParseManifest reads and checks a manifest without the provider
// accounts.
//
// Deprecated: use routing.ParseManifest.
func ParseManifest(data []byte) ([]Group, error) { return routing.ParseManifest(data) }

// Load reads a manifest, checking what the Go types cannot hold.
//
// Deprecated: use routing.LoadManifest.
func Load(data []byte) (*Manifest, error) { return routing.LoadManifest(data) }

// Check reads a manifest and validates it in one pass.
//
// Deprecated: use routing.CheckManifest.
func Check(data []byte, accounts Accounts, known map[string]bool) (*Manifest, error) {
	return routing.CheckManifest(data, accounts, known)
}

// Validate checks groups against every rule of the configuration.
//
// Deprecated: use routing.ValidateGroups.
func Validate(groups []Group, accounts Accounts, known map[string]bool) error {
	return routing.ValidateGroups(groups, accounts, known)
}

// Warnings returns what is allowed in groups but probably a mistake.
//
// Deprecated: use routing.GroupWarnings.
func Warnings(groups []Group) []*FieldError { return routing.GroupWarnings(groups) }

// Marshal writes groups as a manifest in YAML with every default filled
// in.
//
// Deprecated: use routing.MarshalManifest.
func Marshal(groups []Group) ([]byte, error) { return routing.MarshalManifest(groups) }

// ValidHeaderName reports whether s is an HTTP header field name: a token
// (RFC 9110 §5.6.2).
//
// Deprecated: llmroute checks header names itself wherever it takes
// them; this check is no longer part of its API.
func ValidHeaderName(s string) bool { return httpheader.ValidName(s) }

// ValidHeaderValue reports whether s may be sent as an HTTP header value:
// it rejects CR, LF and NUL.
//
// Deprecated: llmroute checks header values itself wherever it takes
// them; this check is no longer part of its API.
func ValidHeaderValue(s string) bool { return httpheader.ValidValue(s) }
