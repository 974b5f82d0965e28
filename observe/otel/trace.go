package otel

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
)

// Context keys of one Observer's call and attempt state, so that two
// Observers on one Client never read each other's.
type (
	callKey    struct{ o *Observer }
	attemptKey struct{ o *Observer }
)

// The span kinds as start options, made once: an option built per call
// costs an allocation.
var (
	internalKind = trace.WithSpanKind(trace.SpanKindInternal)
	clientKind   = trace.WithSpanKind(trace.SpanKindClient)
)

// callState is what an Observer keeps of a call between StartCall and
// EndCall.
type callState struct {
	span   trace.Span
	op     string
	stream bool
	ended  atomic.Bool // EndCall runs once, whatever calls it twice
}

// attemptState is what an Observer keeps of an attempt between
// StartAttempt and EndAttempt. StreamChunk runs on the goroutine reading
// the stream while Close may end the attempt from another, so the fields
// it touches are atomic.
type attemptState struct {
	span trace.Span
	base time.Time // when the attempt started, with its monotonic reading
	// attrs are the metric attributes known at the start: operation,
	// provider, request model and server.
	attrs []attribute.KeyValue
	// chunkOpts records the time per output chunk with attrs, built once
	// so that a chunk costs no allocation.
	chunkOpts [1]metric.RecordOption

	firstChunk atomic.Int64 // ns after base of the first chunk; 0 before it
	lastChunk  atomic.Int64 // ns after base of the latest chunk
	ended      atomic.Bool
}

// operationName is the conventions' gen_ai.operation.name of op.
func operationName(op providers.Operation) string {
	switch op {
	case providers.OpChat:
		return OperationChat
	case providers.OpCompletion:
		return OperationTextCompletion
	case providers.OpEmbedding:
		return OperationEmbeddings
	}
	return op.String()
}

// spanName is "{operation} {model}", or the operation alone when the model
// is unknown.
func spanName(op, model string) string {
	if model == "" {
		return op
	}
	return op + " " + model
}

// StartCall starts the call's span, an INTERNAL span named
// "{operation} {model as called}"; EndCall renames it after the resolved
// virtual model.
func (o *Observer) StartCall(ctx context.Context, call *routing.CallInfo) context.Context {
	if o.tracer == nil || call == nil {
		return ctx
	}
	op := operationName(call.Operation)
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, GenAIOperationNameKey.String(op), GenAIRequestModelKey.String(call.Model))
	if call.Stream {
		attrs = append(attrs, GenAIRequestStreamKey.Bool(true))
	}
	ctx, span := o.tracer.Start(ctx, spanName(op, call.Model),
		internalKind, trace.WithAttributes(attrs...))
	cs := &callState{span: span, op: op, stream: call.Stream}
	return context.WithValue(ctx, callKey{o}, cs)
}

// EndCall ends the call's span, with the status the caller saw, and
// records the call's metrics.
func (o *Observer) EndCall(ctx context.Context, call *routing.CallInfo, end *routing.CallEnd) {
	cs, _ := ctx.Value(callKey{o}).(*callState)
	if cs == nil || cs.ended.Swap(true) {
		return
	}
	if call == nil {
		call = &routing.CallInfo{}
	}
	if end == nil {
		end = &routing.CallEnd{}
	}
	var errType string
	if end.Err != nil {
		errType = callErrorType(end.Err)
	}
	if span := cs.span; span.IsRecording() {
		if end.VirtualModel != "" && end.VirtualModel != call.Model {
			span.SetName(spanName(cs.op, end.VirtualModel))
		}
		attrs := make([]attribute.KeyValue, 0, 10)
		if end.VirtualModel != "" {
			attrs = append(attrs, VirtualModelKey.String(end.VirtualModel))
		}
		if end.Resolved != "" {
			attrs = append(attrs, ResolvedKey.String(end.Resolved))
		}
		if r := end.Response; r != nil && r.Model != "" {
			attrs = append(attrs, GenAIResponseModelKey.String(r.Model))
		}
		attrs = append(attrs,
			AttemptsKey.Int(end.Attempts), RetriesKey.Int(end.Retries), FallbacksKey.Int(end.Fallbacks))
		if cs.stream {
			attrs = append(attrs, RestartsKey.Int(end.Restarts))
		}
		if end.Sticky {
			attrs = append(attrs, StickyKey.Bool(true))
		}
		if errType != "" {
			attrs = append(attrs, ErrorTypeKey.String(errType))
			span.SetStatus(codes.Error, end.Err.Error())
		}
		span.SetAttributes(attrs...)
	}
	cs.span.End()

	// Each set is built only for an instrument that records: under a
	// no-op MeterProvider, none does.
	m := &o.m
	kv := make([]attribute.KeyValue, 0, 3)
	kv = append(kv, GenAIOperationNameKey.String(cs.op), VirtualModelKey.String(end.VirtualModel))
	if cs.stream {
		kv = append(kv, GenAIRequestStreamKey.Bool(true))
	}
	counted := lazySet{kv: kv}
	if m.callDuration.Enabled(ctx) {
		if errType != "" {
			m.callDuration.Record(ctx, end.Duration.Seconds(), withSet(kv, nil, ErrorTypeKey.String(errType)))
		} else {
			m.callDuration.Record(ctx, end.Duration.Seconds(), counted.get())
		}
	}
	if m.callAttempts.Enabled(ctx) {
		m.callAttempts.Record(ctx, int64(end.Attempts), counted.get())
	}
	for _, c := range [...]struct {
		inst metric.Int64Counter
		n    int
	}{
		{m.retries, end.Retries},
		{m.fallbacks, end.Fallbacks},
		{m.restarts, end.Restarts},
		{m.sticky, boolInt(end.Sticky)},
	} {
		if c.n > 0 && c.inst.Enabled(ctx) {
			c.inst.Add(ctx, int64(c.n), counted.get())
		}
	}
}

