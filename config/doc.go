// Package config defines virtual model groups, the configuration a
// routing.Client serves, reads and writes them in the manifest format of
// TrueFoundry AI Gateway's virtual models, and validates them (see
// docs/behaviour.md). Every problem is reported at once, each located by
// its group, the field's path in manifest spelling and, for a manifest,
// its line.
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
//
// # Manifests
//
// A manifest holds groups. In YAML each document (documents are separated
// by "---") is one group, or a list of groups; in JSON the file is one
// group object or an array of them. A group:
//
//	name: booking-app
//	type: provider-account/virtual-model        # required
//	collaborators:                              # none: open to every caller
//	  - {subject: user:alice@example.com, role_id: provider-account-manager}
//	  - {subject: team:booking, role_id: provider-account-access}
//	integrations:
//	  - name: gpt-prod                          # called as booking-app/gpt-prod
//	    type: integration/model/virtual         # required
//	    slug: gpt-prod                          # optional global alias
//	    model_types: [chat]                     # default [chat]
//	    routing_config:
//	      type: priority-based-routing
//	      request_timeout_ms: 30000             # default for every target
//	      rate_limit: {requests_per_minute: 600}  # default for every target
//	      load_balance_targets:
//	        - target: azure-main/gpt-4o         # account/model
//	          priority: 0
//	          retry_config: {attempts: 2, delay: 100, on_status_codes: ["429", "503"]}
//	          rate_limit: {requests_per_minute: 60, tokens_per_minute: 90000}
//	        - target: openai-main/gpt-4o
//	          priority: 1
//	          fallback_candidate: true
//
// The keys of routing_config and of each target are the gateway's (see
// docs/behaviour.md, routing_config), with
// llmroute's request_timeout_ms, ttft_timeout_ms and stream_idle_timeout_ms
// allowed at both levels (a target's own value wins), and llmroute's
// fallback_error_codes on a target: provider error codes, such as
// context_length_exceeded, that move a call to the next target at once
// whatever their status (Target.FallbackErrorCodes), and llmroute's
// rate_limit at both levels: {requests_per_minute, tokens_per_minute},
// each a positive whole number, at least one of them (Target.RateLimit,
// Routing.RateLimit). A target's own rate_limit replaces the
// routing_config's whole, so {requests_per_minute: 60} on a target drops
// a default tokens_per_minute. Each target's limit is a budget of its
// own, kept per virtual model: two virtual models that route to the same
// deployment each have theirs. A call skips a target whose budget is
// spent without sending it anything (see package routing).
//
// Values map to the Go types as follows: delays and timeouts are whole
// milliseconds and ttl_seconds whole seconds (time.Duration in Go);
// status codes are strings ("429") or integers; fallback_candidate: false
// is Target.NoFallback; headers_override is Target.Headers; sla_cutoff is
// Target.SLA; override_params keeps integers as int, other numbers as
// float64, lists as []any and mappings as map[string]any.
//
// Reading is strict, so a typo never silently changes routing:
//
//   - A key the format does not define is an error naming it and its path
//     (with a suggestion when it looks like a misspelt one); so is a key
//     written twice, and a value of the wrong type.
//   - A group and an integration must say their type, and it must be
//     provider-account/virtual-model and integration/model/virtual.
//   - Rules that depend on whether a key was written are checked when
//     reading, since Go's zero values cannot tell: every target of
//     weight-based routing must have a weight; weight, priority and
//     sla_cutoff are allowed only with their routing type; a delay,
//     timeout, SLA cutoff or rate_limit budget that is written must be
//     positive; model_types, if written, must not be empty.
//   - A null value (key: or key: ~) is the same as leaving the key out.
//   - YAML anchors and aliases work; merge keys (<<) do not.
//   - Hostile input is bounded: at most 10000 YAML documents, values
//     nested at most 100 deep, and aliases may not expand a manifest
//     much beyond its size.
//
// Every other rule is Validate's, so it holds for groups built in Go too.
//
// [Load] returns a [Manifest], which remembers the line of every field:
// [Manifest.Validate] reports problems with their lines, and
// [Manifest.Annotate] adds them to problems found by code that validated
// the groups together with others. [Check] reads and validates in one
// pass: every problem of a manifest, found reading it or by the rules,
// comes back at once in line order, and a field that could not be read is
// reported once, not again by the rules it then seems to break.
// [ParseManifest] is Check without the provider accounts. Lines are
// counted from 1, in JSON as in YAML. A key that is not a plain word
// (letters, digits, '_' and '-') is quoted in a path, as in
// metadata_match["tenant.id"]. [Marshal] writes groups back as YAML with every
// default filled in, and reading what it wrote gives the same groups.
//
// The llmroute command (cmd/llmroute) checks manifests and shows them
// normalised, without a Client:
//
//	llmroute validate [-accounts a,b] FILE...
//	llmroute show [-accounts a,b] FILE
package config
