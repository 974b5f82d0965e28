package otel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	routeotel "github.com/llmroute/llmroute/observe/otel"
	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// These tests drive the Tracer hooks by hand, the way the Client calls
// them, so that every field reaches the spans and metrics it should.

var (
	infoA = providers.Info{Name: "openai", Address: "a.example", Port: 443}
	infoB = providers.Info{Name: "anthropic", Address: "b.example", Port: 8443}
)

func chatAttempt(target, model string, info providers.Info, try int) *routing.AttemptInfo {
	return &routing.AttemptInfo{
		Operation: providers.OpChat, VirtualModel: "app/chat",
		Target: target, Model: model, Provider: info, Try: try, Reason: strategy.ReasonPicked,
		Chat: &providers.ChatRequest{Request: openai.ChatCompletionRequest{
			Model:       model,
			Messages:    []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
			Temperature: 0.7,
			MaxTokens:   100,
		}},
	}
}

// runAttempt starts and ends one attempt under the call's context.
func runAttempt(o *routeotel.Observer, cctx context.Context, a *routing.AttemptInfo, rec routing.Attempt, resp *routing.Response) {
	actx := o.StartAttempt(cctx, a)
	o.EndAttempt(actx, a, &rec, resp)
}

func TestRetryThenFallback(t *testing.T) {
	r := newRig(t)
	o := r.o
	call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat", Start: time.Now()}
	cctx := o.StartCall(context.Background(), call)

	fail := &providers.Error{Status: 500, Type: "server_error", Message: "boom"}
	a1 := chatAttempt("acct-a/model-a", "model-a", infoA, 1)
	runAttempt(o, cctx, a1, routing.Attempt{Target: a1.Target, Try: 1, Status: 500, Class: "retry", Err: fail, Duration: 10 * time.Millisecond}, nil)
	a2 := chatAttempt("acct-a/model-a", "model-a", infoA, 2)
	a2.Retry, a2.Wait = true, 250*time.Millisecond
	runAttempt(o, cctx, a2, routing.Attempt{Target: a2.Target, Try: 2, Retry: true, Status: 500, Class: "fallback", Err: fail, Duration: 20 * time.Millisecond}, nil)
	a3 := chatAttempt("acct-b/model-b", "model-b", infoB, 1)
	a3.Reason, a3.Fallback = strategy.ReasonFallback, true
	resp := &routing.Response{ID: "resp-1", Model: "model-b-2026", FinishReasons: []string{"stop"}, InputTokens: 12, OutputTokens: 5, CachedTokens: 4, ReasoningTokens: 2}
	runAttempt(o, cctx, a3, routing.Attempt{Target: a3.Target, Try: 1, Fallback: true, Status: 200, Class: "ok", Duration: 40 * time.Millisecond}, resp)
	o.EndCall(cctx, call, &routing.CallEnd{
		VirtualModel: "app/chat", Resolved: "acct-b/model-b",
		Attempts: 3, Retries: 1, Fallbacks: 1, Response: resp, Duration: 500 * time.Millisecond,
	})

	spans := r.spans()
	if got, want := len(spans), 4; got != want {
		t.Fatalf("got %d spans %v, want %d", got, names(spans), want)
	}
	callSpan := spanNamed(t, spans, "chat app/chat")
	if got, want := callSpan.SpanKind(), trace.SpanKindInternal; got != want {
		t.Errorf("call span kind: got %v, want %v", got, want)
	}
	if got, want := callSpan.Status().Code, codes.Unset; got != want {
		t.Errorf("call span status: got %v, want %v (a fallback served)", got, want)
	}
	if diff := cmp.Diff(attrs(callSpan.Attributes()), map[string]any{
		"gen_ai.operation.name":  "chat",
		"gen_ai.request.model":   "app/chat",
		"gen_ai.response.model":  "model-b-2026",
		"llmroute.virtual_model": "app/chat",
		"llmroute.resolved":      "acct-b/model-b",
		"llmroute.attempts":      int64(3),
		"llmroute.retries":       int64(1),
		"llmroute.fallbacks":     int64(1),
	}); diff != "" {
		t.Errorf("call span attributes (-got +want):\n%s", diff)
	}

	var children []string
	for _, s := range spans {
		if s.Parent().SpanID() == callSpan.SpanContext().SpanID() {
			children = append(children, s.Name())
		}
	}
	if diff := cmp.Diff(children, []string{"chat model-a", "chat model-a", "chat model-b"}); diff != "" {
		t.Errorf("children of the call span, in order (-got +want):\n%s", diff)
	}

	base := func(extra map[string]any) map[string]any {
		m := map[string]any{
			"gen_ai.operation.name":      "chat",
			"gen_ai.provider.name":       "openai",
			"gen_ai.request.model":       "model-a",
			"gen_ai.request.temperature": 0.7,
			"gen_ai.request.max_tokens":  int64(100),
			"server.address":             "a.example",
			"server.port":                int64(443),
			"llmroute.virtual_model":     "app/chat",
			"llmroute.target":            "acct-a/model-a",
			"llmroute.try":               int64(1),
			"llmroute.reason":            "picked",
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	want := []map[string]any{
		base(map[string]any{"llmroute.class": "retry", "error.type": "500"}),
		base(map[string]any{"llmroute.class": "fallback", "error.type": "500", "llmroute.try": int64(2), "llmroute.wait": 0.25}),
		base(map[string]any{
			"llmroute.class": "ok", "llmroute.reason": "fallback", "llmroute.target": "acct-b/model-b",
			"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "model-b",
			"server.address": "b.example", "server.port": int64(8443),
			"gen_ai.response.id": "resp-1", "gen_ai.response.model": "model-b-2026",
			"gen_ai.response.finish_reasons": []string{"stop"},
			"gen_ai.usage.input_tokens":      int64(12), "gen_ai.usage.output_tokens": int64(5),
			"gen_ai.usage.cache_read.input_tokens": int64(4), "gen_ai.usage.reasoning.output_tokens": int64(2),
		}),
	}
	wantStatus := []codes.Code{codes.Error, codes.Error, codes.Unset}
	for i, s := range spans[:3] {
		if got, want := s.SpanKind(), trace.SpanKindClient; got != want {
			t.Errorf("attempt %d kind: got %v, want %v", i+1, got, want)
		}
		if got := s.Status().Code; got != wantStatus[i] {
			t.Errorf("attempt %d status: got %v, want %v", i+1, got, wantStatus[i])
		}
		if diff := cmp.Diff(attrs(s.Attributes()), want[i]); diff != "" {
			t.Errorf("attempt %d attributes (-got +want):\n%s", i+1, diff)
		}
	}
	if got, want := spans[0].Status().Description, fail.Error(); got != want {
		t.Errorf("failed attempt's status description: got %q, want %q", got, want)
	}

	ms := r.metrics(t)
	dur := histPoints(t, ms[routeotel.MetricOperationDuration])
	type point struct {
		Attrs map[string]any
		Count uint64
		Sum   float64
	}
	var gotDur []point
	for _, p := range dur {
		gotDur = append(gotDur, point{setAttrs(p.Attributes), p.Count, p.Sum})
	}
	attemptAttrs := func(info providers.Info, model string, extra ...attribute.KeyValue) map[string]any {
		m := map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.provider.name": info.Name, "gen_ai.request.model": model,
			"server.address": info.Address, "server.port": int64(info.Port),
		}
		for _, kv := range extra {
			m[string(kv.Key)] = kv.Value.AsInterface()
		}
		return m
	}
	wantDur := []point{ // sorted by attributes, error.type first
		{attemptAttrs(infoA, "model-a", attribute.String("error.type", "500")), 2, 0.03},
		{attemptAttrs(infoB, "model-b", attribute.String("gen_ai.response.model", "model-b-2026")), 1, 0.04},
	}
	if diff := cmp.Diff(gotDur, wantDur, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricOperationDuration, diff)
	}

	var gotTokens []point
	for _, p := range intHistPoints(t, ms[routeotel.MetricTokenUsage]) {
		gotTokens = append(gotTokens, point{setAttrs(p.Attributes), p.Count, float64(p.Sum)})
	}
	respModel := attribute.String("gen_ai.response.model", "model-b-2026")
	wantTokens := []point{
		{attemptAttrs(infoB, "model-b", respModel, attribute.String("gen_ai.token.type", "input")), 1, 12},
		{attemptAttrs(infoB, "model-b", respModel, attribute.String("gen_ai.token.type", "output")), 1, 5},
	}
	if diff := cmp.Diff(gotTokens, wantTokens); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricTokenUsage, diff)
	}

	callAttrs := `gen_ai.operation.name=chat,llmroute.virtual_model=app/chat`
	for name, want := range map[string]int64{routeotel.MetricRetries: 1, routeotel.MetricFallbacks: 1} {
		if diff := cmp.Diff(sumPoints(t, ms[name]), map[string]int64{callAttrs: want}); diff != "" {
			t.Errorf("%s (-got +want):\n%s", name, diff)
		}
	}
	att := intHistPoints(t, ms[routeotel.MetricCallAttempts])
	if len(att) != 1 || att[0].Sum != 3 || att[0].Count != 1 {
		t.Errorf("%s: got %+v, want one call with 3 attempts", routeotel.MetricCallAttempts, att)
	}
	cd := histPoints(t, ms[routeotel.MetricCallDuration])
	if len(cd) != 1 || cd[0].Sum != 0.5 || cd[0].Attributes.Encoded(attribute.DefaultEncoder()) != callAttrs {
		t.Errorf("%s: got %+v, want one 0.5 s call with %s", routeotel.MetricCallDuration, cd, callAttrs)
	}
	for _, name := range []string{routeotel.MetricTimeToFirstChunk, routeotel.MetricTimePerOutputChunk, routeotel.MetricStickyHits, routeotel.MetricStreamInterruptions} {
		if m, ok := ms[name]; ok {
			t.Errorf("%s recorded for a unary call with no sticky pin: %+v", name, m.Data)
		}
	}
}

