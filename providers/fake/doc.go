// Package fake is a scripted fake provider for unit tests: register it
// with the routing layer like a real account and tell it, per model, how
// to answer each call, such as "429 with Retry-After twice, then
// succeed", "300 ms then succeed", "never answer" or "cut the stream
// after two chunks".
//
//	f := fake.New()
//	f.Script("gpt-4o",
//		fake.Fail(429).WithRetryAfter(2*time.Second).Times(2), // twice
//		fake.Reply("hello").WithUsage(10, 5),                  // then forever
//	)
//	f.Script("slow", fake.Reply("ok").After(300*time.Millisecond))
//	f.Script("silent", fake.Hang())
//	f.Script("cut", fake.Stream("Hel", "lo", "!").CutAfter(2))
//
//	c, err := routing.New(routing.WithProvider("acct", f), ...)
//	...
//	got := f.Calls() // what reached the provider: model, request, headers, extras
//
// A [Provider] serves chat, completions, embeddings and streaming chat;
// [Provider.Without] and [Provider.ChatOnly] give a view lacking some of
// them, for testing the capability checks made when a manifest is loaded.
//
// # Scripts
//
// [Provider.Script] gives a model a list of [Step] values, consumed one per
// call in order; [Step.Times] makes a step answer several calls. When a
// script runs out, its last step answers every further call. A model with
// no script uses the [AnyModel] script, then the [WithDefault] script,
// and otherwise gets a [Reply] of [DefaultReply].
//
// A call takes its step and is recorded (see [Provider.Calls]) before it
// waits, so a test can see a call that is still hanging.
//
// # Errors
//
// Failures are [*providers.Error] values, as a real adapter returns them:
// [Fail] sets the HTTP status, [Transport] is a 502 with no HTTP status,
// and the Step's methods set Code, Type, Message and RetryAfter. A call
// whose ctx is done before it answers returns the ctx's error: a
// [*providers.Error] with Status 408 wrapping context.DeadlineExceeded
// when the deadline passed, context.Canceled when it was cancelled.
// Stream faults are 502s with Code "stream_truncated" or
// "malformed_event"; a truncated stream never ends with io.EOF.
// [Step.ErrorAfter] sends a provider's error event in the middle of a
// stream, after the content before it.
//
// # Time
//
// Every wait uses a timer and honours ctx, and nothing starts a goroutine,
// so tests can run the fake inside a testing/synctest bubble, where
// delays take no real time:
//
//	synctest.Test(t, func(t *testing.T) {
//		f := fake.New()
//		f.Script("m", fake.Reply("ok").After(300*time.Millisecond))
//		start := time.Now()
//		f.Chat(ctx, req)         // returns at once in real time
//		_ = time.Since(start)    // 300ms of virtual time
//	})
package fake
