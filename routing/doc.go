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
// status), and it unwraps to every attempt's *target.Error.
//
// # Testing with fakes
//
// The providers/fake package is a scripted provider for users' own tests:
// "429 with Retry-After twice, then succeed", "hang until the timeout",
// and so on. [WithClock] and [WithRand] make picks and statistics
// deterministic; waits use the runtime's timers, so tests run in virtual
// time under testing/synctest.
package routing
