// Package config is where llmroute's configuration types and manifest
// format used to live. They are in package routing now, next to the
// Client that serves them, and every name here is a deprecated alias or
// wrapper kept so that existing code compiles:
//
//	config.Group, config.VirtualModel, ...  →  routing.Group, routing.VirtualModel, ...
//	config.Routing                          →  routing.RoutingConfig
//	config.Source                           →  routing.SessionSource
//	config.Errors, config.FieldError        →  routing.FieldErrors, routing.FieldError
//	config.ParseManifest                    →  routing.ParseManifest
//	config.Load, config.Check               →  routing.LoadManifest, routing.CheckManifest
//	config.Validate, config.Warnings        →  routing.ValidateGroups, routing.GroupWarnings
//	config.Marshal                          →  routing.MarshalManifest
//
// The manifest format is described in package routing (Manifests).
//
// Deprecated: use package routing.
package config