// TestBucketBoundaries checks every histogram carries the boundaries the
// conventions advise (and the documented ones for llmroute's own).
func TestBucketBoundaries(t *testing.T) {
	r := newRig(t)
	o := r.o
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
	cctx := o.StartCall(context.Background(), call)
	a := chatAttempt("acct-a/model-a", "model-a", infoA, 1)
	a.Stream = true
	actx := o.StartAttempt(cctx, a)
	o.StreamChunk(actx, a)
	o.StreamChunk(actx, a)
	resp := &routing.Response{Model: "m", InputTokens: 1, OutputTokens: 2}
	o.EndAttempt(actx, a, &routing.Attempt{Class: "ok", Status: 200, TTFT: time.Millisecond, Duration: time.Second}, resp)
	o.EndCall(cctx, call, &routing.CallEnd{VirtualModel: "app/chat", Attempts: 1, Response: resp, Duration: time.Second})

	durations := []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	tokens := []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	ms := r.metrics(t)
	for _, tt := range []struct {
		name string
		want []float64
	}{
		{routeotel.MetricOperationDuration, durations},
		{routeotel.MetricTimeToFirstChunk, durations},
		{routeotel.MetricTimePerOutputChunk, durations},
		{routeotel.MetricTokenUsage, tokens},
		{routeotel.MetricCallDuration, append(durations[:len(durations):len(durations)], 163.84, 327.68, 655.36)},
		{routeotel.MetricCallAttempts, []float64{1, 2, 3, 4, 5, 6, 8, 10, 16}},
	} {
		m, ok := ms[tt.name]
		if !ok {
			t.Errorf("%s not recorded", tt.name)
			continue
		}
		var got []float64
		switch d := m.Data.(type) {
		case metricdata.Histogram[float64]:
			got = d.DataPoints[0].Bounds
		case metricdata.Histogram[int64]:
			got = d.DataPoints[0].Bounds
		default:
			t.Fatalf("%s: data is %T, want a histogram", tt.name, m.Data)
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("%s bounds (-got +want):\n%s", tt.name, diff)
		}
	}
	wantUnits := map[string]string{
		routeotel.MetricOperationDuration: "s", routeotel.MetricTimeToFirstChunk: "s",
		routeotel.MetricTimePerOutputChunk: "s", routeotel.MetricTokenUsage: "{token}",
		routeotel.MetricCallDuration: "s", routeotel.MetricCallAttempts: "{attempt}",
	}
	for name, want := range wantUnits {
		if got := ms[name].Unit; got != want {
			t.Errorf("%s unit: got %q, want %q", name, got, want)
		}
	}
}

