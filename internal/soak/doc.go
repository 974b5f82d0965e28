// Package soak holds the load-and-fault soak test of routing.Client; it
// has no API of its own.
//
// TestSoak drives one Client with 256 goroutines making chat, streaming
// chat and embedding calls through providers/openai to three loopback
// servers that speak the OpenAI wire format. The servers act out a fault
// for about half of all attempts: 429 with Retry-After (seconds, far off,
// or retry-after-ms), 500 and 503 with error bodies that quote the API
// key, connection resets before any header, silence, late first tokens
// aimed at the timeouts in force, bodies cut short, and streams cut,
// ended early, stalled, broken by a malformed event or by an error event.
// The callers cancel at random moments, close streams from other
// goroutines (also right after a restart signal, while Recv reconnects),
// opt in to restarts, send headers that cannot be sent and subjects the
// group does not admit. A fifth of the chat calls go to a model with
// sticky sessions (16 sessions, pins in the Client's in-memory store,
// which its lookups read without a lock), so pins are found, refreshed
// and moved by failovers while other calls race with them; a run in
// which no call went to a pinned target fails. Once a second the
// group's manager replaces the configuration, flipping weights, priorities, timeouts, retry budgets
// and hedging.
//
// Every call is then held to account:
//
//   - one outcome each, a success or a typed error (with a status unless
//     the caller cancelled), the calls started and the outcomes recorded
//     matching, and the Tracer hooks agreeing with the outcome;
//   - no success that is not a whole answer: every answer names its call
//     and attempt, counts its words and ends with a mark, so a truncated,
//     spliced or misdelivered answer is caught, also after a restart;
//   - no call back later than its deadline plus 2 s, or than 1 s after
//     its Close or cancellation, and no attempt begun after either that
//     ran to its end;
//   - no API key in any error, no invalid request sent upstream, health
//     changes reported to observers;
//   - goroutines and file descriptors back to their level once the
//     servers close, and the heap flat.
//
// A violation fails the test with the call, its plan, what the caller
// saw, its attempts and what the servers did, the first few of each kind
// in full. On a shared machine the soak keeps itself from starving (it
// lets fewer calls run while goroutines wait long to be scheduled) and
// discounts from its timing bounds the time the process stood still.
//
// It runs for 30 s when the CI environment variable is set, 3 s otherwise
// (1 s with -short); -soak.duration sets any other length:
//
//	go test -race -run TestSoak -v ./internal/soak -soak.duration=10m
package soak