// lazySet builds its measurement option the first time it is needed, so
// that instruments recording the same attributes share one set.
type lazySet struct {
	kv  []attribute.KeyValue
	opt metric.MeasurementOption
}

func (l *lazySet) get() metric.MeasurementOption {
	if l.opt == nil {
		l.opt = withSet(l.kv, nil)
	}
	return l.opt
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// StartAttempt starts the attempt's span, a CLIENT child of the call's
// span named "{operation} {target model}", carrying the request as sent.
// The context it returns reaches the provider, so spans of HTTP
// instrumentation under the provider are the attempt's children.
func (o *Observer) StartAttempt(ctx context.Context, a *routing.AttemptInfo) context.Context {
	if o.tracer == nil || a == nil {
		return ctx
	}
	op := operationName(a.Operation)
	provider := a.Provider.Name
	if provider == "" {
		// A provider that does not describe itself is named by its
		// account, the best knowledge there is of what it is.
		provider, _, _ = strings.Cut(a.Target, "/")
	}
	st := &attemptState{base: time.Now()}
	st.attrs = make([]attribute.KeyValue, 0, 5)
	st.attrs = append(st.attrs,
		GenAIOperationNameKey.String(op),
		GenAIProviderNameKey.String(provider),
		GenAIRequestModelKey.String(a.Model))
	if a.Provider.Address != "" {
		st.attrs = append(st.attrs, ServerAddressKey.String(a.Provider.Address))
		if a.Provider.Port > 0 {
			st.attrs = append(st.attrs, ServerPortKey.Int(a.Provider.Port))
		}
	}
	if a.Stream && o.m.tpoc.Enabled(ctx) {
		st.chunkOpts[0] = withSet(st.attrs, nil)
	}

	ctx, st.span = o.tracer.Start(ctx, spanName(op, a.Model), clientKind)
	if st.span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, len(st.attrs)+16)
		attrs = append(attrs, st.attrs...)
		attrs = append(attrs,
			VirtualModelKey.String(a.VirtualModel),
			TargetKey.String(a.Target),
			TryKey.Int(a.Try),
			ReasonKey.String(a.Reason.String()))
		if c := a.Cause.String(); c != "" {
			attrs = append(attrs, CauseKey.String(c))
		}
		if a.Wait > 0 {
			attrs = append(attrs, WaitKey.Float64(a.Wait.Seconds()))
		}
		if a.Stream {
			attrs = append(attrs, GenAIRequestStreamKey.Bool(true))
		}
		attrs = o.requestAttrs(attrs, a)
		st.span.SetAttributes(attrs...)
	}
	return context.WithValue(ctx, attemptKey{o}, st)
}