func TestStream(t *testing.T) {
	r := newRig(t)
	o := r.o
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "slug-chat"}
	cctx := o.StartCall(context.Background(), call)
	a := chatAttempt("acct-a/model-a", "model-a", infoA, 1)
	a.Stream = true
	actx := o.StartAttempt(cctx, a)
	for range 4 {
		o.StreamChunk(actx, a)
	}
	resp := &routing.Response{ID: "s-1", Model: "model-a", FinishReasons: []string{"stop"}, InputTokens: 3, OutputTokens: 4}
	o.EndAttempt(actx, a, &routing.Attempt{Class: "ok", Status: 200, TTFT: 150 * time.Millisecond, Duration: time.Second}, resp)
	// A chunk after the end (a Close racing a Recv) records nothing, and
	// a second end does nothing.
	o.StreamChunk(actx, a)
	o.EndAttempt(actx, a, &routing.Attempt{Class: "ok", Status: 200, Duration: time.Second}, resp)
	end := &routing.CallEnd{VirtualModel: "app/chat", Resolved: "acct-a/model-a", Attempts: 1, Response: resp, Duration: time.Second}
	o.EndCall(cctx, call, end)
	o.EndCall(cctx, call, end)

	spans := r.spans()
	if got := len(spans); got != 2 {
		t.Fatalf("got %d spans %v, want 2", got, names(spans))
	}
	// The call was made by slug: its span is renamed after the virtual
	// model once resolved.
	callSpan := spanNamed(t, spans, "chat app/chat")
	if got, want := attrs(callSpan.Attributes())["gen_ai.request.stream"], any(true); got != want {
		t.Errorf("call span gen_ai.request.stream: got %v, want %v", got, want)
	}
	if got, want := attrs(callSpan.Attributes())["llmroute.restarts"], any(int64(0)); got != want {
		t.Errorf("call span llmroute.restarts: got %v, want %v", got, want)
	}
	att := attrs(spanNamed(t, spans, "chat model-a").Attributes())
	if got, want := att["gen_ai.response.time_to_first_chunk"], any(0.15); got != want {
		t.Errorf("attempt span time to first chunk: got %v, want %v", got, want)
	}
	if got, want := att["gen_ai.request.stream"], any(true); got != want {
		t.Errorf("attempt span gen_ai.request.stream: got %v, want %v", got, want)
	}

	ms := r.metrics(t)
	ttfc := histPoints(t, ms[routeotel.MetricTimeToFirstChunk])
	if len(ttfc) != 1 || ttfc[0].Count != 1 || ttfc[0].Sum != 0.15 {
		t.Errorf("%s: got %+v, want one 0.15 s point", routeotel.MetricTimeToFirstChunk, ttfc)
	}
	if got, want := setAttrs(ttfc[0].Attributes)["gen_ai.response.model"], any("model-a"); got != want {
		t.Errorf("%s gen_ai.response.model: got %v, want %v", routeotel.MetricTimeToFirstChunk, got, want)
	}
	tpoc := histPoints(t, ms[routeotel.MetricTimePerOutputChunk])
	if len(tpoc) != 1 || tpoc[0].Count != 3 {
		t.Fatalf("%s: got %+v, want 3 records (4 chunks, the first not counted)", routeotel.MetricTimePerOutputChunk, tpoc)
	}
	if diff := cmp.Diff(setAttrs(tpoc[0].Attributes), map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "model-a",
		"server.address": "a.example", "server.port": int64(443),
	}); diff != "" {
		t.Errorf("%s attributes (-got +want):\n%s", routeotel.MetricTimePerOutputChunk, diff)
	}
	cd := histPoints(t, ms[routeotel.MetricCallDuration])
	if len(cd) != 1 || cd[0].Count != 1 {
		t.Fatalf("%s: got %+v, want one call", routeotel.MetricCallDuration, cd)
	}
	if got, want := setAttrs(cd[0].Attributes)["gen_ai.request.stream"], any(true); got != want {
		t.Errorf("%s gen_ai.request.stream: got %v, want %v", routeotel.MetricCallDuration, got, want)
	}
}

