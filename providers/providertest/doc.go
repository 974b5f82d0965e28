// Package providertest is the contract suite for [providers.Provider]
// implementations: every adapter runs [Run] in its tests against a
// loopback server speaking its provider's wire format, so that all of
// them fail, time out, stream and classify their errors alike where the
// routing layer can tell.
//
// An adapter supplies a [Wire]: how its provider writes an answer, an
// error, and each kind of stream event. [Serve] composes every
// [Behaviour] the suite needs (a rate limit with Retry-After, an overload,
// a silent upstream, a stream cut short or stalled or broken by an error
// event) from those methods, and the [Harness] points a fresh provider at
// it:
//
//	func TestContract(t *testing.T) {
//		providertest.Run(t, providertest.Harness{
//			New: func(t *testing.T, b providertest.Behaviour) providers.Provider {
//				srv := providertest.Serve(t, wire{}, b)
//				cfg := goopenai.DefaultConfig(testKey)
//				cfg.BaseURL = srv.URL + "/v1"
//				cfg.HTTPClient = srv.Client()
//				return openai.New(cfg)
//			},
//			Key:   testKey, // planted: it must never show in an error
//			Model: "gpt-4o",
//		})
//	}
//
//	// wire writes OpenAI's wire format.
//	type wire struct{}
//
//	func (wire) Answer(w http.ResponseWriter, r *http.Request, a providertest.Answer) {
//		w.Header().Set("Content-Type", "application/json")
//		json.NewEncoder(w).Encode(map[string]any{
//			"id": a.ID, "object": "chat.completion", "model": a.Model,
//			"choices": []any{map[string]any{
//				"index":         0,
//				"message":       map[string]any{"role": "assistant", "content": a.Text},
//				"finish_reason": "stop",
//			}},
//			"usage": map[string]int{
//				"prompt_tokens":     a.PromptTokens,
//				"completion_tokens": a.CompletionTokens,
//				"total_tokens":      a.PromptTokens + a.CompletionTokens,
//			},
//		})
//	}
//
//	func (wire) Fail(w http.ResponseWriter, r *http.Request, f providertest.Fault, retryAfter string) {
//		if retryAfter != "" {
//			w.Header().Set("Retry-After", retryAfter)
//		}
//		fault := faults[f] // each fault's status and error body, in OpenAI's words
//		w.Header().Set("Content-Type", "application/json")
//		w.WriteHeader(fault.status)
//		io.WriteString(w, fault.body)
//	}
//
//	// StreamStart, StreamText, StreamEnd, StreamError and StreamMalformed
//	// write server-sent events the same way; Embeddings makes wire an
//	// EmbedWire.
//
// The whole of that wire is providers/openai's contract_test.go. A wire
// whose events repeat the answer's id or model finds them with
// [AnswerOf] in the stream methods that are not handed the answer.
//
// A provider with no HTTP wire (a fake, an in-process model) maps each
// Behaviour onto its own means instead of calling Serve; [Chunks] says how
// a stream's text is cut. Harness.Omits tells the suite what of an answer
// a wire format cannot carry (Bedrock names no model in its answers).
//
// # What the suite checks
//
// Each subtest makes one call (the concurrency subtest a few) with a
// provider of its own and checks the outcome in the terms of package
// providers:
//
//   - an answer: its text, id, model, finish reason "stop" and usage; a
//     stream's text in full, one id and model on every chunk, usage, then
//     io.EOF and io.EOF again; embeddings in order, with usage;
//   - failures: the status of each fault (429 with its Retry-After in
//     seconds or as an HTTP date, 500, 400 with the provider's code, 400
//     "context_length_exceeded", 503 for an overload), returned by
//     ChatStream itself when the upstream fails before the stream;
//   - a stream that ends badly: cut (502 "stream_truncated"), malformed
//     (502 "malformed_event") or an error event (its fault's status),
//     never io.EOF, and only after every chunk that arrived before;
//   - time: a silent upstream past the call's deadline is a 408 matching
//     context.DeadlineExceeded, a cancelled call is context.Canceled, a
//     stalled stream ends the same ways, and Close from another goroutine
//     unblocks Recv, which then matches [providers.ErrStreamClosed];
//   - hygiene: no goroutine the call started outlives it (found by a
//     profiler label the call's goroutine passes on to every goroutine it
//     starts, so other tests running alongside do not count); the key never
//     shows in any error of the chain however it is printed; each call
//     sends exactly one request, and lets go of a request it gave up on;
//     Describe names the provider and the server it calls; a provider
//     serves concurrent calls.
//
// A call that hangs fails its subtest with a message saying which method
// did not return; the suite does not wait for it forever.
package providertest
