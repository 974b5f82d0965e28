// Package soak holds the load-and-fault soak test of routing.Client; it
// has no API of its own.
//
// The test drives one Client with a few hundred goroutines making chat,
// streaming chat and embedding calls over loopback servers that speak the
// OpenAI wire format through providers/openai, while the servers inject
// faults (429 with Retry-After, 500 and 503, connection resets, silence,
// slow first tokens, streams cut, stalled or broken mid-answer) and the
// callers cancel, close streams from other goroutines, opt in to stream
// restarts, and the configuration is replaced every second. It then
// accounts for every call: exactly one outcome each, no success that is
// not a whole answer, nothing hung past its deadline or past a second
// after its Close or cancellation, and goroutines, file descriptors and
// heap back to their levels once the servers close.
//
// It runs for 30 s when the CI environment variable is set, 3 s otherwise
// (1 s with -short); -soak.duration sets any other length:
//
//	go test -race -run TestSoak ./internal/soak -soak.duration=10m
package soak