// TestStreamTTFTFromChunks: when the Client's record has no time to first
// chunk, the first chunk delivered gives it.
func TestStreamTTFTFromChunks(t *testing.T) {
	r := newRig(t)
	o := r.o
	a := chatAttempt("acct-a/model-a", "model-a", infoA, 1)
	a.Stream = true
	actx := o.StartAttempt(context.Background(), a)
	o.StreamChunk(actx, a)
	o.EndAttempt(actx, a, &routing.Attempt{Class: "ok", Status: 200}, nil)
	ttfc := histPoints(t, r.metrics(t)[routeotel.MetricTimeToFirstChunk])
	if len(ttfc) != 1 || ttfc[0].Count != 1 || ttfc[0].Sum <= 0 {
		t.Errorf("%s: got %+v, want one positive record", routeotel.MetricTimeToFirstChunk, ttfc)
	}
}

func TestInterruptedStream(t *testing.T) {
	r := newRig(t)
	o := r.o
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
	cctx := o.StartCall(context.Background(), call)
	a := chatAttempt("acct-a/model-a", "model-a", infoA, 1)
	a.Stream = true
	actx := o.StartAttempt(cctx, a)
	o.StreamChunk(actx, a)
	o.StreamChunk(actx, a)
	cut := &providers.Error{Status: providers.StatusTransport, Code: providers.CodeStreamTruncated, Message: "stream ended early"}
	o.EndAttempt(actx, a, &routing.Attempt{Class: "interrupted", Status: 502, Err: cut, TTFT: 20 * time.Millisecond}, nil)
	callErr := &routing.StreamError{Model: "app/chat", Target: "acct-a/model-a", Chunks: 2, Err: cut}
	o.EndCall(cctx, call, &routing.CallEnd{VirtualModel: "app/chat", Attempts: 1, Err: callErr, Duration: time.Second})

	spans := r.spans()
	callSpan := spanNamed(t, spans, "chat app/chat")
	if got, want := callSpan.Status(), (sdkStatus{codes.Error, callErr.Error()}); got.Code != want.code || got.Description != want.desc {
		t.Errorf("call span status: got %+v, want %+v", got, want)
	}
	if got, want := attrs(callSpan.Attributes())["error.type"], any("stream_truncated"); got != want {
		t.Errorf("call span error.type: got %v, want %v", got, want)
	}
	att := attrs(spanNamed(t, spans, "chat model-a").Attributes())
	if got, want := att["error.type"], any("stream_truncated"); got != want {
		t.Errorf("attempt error.type: got %v, want %v", got, want)
	}
	if got, want := att["llmroute.class"], any("interrupted"); got != want {
		t.Errorf("attempt llmroute.class: got %v, want %v", got, want)
	}
	ms := r.metrics(t)
	if diff := cmp.Diff(sumPoints(t, ms[routeotel.MetricStreamInterruptions]), map[string]int64{
		"error.type=stream_truncated,llmroute.target=acct-a/model-a,llmroute.virtual_model=app/chat": 1,
	}); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricStreamInterruptions, diff)
	}
	cd := histPoints(t, ms[routeotel.MetricCallDuration])
	if got, want := setAttrs(cd[0].Attributes)["error.type"], any("stream_truncated"); got != want {
		t.Errorf("%s error.type: got %v, want %v", routeotel.MetricCallDuration, got, want)
	}
}

type sdkStatus struct {
	code codes.Code
	desc string
}