// requestAttrs appends the request parameters as sent, and with
// WithContent the prompt.
func (o *Observer) requestAttrs(attrs []attribute.KeyValue, a *routing.AttemptInfo) []attribute.KeyValue {
	switch {
	case a.Chat != nil:
		r := &a.Chat.Request
		maxTokens := r.MaxTokens
		if r.MaxCompletionTokens > 0 {
			maxTokens = r.MaxCompletionTokens
		}
		attrs = sampling(attrs, r.Temperature, r.TopP, r.FrequencyPenalty, r.PresencePenalty, maxTokens, r.N, r.Seed, r.Stop)
		if f := r.ResponseFormat; f != nil {
			switch f.Type {
			case "json_object", "json_schema":
				attrs = append(attrs, GenAIOutputTypeKey.String("json"))
			case "text":
				attrs = append(attrs, GenAIOutputTypeKey.String("text"))
			}
		}
		attrs = topK(attrs, a.Chat.Extra)
		if o.content {
			attrs = append(attrs, GenAIInputMessagesKey.String(chatMessages(r.Messages)))
		}
	case a.Completion != nil:
		r := &a.Completion.Request
		attrs = sampling(attrs, r.Temperature, r.TopP, r.FrequencyPenalty, r.PresencePenalty, r.MaxTokens, r.N, r.Seed, r.Stop)
		attrs = topK(attrs, a.Completion.Extra)
		if o.content {
			attrs = append(attrs, GenAIInputMessagesKey.String(promptMessages(r.Prompt)))
		}
	case a.Embedding != nil:
		r := &a.Embedding.Request
		if r.EncodingFormat != "" {
			attrs = append(attrs, GenAIRequestEncodingFormatsKey.StringSlice([]string{string(r.EncodingFormat)}))
		}
		if r.Dimensions > 0 {
			attrs = append(attrs, GenAIEmbeddingsDimensionCountKey.Int(r.Dimensions))
		}
	}
	return attrs
}

// sampling appends the sampling parameters a request sends. go-openai
// leaves zero values out of the request body, so a zero is not recorded
// either.
func sampling(attrs []attribute.KeyValue, temperature, topP, freq, pres float32, maxTokens, n int, seed *int, stop []string) []attribute.KeyValue {
	for _, p := range [...]struct {
		key attribute.Key
		v   float32
	}{
		{GenAIRequestTemperatureKey, temperature},
		{GenAIRequestTopPKey, topP},
		{GenAIRequestFrequencyPenaltyKey, freq},
		{GenAIRequestPresencePenaltyKey, pres},
	} {
		if p.v != 0 {
			attrs = append(attrs, p.key.Float64(float64From32(p.v)))
		}
	}
	if maxTokens > 0 {
		attrs = append(attrs, GenAIRequestMaxTokensKey.Int(maxTokens))
	}
	if n > 1 {
		attrs = append(attrs, GenAIRequestChoiceCountKey.Int(n))
	}
	if seed != nil {
		attrs = append(attrs, GenAIRequestSeedKey.Int(*seed))
	}
	if len(stop) > 0 {
		attrs = append(attrs, GenAIRequestStopSequencesKey.StringSlice(stop))
	}
	return attrs
}

// topK appends gen_ai.request.top_k when an override sends top_k, which
// the go-openai request types have no field for.
func topK(attrs []attribute.KeyValue, extra map[string]any) []attribute.KeyValue {
	switch v := extra["top_k"].(type) {
	case int:
		attrs = append(attrs, GenAIRequestTopKKey.Float64(float64(v)))
	case float64:
		attrs = append(attrs, GenAIRequestTopKKey.Float64(v))
	}
	return attrs
}

// float64From32 widens f to the float64 its decimal form reads as, so that
// a temperature of 0.7 is recorded as 0.7 and not as 0.699999988079071.
func float64From32(f float32) float64 {
	var buf [32]byte
	v, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)), 64)
	if err != nil {
		return float64(f)
	}
	return v
}

// StreamChunk records the time since the stream's previous chunk. It
// allocates nothing: its attributes were made by StartAttempt.
func (o *Observer) StreamChunk(ctx context.Context, _ *routing.AttemptInfo) {
	st, _ := ctx.Value(attemptKey{o}).(*attemptState)
	if st == nil || st.ended.Load() {
		return
	}
	now := int64(time.Since(st.base))
	if now <= 0 {
		now = 1 // 0 means "no chunk yet"
	}
	if st.firstChunk.CompareAndSwap(0, now) {
		st.lastChunk.Store(now)
		return
	}
	prev := st.lastChunk.Swap(now)
	if st.chunkOpts[0] != nil {
		o.m.tpoc.Record(ctx, time.Duration(now-prev).Seconds(), st.chunkOpts[:]...)
	}
}

