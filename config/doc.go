// Package config defines virtual model groups, the configuration a
// routing.Client serves, and validates them (SPEC §1–§3). Every problem is
// reported at once, each located by its group and the field's path in
// manifest spelling.
//
// The routing package re-exports these types (routing.Group is
// config.Group), so most users never import config directly:
//
//	g := config.Group{
//		Name: "booking-app",
//		Models: []config.VirtualModel{{
//			Name: "gpt-prod",
//			Routing: config.Routing{
//				Type: config.PriorityBased,
//				Targets: []target.Target{
//					{Ref: "azure-main/gpt-4o", Priority: 0},
//					{Ref: "openai-main/gpt-4o", Priority: 1},
//				},
//			},
//		}},
//	}
package config