// TestErrorType checks the error.type of failed calls and attempts, as
// the package documentation lists them.
func TestErrorType(t *testing.T) {
	deadline := &providers.Error{Status: providers.StatusTimeout, Err: context.DeadlineExceeded}
	attemptErr := func(status int, err error) error {
		return &routing.Error{Model: "app/chat", Attempts: []*target.Error{
			{Target: "x/first", Try: 1, Status: 429, Err: &providers.Error{Status: 429, Code: "rate_limit_exceeded"}},
			{Target: "x/last", Try: 1, Status: status, Err: err},
		}}
	}
	for _, tt := range []struct {
		name        string
		err         error
		status      int
		class       string
		wantCall    string
		wantAttempt string
	}{
		{"provider code", &providers.Error{Status: 400, Code: "context_length_exceeded"}, 400, "stop", "context_length_exceeded", "context_length_exceeded"},
		{"overloaded keeps its code", &providers.Error{Status: 503, Code: "overloaded_error"}, 503, "fallback", "overloaded_error", "overloaded_error"},
		{"status without code", &providers.Error{Status: 503}, 503, "fallback", "503", "503"},
		{"timeout", deadline, 408, "fallback", "timeout", "timeout"},
		{"ttft timeout keeps its code", &providers.Error{Status: 408, Code: providers.CodeTTFTTimeout}, 408, "fallback", "ttft_timeout", "ttft_timeout"},
		{"transport", &providers.Error{Status: providers.StatusTransport, Err: errors.New("connection reset")}, 502, "fallback", "502", "502"},
		{"plain error", errors.New("???"), 502, "fallback", "502", "502"},
		{"go-openai error", &openai.APIError{HTTPStatusCode: 429, Code: "insufficient_quota"}, 429, "fallback", "insufficient_quota", "insufficient_quota"},
		{"status from any error", statusErr(418), 418, "stop", "418", "418"},
		{"panic", errors.New("routing: provider panicked: x"), 0, "panic", "_OTHER", "panic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			o := r.o
			call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
			cctx := o.StartCall(context.Background(), call)
			a := chatAttempt("x/last", "last", infoA, 1)
			runAttempt(o, cctx, a, routing.Attempt{Status: tt.status, Class: tt.class, Err: tt.err}, nil)
			o.EndCall(cctx, call, &routing.CallEnd{VirtualModel: "app/chat", Attempts: 2, Err: attemptErr(tt.status, tt.err)})
			spans := r.spans()
			if got := attrs(spanNamed(t, spans, "chat last").Attributes())["error.type"]; got != tt.wantAttempt {
				t.Errorf("attempt error.type: got %v, want %v", got, tt.wantAttempt)
			}
			if got := attrs(spanNamed(t, spans, "chat app/chat").Attributes())["error.type"]; got != tt.wantCall {
				t.Errorf("call error.type: got %v, want %v", got, tt.wantCall)
			}
		})
	}

	calls := []struct {
		name string
		err  error
		want string
	}{
		{"unknown model", fmt.Errorf("%w: %q", routing.ErrUnknownModel, "nope"), "unknown_model"},
		{"forbidden", routing.ErrForbidden, "forbidden"},
		{"unsupported", routing.ErrUnsupportedOperation, "unsupported_operation"},
		{"no eligible", routing.ErrNoEligibleTarget, "no_eligible_target"},
		{"canceled before attempts", context.Canceled, "canceled"},
		{"canceled during attempts", &routing.Error{Model: "m", Cause: context.Canceled, Attempts: []*target.Error{{Status: 500}}}, "canceled"},
		{"deadline during attempts", &routing.Error{Model: "m", Cause: context.DeadlineExceeded}, "timeout"},
		{"deadline before attempts", context.DeadlineExceeded, "timeout"},
		{"no attempts", &routing.Error{Model: "m"}, "_OTHER"},
		{"stream cancelled after its first chunk", &routing.StreamError{Err: context.Canceled}, "canceled"},
		{"stream stalled", &routing.StreamError{Err: &providers.Error{Status: 408, Code: providers.CodeStreamIdleTimeout}}, "stream_idle_timeout"},
		{"stream restart failed", &routing.StreamError{Err: attemptErr(500, &providers.Error{Status: 500})}, "500"},
		{"nil context", errors.New("routing: nil context"), "_OTHER"},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
			cctx := r.o.StartCall(context.Background(), call)
			r.o.EndCall(cctx, call, &routing.CallEnd{Err: tt.err})
			s := spanNamed(t, r.spans(), "chat app/chat")
			if got := attrs(s.Attributes())["error.type"]; got != tt.want {
				t.Errorf("error.type: got %v, want %v", got, tt.want)
			}
			if got, want := s.Status().Code, codes.Error; got != want {
				t.Errorf("status: got %v, want %v", got, want)
			}
		})
	}
}

type statusErr int

func (e statusErr) Error() string   { return "status " + http.StatusText(int(e)) }
func (e statusErr) StatusCode() int { return int(e) }

// TestUnresolvedCall: a name that does not resolve keeps the span's name
// and gives metrics no virtual model, so callers' typos do not become
// metric series.
func TestUnresolvedCall(t *testing.T) {
	r := newRig(t)
	call := &routing.CallInfo{Operation: providers.OpEmbedding, Model: "typo/model"}
	cctx := r.o.StartCall(context.Background(), call)
	r.o.EndCall(cctx, call, &routing.CallEnd{Err: routing.ErrUnknownModel})
	s := spanNamed(t, r.spans(), "embeddings typo/model")
	if _, ok := attrs(s.Attributes())["llmroute.virtual_model"]; ok {
		t.Errorf("unresolved call has llmroute.virtual_model")
	}
	cd := histPoints(t, r.metrics(t)[routeotel.MetricCallDuration])
	if diff := cmp.Diff(setAttrs(cd[0].Attributes), map[string]any{
		"gen_ai.operation.name": "embeddings", "llmroute.virtual_model": "", "error.type": "unknown_model",
	}); diff != "" {
		t.Errorf("%s attributes (-got +want):\n%s", routeotel.MetricCallDuration, diff)
	}
}

func TestStickyAndRestarts(t *testing.T) {
	r := newRig(t)
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
	cctx := r.o.StartCall(context.Background(), call)
	r.o.EndCall(cctx, call, &routing.CallEnd{VirtualModel: "app/chat", Attempts: 2, Fallbacks: 1, Restarts: 1, Sticky: true})
	ms := r.metrics(t)
	key := "gen_ai.operation.name=chat,gen_ai.request.stream=true,llmroute.virtual_model=app/chat"
	for _, name := range []string{routeotel.MetricStickyHits, routeotel.MetricStreamRestarts, routeotel.MetricFallbacks} {
		if diff := cmp.Diff(sumPoints(t, ms[name]), map[string]int64{key: 1}); diff != "" {
			t.Errorf("%s (-got +want):\n%s", name, diff)
		}
	}
	if _, ok := ms[routeotel.MetricRetries]; ok {
		t.Errorf("%s recorded for a call with no retry", routeotel.MetricRetries)
	}
	got := attrs(spanNamed(t, r.spans(), "chat app/chat").Attributes())
	if got["llmroute.sticky"] != true || got["llmroute.restarts"] != int64(1) {
		t.Errorf("call span: got sticky %v, restarts %v; want true, 1", got["llmroute.sticky"], got["llmroute.restarts"])
	}
}