// EndAttempt ends the attempt's span with what the provider answered and
// the attempt's outcome, and records the attempt's metrics.
func (o *Observer) EndAttempt(ctx context.Context, a *routing.AttemptInfo, rec *routing.Attempt, resp *routing.Response) {
	st, _ := ctx.Value(attemptKey{o}).(*attemptState)
	if st == nil || a == nil || st.ended.Swap(true) {
		return
	}
	var (
		errType  string
		duration = time.Since(st.base)
		class    string
		ttft     time.Duration
	)
	if rec != nil {
		class, duration, ttft = rec.Class, rec.Duration, rec.TTFT
		if rec.Err != nil {
			errType = attemptErrorType(rec.Err, rec.Status, rec.Class)
		}
	}
	if ttft <= 0 && a.Stream {
		// The Client measures the time to the first content chunk;
		// failing that, the first chunk the caller was given.
		ttft = time.Duration(st.firstChunk.Load())
	}
	if span := st.span; span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 12)
		if class != "" {
			attrs = append(attrs, ClassKey.String(class))
		}
		if resp != nil {
			attrs = responseAttrs(attrs, resp)
		}
		if a.Stream && ttft > 0 {
			attrs = append(attrs, GenAIResponseTimeToFirstChunkKey.Float64(ttft.Seconds()))
		}
		if errType != "" {
			attrs = append(attrs, ErrorTypeKey.String(errType))
			span.SetStatus(codes.Error, rec.Err.Error())
		}
		span.SetAttributes(attrs...)
	}
	st.span.End()

	m := &o.m
	var respModel []attribute.KeyValue
	if resp != nil && resp.Model != "" {
		respModel = []attribute.KeyValue{GenAIResponseModelKey.String(resp.Model)}
	}
	var plain metric.MeasurementOption // the set without error.type, built once
	if m.duration.Enabled(ctx) {
		if errType != "" {
			m.duration.Record(ctx, duration.Seconds(), withSet(st.attrs, respModel, ErrorTypeKey.String(errType)))
		} else {
			plain = withSet(st.attrs, respModel)
			m.duration.Record(ctx, duration.Seconds(), plain)
		}
	}
	if a.Stream && ttft > 0 && m.ttfc.Enabled(ctx) {
		if plain == nil {
			plain = withSet(st.attrs, respModel)
		}
		m.ttfc.Record(ctx, ttft.Seconds(), plain)
	}
	// A count of 0 is what a provider that reports no usage leaves, so
	// it is not recorded: the conventions ask for no usage rather than
	// a made-up one.
	if resp != nil && m.tokens.Enabled(ctx) {
		if resp.InputTokens > 0 {
			m.tokens.Record(ctx, int64(resp.InputTokens), withSet(st.attrs, respModel, GenAITokenTypeKey.String(TokenTypeInput)))
		}
		if resp.OutputTokens > 0 && a.Operation != providers.OpEmbedding {
			m.tokens.Record(ctx, int64(resp.OutputTokens), withSet(st.attrs, respModel, GenAITokenTypeKey.String(TokenTypeOutput)))
		}
	}
	if class == "interrupted" && m.interruptions.Enabled(ctx) {
		m.interruptions.Add(ctx, 1, withSet(nil, nil,
			VirtualModelKey.String(a.VirtualModel), TargetKey.String(a.Target), ErrorTypeKey.String(errType)))
	}
}

// withSet is a measurement option with the attributes of base, more and
// extra, in a slice of its own: attribute.NewSet sorts the slice it is
// given in place.
func withSet(base, more []attribute.KeyValue, extra ...attribute.KeyValue) metric.MeasurementOption {
	kv := make([]attribute.KeyValue, 0, len(base)+len(more)+len(extra))
	kv = append(append(append(kv, base...), more...), extra...)
	return metric.WithAttributeSet(attribute.NewSet(kv...))
}

// responseAttrs appends what the provider answered.
func responseAttrs(attrs []attribute.KeyValue, r *routing.Response) []attribute.KeyValue {
	if r.ID != "" {
		attrs = append(attrs, GenAIResponseIDKey.String(r.ID))
	}
	if r.Model != "" {
		attrs = append(attrs, GenAIResponseModelKey.String(r.Model))
	}
	if len(r.FinishReasons) > 0 {
		attrs = append(attrs, GenAIResponseFinishReasonsKey.StringSlice(r.FinishReasons))
	}
	if r.InputTokens > 0 {
		attrs = append(attrs, GenAIUsageInputTokensKey.Int(r.InputTokens))
	}
	if r.OutputTokens > 0 {
		attrs = append(attrs, GenAIUsageOutputTokensKey.Int(r.OutputTokens))
	}
	if r.CachedTokens > 0 {
		attrs = append(attrs, GenAIUsageCacheReadInputTokensKey.Int(r.CachedTokens))
	}
	if r.ReasoningTokens > 0 {
		attrs = append(attrs, GenAIUsageReasoningOutputTokensKey.Int(r.ReasoningTokens))
	}
	return attrs
}
