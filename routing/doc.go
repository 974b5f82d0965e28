// Package routing serves virtual models in-process: one model name, such as
// "booking-app/gpt-prod" or a short slug, that routes each chat, completion
// or embedding call across several real provider models by weight, latency
// or priority, with retries, fallback, per-target overrides and metadata
// rules. docs/behaviour.md says how it behaves, section by section.
//
//	p := oai.New(goopenai.DefaultConfig(key))
//	c, err := routing.New(
//		routing.WithProvider("openai-main", p),
//		routing.WithGroup(routing.Group{
//			Name: "booking-app",
//			Models: []routing.VirtualModel{{
//				Name: "gpt-prod",
//				Routing: routing.RoutingConfig{
//					Type: routing.PriorityBased,
//					Targets: []target.Target{
//						{Ref: "openai-main/gpt-4o", Priority: 0},
//						{Ref: "openai-main/gpt-4o-mini", Priority: 1},
//					},
//				},
//			}},
//		}),
//	)
//	resp, err := c.Chat(ctx, goopenai.ChatCompletionRequest{Model: "booking-app/gpt-prod", ...})
//
// # Configuration
//
// A Client serves groups ([Group]) of virtual models ([VirtualModel]),
// built in Go as above ([WithGroup], [Client.SetGroup]) or read from a
// manifest ([WithManifest], [Client.ApplyManifest]). A virtual model's
// [RoutingConfig] lists its targets, each a [target.Target] (package
// target defines the target types: retries, SLA cutoffs, rate limits,
// header and parameter overrides). Every configuration problem is
// reported at once, each a [*FieldError] located by its group, the
// field's path in manifest spelling and, for a manifest, its line.
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
// whatever their status (target.Target.FallbackErrorCodes), and llmroute's
// rate_limit at both levels: {requests_per_minute, tokens_per_minute},
// each a positive whole number, at least one of them
// (target.Target.RateLimit, RoutingConfig.RateLimit). A target's own rate_limit replaces the
// routing_config's whole, so {requests_per_minute: 60} on a target drops
// a default tokens_per_minute. Each target's limit is a budget of its
// own, kept per virtual model: two virtual models that route to the same
// deployment each have theirs. A call skips a target whose budget is
// spent without sending it anything (see Rate limits).
//
// Values map to the Go types as follows: delays and timeouts are whole
// milliseconds and ttl_seconds whole seconds (time.Duration in Go);
// status codes are strings ("429") or integers; fallback_candidate: false
// is target.Target.NoFallback; headers_override is Target.Headers;
// sla_cutoff is Target.SLA; override_params keeps integers as int, other numbers as
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
// Every other rule is [ValidateGroups]', so it holds for groups built in Go
// too: New, SetGroup and ApplyManifest apply it with the Client's provider
// accounts.
//
// [LoadManifest] returns a [Manifest], which remembers the line of every
// field: [Manifest.Validate] reports problems with their lines, and
// [Manifest.Annotate] adds them to problems found by code that validated
// the groups together with others (a Client given Manifest.Groups).
// [CheckManifest] reads and validates in one pass: every problem of a
// manifest, found reading it or by the rules, comes back at once in line
// order, and a field that could not be read is reported once, not again by
// the rules it then seems to break. [ParseManifest] is CheckManifest
// without the provider accounts. Lines are counted from 1, in JSON as in
// YAML. A key that is not a plain word (letters, digits, '_' and '-') is
// quoted in a path, as in metadata_match["tenant.id"]. [MarshalManifest]
// writes groups back as YAML with every default filled in, and reading
// what it wrote gives the same groups.
//
// The llmroute command (cmd/llmroute) checks manifests and shows them
// normalised, without a Client:
//
//	llmroute validate [-accounts a,b] FILE...
//	llmroute show [-accounts a,b] FILE
//
// # The call path
//
// A call resolves its model name, checks the subject in the context may use
// the group ([WithSubject]; a group with no collaborators is open), checks
// the operation is one of the model's model_types, and keeps the targets
// whose metadata_match holds for the request's metadata
// ([metadata.NewContext], merged over [WithDefaultMetadata]). It then walks
// the targets in the order the strategy gives: on each, up to 1+attempts
// tries, retrying only the target's retry statuses with growing, jittered
// delays (a longer Retry-After replaces the delay); after the last try it
// falls back to the next target only on the target's fallback statuses, or
// at once on a provider error code listed in its fallback_error_codes. A
// try that runs out of its request_timeout_ms is a 408, which always falls
// back and is by default not retried; a failure with no HTTP status is a
// 502. The caller's context bounds everything: a wait that would pass its
// deadline is skipped in favour of an immediate fallback, and a cancelled
// context ends the call at once with the context's error, without counting
// against the target.
//
// # Decisions where the gateway is silent
//
// docs/behaviour.md lists them all; the ones this package makes:
//
//   - A Retry-After longer than one minute (retry.MaxRetryAfter) is not
//     waited for: the call moves on at once, as after the target's last
//     try (it falls back on a fallback status).
//   - A weight of 0 means "never first while an eligible target with a
//     positive weight is healthy"; when only weight-0 targets remain, one
//     is picked uniformly rather than failing the call.
//   - A name "group/model" in a closed group the caller may not use is
//     ErrForbidden whether or not the model exists, so the answer reveals
//     nothing of the group. Slugs are global names: an unknown slug is
//     ErrUnknownModel. An unknown name suggests the nearest name the
//     caller may call, never one of a group closed to them.
//   - A refusal says so when the context has no subject ([WithSubject])
//     or the team lookup failed: the caller can fix both, and neither
//     depends on the group's models.
//   - A group with no collaborators is open for calls. Changing it, or
//     adding a group, needs a Client admin when the Client has admins
//     ([WithAdmins]); a Client with no admins lets any caller do both.
//   - Request headers set with [WithHeaders] are sent upstream on every
//     attempt; a target's headers_override applies on top of them.
//   - A call cancelled during its attempts returns an *Error that unwraps
//     to the context's error (errors.Is(err, context.Canceled) holds) and
//     to every attempt made before it; a context already done when the
//     call starts is returned as it is.
//   - A target being probed for recovery, or tried last because it is
//     unhealthy, gets a single try: retrying a target known to fail only
//     spends the caller's time.
//   - A request the caller wrote wrongly (a header that cannot be sent,
//     a body that cannot be encoded) is refused with ErrInvalidRequest,
//     never sent to another target and never counted against one.
//   - An opt-in stream restart is announced (ErrStreamRestarted) only
//     once another target has committed; with none left, Recv returns
//     the interruption itself.
//   - For a stream, request_timeout_ms bounds the time to the first
//     content chunk, like ttft_timeout_ms; after it, only
//     stream_idle_timeout_ms and the caller's context bound the stream.
//   - A provider that panics is not recovered from: the try is recorded
//     (Trace, observers) as a "panic" attempt and the panic continues to
//     the caller. A nil context is an error.
//   - Configuration warnings (weights that do not sum to 100) never fail
//     New or ApplyManifest; observers get them as EventConfigWarning.
//
// # Errors
//
// A call refused before anything is sent fails with an error matching one
// of the sentinels [ErrUnknownModel] (suggesting the nearest name the
// caller may call), [ErrForbidden] (saying what the caller can fix, if
// anything), [ErrUnsupportedOperation], [ErrNoEligibleTarget] and
// [ErrInvalidRequest], matched with errors.Is. A failure after attempts
// is an [*Error]: errors.As finds its StatusCode (the final upstream
// status), and it unwraps to every attempt's *target.Error. A call that
// found every target at its rate limit, and sent nothing, is a
// [*RateLimitError] matching [ErrRateLimited]: StatusCode 429, and
// RetryAfter says when the first target frees up.
//
// # Rate limits
//
// A target's rate_limit (target.RateLimit, or the virtual model's
// default) caps the requests and tokens it is sent per minute. Before
// each try the target's budget is charged the request and the try's
// estimated tokens (prompt bytes/4, 4 a message, max_tokens); a target
// without room is skipped, sent nothing and held to nothing: the Trace
// lists it in Skipped and observers get an [EventSkip]. The estimate is
// corrected from the answer's usage, so what a target serves in a span T
// is at most its budget, plus what refills in T, plus what the requests
// in flight when it ran out used beyond their estimates. A target whose
// provider reported no requests or tokens left (x-ratelimit-remaining-*,
// anthropic-ratelimit-*, see providers.RateLimits) is skipped the same
// way until the reset the provider gave.
//
//	c, err := routing.New(
//		routing.WithProvider("azure-main", p),
//		routing.WithManifest(manifest),  // rate_limit: {requests_per_minute: 60}
//		routing.WithLimiter(redisStore), // shared by every replica (stores/redis)
//		routing.WithReplicas(4),         // each enforces 1/4 while Redis is down
//	)
//	...
//	_, err = c.Chat(ctx, req)
//	var rle *routing.RateLimitError
//	if errors.As(err, &rle) {
//		// every target is at its limit: try again in rle.RetryAfter()
//	}
//
// Budgets live in the Client's memory unless [WithLimiter] shares them
// between replicas; a Limiter failure never fails a call (each replica
// then enforces its share, [WithReplicas], and observers get an
// [EventLimiterError]). [WithSharedHealth] shares targets' health the
// same way: failures counted fleet-wide, demotions seen by every replica
// on its next call, one probe per cooldown for the fleet. The
// project's docs/behaviour.md has the details.
//
// # Testing with fakes
//
// The providers/fake package is a scripted provider for users' own tests:
// "429 with Retry-After twice, then succeed", "hang until the timeout",
// and so on. [WithClock] and [WithRand] make picks and statistics
// deterministic; waits use the runtime's timers, so tests run in virtual
// time under testing/synctest.
package routing