func TestRequestAttributes(t *testing.T) {
	seed := 42
	for _, tt := range []struct {
		name string
		a    routing.AttemptInfo
		want map[string]any
	}{
		{
			name: "chat",
			a: routing.AttemptInfo{Operation: providers.OpChat, Chat: &providers.ChatRequest{
				Request: openai.ChatCompletionRequest{
					Temperature: 0.3, TopP: 0.9, FrequencyPenalty: 0.1, PresencePenalty: -0.5,
					MaxTokens: 10, MaxCompletionTokens: 20, N: 3, Seed: &seed, Stop: []string{"\n\n", "END"},
					ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONSchema},
				},
				Call: providers.Call{Extra: map[string]any{"top_k": 40}},
			}},
			want: map[string]any{
				"gen_ai.request.temperature": 0.3, "gen_ai.request.top_p": 0.9,
				"gen_ai.request.frequency_penalty": 0.1, "gen_ai.request.presence_penalty": -0.5,
				"gen_ai.request.max_tokens": int64(20), "gen_ai.request.choice.count": int64(3),
				"gen_ai.request.seed": int64(42), "gen_ai.request.stop_sequences": []string{"\n\n", "END"},
				"gen_ai.output.type": "json", "gen_ai.request.top_k": 40.0,
			},
		},
		{
			name: "chat with nothing set",
			a:    routing.AttemptInfo{Operation: providers.OpChat, Chat: &providers.ChatRequest{}},
			want: map[string]any{},
		},
		{
			name: "chat with one choice and text output",
			a: routing.AttemptInfo{Operation: providers.OpChat, Chat: &providers.ChatRequest{Request: openai.ChatCompletionRequest{
				N: 1, MaxTokens: 7, ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeText},
			}}},
			want: map[string]any{"gen_ai.request.max_tokens": int64(7), "gen_ai.output.type": "text"},
		},
		{
			name: "completion",
			a: routing.AttemptInfo{Operation: providers.OpCompletion, Completion: &providers.CompletionRequest{
				Request: openai.CompletionRequest{Temperature: 1.2, MaxTokens: 5, Stop: []string{"x"}},
				Call:    providers.Call{Extra: map[string]any{"top_k": 5.0}},
			}},
			want: map[string]any{
				"gen_ai.request.temperature": 1.2, "gen_ai.request.max_tokens": int64(5),
				"gen_ai.request.stop_sequences": []string{"x"}, "gen_ai.request.top_k": 5.0,
			},
		},
		{
			name: "embedding",
			a: routing.AttemptInfo{Operation: providers.OpEmbedding, Embedding: &providers.EmbeddingRequest{Request: openai.EmbeddingRequest{
				EncodingFormat: openai.EmbeddingEncodingFormatBase64, Dimensions: 256,
			}}},
			want: map[string]any{"gen_ai.request.encoding_formats": []string{"base64"}, "gen_ai.embeddings.dimension.count": int64(256)},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			a := tt.a
			a.Target, a.Model, a.Try, a.Reason = "acct/m", "m", 1, strategy.ReasonPicked
			r.o.EndAttempt(r.o.StartAttempt(context.Background(), &a), &a, &routing.Attempt{Class: "ok", Status: 200}, nil)
			got := attrs(r.spans()[0].Attributes())
			for _, k := range []string{"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "llmroute.target", "llmroute.try", "llmroute.reason", "llmroute.class", "llmroute.virtual_model"} {
				delete(got, k)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("request attributes (-got +want):\n%s", diff)
			}
		})
	}
}

// TestProviderName: a provider that does not describe itself is named by
// its account, and has no server attributes.
func TestProviderName(t *testing.T) {
	r := newRig(t)
	a := chatAttempt("my-vllm/llama", "llama", providers.Info{}, 1)
	a.Cause = strategy.CauseExplore
	r.o.EndAttempt(r.o.StartAttempt(context.Background(), a), a, &routing.Attempt{Class: "ok", Status: 200}, nil)
	got := attrs(r.spans()[0].Attributes())
	if got["gen_ai.provider.name"] != "my-vllm" {
		t.Errorf("gen_ai.provider.name: got %v, want my-vllm", got["gen_ai.provider.name"])
	}
	if got["llmroute.cause"] != strategy.CauseExplore.String() {
		t.Errorf("llmroute.cause: got %v, want %v", got["llmroute.cause"], strategy.CauseExplore)
	}
	for _, k := range []string{"server.address", "server.port"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s set for a provider with no address", k)
		}
	}
}

func TestContent(t *testing.T) {
	msgs := []openai.ChatCompletionMessage{
		{Role: "system", Content: "be brief"},
		{Role: "user", MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeText, Text: "what is this?"},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://img.example/cat.png"}},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "data:image/png;base64,iVBORw0K"}},
		}},
		{Role: "assistant", ReasoningContent: "hmm", ToolCalls: []openai.ToolCall{
			{ID: "call_1", Type: "function", Function: openai.FunctionCall{Name: "lookup", Arguments: `{"q":"cat"}`}},
			{ID: "call_2", Type: "function", Function: openai.FunctionCall{Name: "raw", Arguments: `not json`}},
		}},
		{Role: "tool", ToolCallID: "call_1", Content: "a cat"},
		{Role: "assistant", Content: "", Name: "bot"},
	}
	const wantChat = `[{"role":"system","parts":[{"type":"text","content":"be brief"}]},` +
		`{"role":"user","parts":[{"type":"text","content":"what is this?"},{"type":"uri","modality":"image","uri":"https://img.example/cat.png"},{"type":"blob","modality":"image","mime_type":"image/png","content":"iVBORw0K"}]},` +
		`{"role":"assistant","parts":[{"type":"reasoning","content":"hmm"},{"type":"tool_call","id":"call_1","name":"lookup","arguments":{"q":"cat"}},{"type":"tool_call","id":"call_2","name":"raw","arguments":"not json"}]},` +
		`{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"a cat"}]},` +
		`{"role":"assistant","parts":[],"name":"bot"}]`
	for _, tt := range []struct {
		name    string
		content bool
		a       routing.AttemptInfo
		want    any // the attribute's value, or nil for none
	}{
		{"chat, off by default", false, routing.AttemptInfo{Operation: providers.OpChat, Chat: &providers.ChatRequest{Request: openai.ChatCompletionRequest{Messages: msgs}}}, nil},
		{"chat", true, routing.AttemptInfo{Operation: providers.OpChat, Chat: &providers.ChatRequest{Request: openai.ChatCompletionRequest{Messages: msgs}}}, wantChat},
		{"completion", true, routing.AttemptInfo{Operation: providers.OpCompletion, Completion: &providers.CompletionRequest{Request: openai.CompletionRequest{Prompt: []string{"a", "b"}}}},
			`[{"role":"user","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]`},
		{"completion of one string", true, routing.AttemptInfo{Operation: providers.OpCompletion, Completion: &providers.CompletionRequest{Request: openai.CompletionRequest{Prompt: "hi"}}},
			`[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`},
		{"completion of token ids", true, routing.AttemptInfo{Operation: providers.OpCompletion, Completion: &providers.CompletionRequest{Request: openai.CompletionRequest{Prompt: []any{"x", 1}}}},
			`[{"role":"user","parts":[{"type":"text","content":"x"}]}]`},
		{"embeddings carry no messages", true, routing.AttemptInfo{Operation: providers.OpEmbedding, Embedding: &providers.EmbeddingRequest{Request: openai.EmbeddingRequest{Input: "secret text"}}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, routeotel.WithContent(tt.content))
			a := tt.a
			a.Target, a.Model = "acct/m", "m"
			r.o.EndAttempt(r.o.StartAttempt(context.Background(), &a), &a, &routing.Attempt{Class: "ok"}, nil)
			got := attrs(r.spans()[0].Attributes())["gen_ai.input.messages"]
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("gen_ai.input.messages (-got +want):\n%s", diff)
			}
		})
	}
}

func TestObserve(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.o.Observe(ctx, routing.Event{Kind: routing.EventHealth, Model: "app/chat", Target: "a/m", Health: routing.HealthDemoted})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventHealth, Model: "app/chat", Target: "a/m", Health: routing.HealthProbed})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventHealth, Model: "app/chat", Target: "a/m", Health: routing.HealthProbed})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventHealth, Model: "app/chat", Target: "a/m", Health: routing.HealthRecovered})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventStoreError, Model: "app/chat", Err: errors.New("redis down")})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventConfigWarning, Err: errors.New("weights sum to 90")})
	r.o.Observe(ctx, routing.Event{Kind: routing.EventAttempt, Model: "app/chat", Attempt: routing.Attempt{Target: "a/m", Class: "ok"}})
	r.o.Observe(ctx, routing.Event{Kind: 99})

	ms := r.metrics(t)
	if diff := cmp.Diff(sumPoints(t, ms[routeotel.MetricHealthChanges]), map[string]int64{
		"llmroute.health=demoted,llmroute.target=a/m,llmroute.virtual_model=app/chat":   1,
		"llmroute.health=probed,llmroute.target=a/m,llmroute.virtual_model=app/chat":    2,
		"llmroute.health=recovered,llmroute.target=a/m,llmroute.virtual_model=app/chat": 1,
	}); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricHealthChanges, diff)
	}
	if diff := cmp.Diff(sumPoints(t, ms[routeotel.MetricStoreErrors]), map[string]int64{"llmroute.virtual_model=app/chat": 1}); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricStoreErrors, diff)
	}
	if diff := cmp.Diff(sumPoints(t, ms[routeotel.MetricConfigWarnings]), map[string]int64{"": 1}); diff != "" {
		t.Errorf("%s (-got +want):\n%s", routeotel.MetricConfigWarnings, diff)
	}
	// Attempts are the Tracer hooks' to record; an EventAttempt adds
	// nothing, so nothing is counted twice.
	if got := len(ms); got != 3 {
		t.Errorf("got %d metrics, want 3 (health, store, warnings): %v", got, ms)
	}
	if got := len(r.spans()); got != 0 {
		t.Errorf("Observe made %d spans, want none", got)
	}
}

// TestForeignContext: hooks given a context their Observer did not make
// (a Client bug, or a second Observer's) do nothing and do not panic.
func TestForeignContext(t *testing.T) {
	r := newRig(t)
	other := newRig(t)
	call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	ctx := other.o.StartAttempt(other.o.StartCall(context.Background(), call), a)
	r.o.StreamChunk(ctx, a)
	r.o.EndAttempt(ctx, a, &routing.Attempt{Class: "ok"}, nil)
	r.o.EndCall(ctx, call, &routing.CallEnd{})
	r.o.EndCall(context.Background(), call, nil)
	// Nil pointers, which the Client never passes, are ignored.
	r.o.EndAttempt(r.o.StartAttempt(context.Background(), nil), nil, nil, nil)
	r.o.EndCall(r.o.StartCall(context.Background(), nil), nil, nil)
	if got := len(r.spans()); got != 0 {
		t.Errorf("got %d spans from a foreign context, want 0", got)
	}
	if got := len(r.metrics(t)); got != 0 {
		t.Errorf("got %d metrics from a foreign context, want 0", got)
	}
	if got := len(other.spans()); got != 0 {
		t.Errorf("the other Observer's spans ended by this one: %d", got)
	}
}

// TestTwoObservers: two Observers on one Client keep their own spans.
func TestTwoObservers(t *testing.T) {
	r1, r2 := newRig(t), newRig(t)
	call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	ctx := r2.o.StartCall(r1.o.StartCall(context.Background(), call), call)
	actx := r2.o.StartAttempt(r1.o.StartAttempt(ctx, a), a)
	r1.o.EndAttempt(actx, a, &routing.Attempt{Class: "ok"}, nil)
	r2.o.EndAttempt(actx, a, &routing.Attempt{Class: "ok"}, nil)
	r1.o.EndCall(actx, call, &routing.CallEnd{})
	r2.o.EndCall(actx, call, &routing.CallEnd{})
	for i, r := range []*rig{r1, r2} {
		spans := r.spans()
		if got := len(spans); got != 2 {
			t.Fatalf("observer %d: got %d spans, want 2", i+1, got)
		}
		if diff := cmp.Diff(names(spans), []string{"chat m", "chat app/chat"}); diff != "" {
			t.Errorf("observer %d: spans (-got +want):\n%s", i+1, diff)
		}
	}
}

// TestZeroObserver: the zero Observer records nothing and does not
// panic.
func TestZeroObserver(t *testing.T) {
	var o routeotel.Observer
	call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	ctx := context.Background()
	if got := o.StartCall(ctx, call); got != ctx {
		t.Errorf("StartCall changed the context")
	}
	if got := o.StartAttempt(ctx, a); got != ctx {
		t.Errorf("StartAttempt changed the context")
	}
	o.StreamChunk(ctx, a)
	o.EndAttempt(ctx, a, &routing.Attempt{}, nil)
	o.EndCall(ctx, call, &routing.CallEnd{})
	o.Observe(ctx, routing.Event{Kind: routing.EventHealth})
}

// TestNilOptions: a nil option, or a nil provider, means the global
// provider.
func TestNilOptions(t *testing.T) {
	o := routeotel.New(nil, routeotel.WithTracerProvider(nil), routeotel.WithMeterProvider(nil))
	call := &routing.CallInfo{Operation: providers.OpChat, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	a.Stream = true
	ctx := o.StartCall(context.Background(), call)
	actx := o.StartAttempt(ctx, a)
	if !trace.SpanContextFromContext(actx).Equal(trace.SpanContextFromContext(ctx)) {
		// The global no-op provider makes non-recording spans that
		// carry their parent's context.
		t.Errorf("attempt context has a new span context under the no-op global provider")
	}
	o.StreamChunk(actx, a)
	o.StreamChunk(actx, a)
	o.EndAttempt(actx, a, &routing.Attempt{Class: "ok"}, &routing.Response{InputTokens: 1})
	o.EndCall(ctx, call, &routing.CallEnd{Err: errors.New("x")})
	o.Observe(ctx, routing.Event{Kind: routing.EventHealth})
}

// TestConcurrentCalls runs many calls through one Observer at once, for
// the race detector.
func TestConcurrentCalls(t *testing.T) {
	r := newRig(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
			ctx := r.o.StartCall(context.Background(), call)
			a := chatAttempt("acct/m", "m", infoA, 1)
			a.Stream = true
			actx := r.o.StartAttempt(ctx, a)
			var inner sync.WaitGroup
			inner.Go(func() {
				for range 50 {
					r.o.StreamChunk(actx, a)
				}
			})
			if i%2 == 0 {
				// A Close from another goroutine ends the attempt
				// while chunks are being delivered.
				r.o.EndAttempt(actx, a, &routing.Attempt{Class: "ok"}, nil)
				inner.Wait()
			} else {
				inner.Wait()
				r.o.EndAttempt(actx, a, &routing.Attempt{Class: "ok"}, nil)
			}
			r.o.EndCall(ctx, call, &routing.CallEnd{VirtualModel: "app/chat", Attempts: 1})
			r.o.Observe(ctx, routing.Event{Kind: routing.EventHealth, Target: "acct/m", Health: routing.HealthDemoted})
		})
	}
	wg.Wait()
	if got, want := len(r.spans()), 32; got != want {
		t.Errorf("got %d spans, want %d", got, want)
	}
}

// TestStreamChunkAllocs holds StreamChunk to its promise: no allocation
// per chunk, with a real SDK recording the metric.
func TestStreamChunkAllocs(t *testing.T) {
	r := newRig(t)
	call := &routing.CallInfo{Operation: providers.OpChat, Stream: true, Model: "app/chat"}
	a := chatAttempt("acct/m", "m", infoA, 1)
	a.Stream = true
	actx := r.o.StartAttempt(r.o.StartCall(context.Background(), call), a)
	r.o.StreamChunk(actx, a)
	if got := testing.AllocsPerRun(1000, func() { r.o.StreamChunk(actx, a) }); got != 0 {
		t.Errorf("StreamChunk: got %v allocations per chunk, want 0", got)
	}
}
