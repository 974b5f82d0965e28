package fake

import (
	"context"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// AnyModel scripts every model that has no script of its own.
const AnyModel = ""

// defaultDims is the length of a default embedding vector.
const defaultDims = 8

// Provider is a scripted fake provider account. It implements
// [providers.Provider], [providers.Completer], [providers.Embedder] and
// [providers.Streamer]; use [Provider.Without] for one that lacks some of
// them.
//
// Each call is recorded (see [Provider.Calls]) and answered by the next
// [Step] of the script for the request's model (see [Provider.Script]).
// The response's Model is the request's Model and its ID is "fake-N" for
// the provider's Nth call.
//
// A Provider is safe for concurrent use. The zero Provider is ready to use
// and answers every call with [DefaultReply]. A Provider must not be
// copied after first use.
type Provider struct {
	mu      sync.Mutex
	def     *script // from WithDefault; survives Reset
	scripts map[string]*script
	calls   []Call
	n       int // calls made since the last Reset
}

// Option configures a Provider made by [New].
type Option func(*Provider)

// WithDefault sets the script for models that have neither a script of
// their own nor an [AnyModel] script. Unlike the scripts given to
// [Provider.Script], it survives [Provider.Reset] (which rewinds it).
// Without it, such calls get a [Reply] of [DefaultReply].
func WithDefault(steps ...Step) Option {
	return func(p *Provider) {
		if len(steps) > 0 {
			p.def = newScript(steps)
		}
	}
}

// New returns a Provider configured by opts.
func New(opts ...Option) *Provider {
	p := &Provider{}
	for _, o := range opts {
		o(p)
	}
	return p
}

// script is a list of steps and how far the calls have consumed it.
type script struct {
	steps []Step
	i     int // current step
	used  int // calls steps[i] has answered
}

func newScript(steps []Step) *script {
	return &script{steps: append([]Step(nil), steps...)}
}

// next returns the step for the next call and moves on; the last step
// repeats forever.
func (s *script) next() Step {
	st := s.steps[s.i]
	s.used++
	if s.used >= max(st.times, 1) && s.i < len(s.steps)-1 {
		s.i++
		s.used = 0
	}
	return st
}

// Script sets the steps that answer the calls for model, replacing any
// script it had. Calls to model consume the steps in order, each as many
// times as its [Step.Times] says; once the script runs out, its last step
// answers every further call. model is compared with the request's Model;
// [AnyModel] scripts every model without a script of its own, all of them
// consuming that one script in turn. Script with no steps removes model's
// script.
//
// Each call takes its step when it is made, so concurrent calls take
// consecutive steps in the order they reached the provider.
func (p *Provider) Script(model string, steps ...Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(steps) == 0 {
		delete(p.scripts, model)
		return
	}
	if p.scripts == nil {
		p.scripts = make(map[string]*script)
	}
	p.scripts[model] = newScript(steps)
}

// Reset forgets the recorded calls and the scripts, rewinds the
// [WithDefault] script and restarts the response IDs at "fake-1". Calls in
// progress finish with the steps they took.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scripts = nil
	p.calls = nil
	p.n = 0
	if p.def != nil {
		p.def.i, p.def.used = 0, 0
	}
}

// Calls returns a copy of the calls made since the last Reset, oldest
// first, including those still waiting or hanging.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		out[i] = c.clone()
	}
	return out
}

// CallCount returns how many calls for model were made since the last
// Reset; for [AnyModel], how many calls in all.
func (p *Provider) CallCount(model string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if model == AnyModel {
		return len(p.calls)
	}
	n := 0
	for _, c := range p.calls {
		if c.Model == model {
			n++
		}
	}
	return n
}

// begin records c and returns the step that answers it and its response
// ID.
func (p *Provider) begin(c Call) (Step, string) {
	c = c.clone()
	c.Time = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.calls = append(p.calls, c)
	id := "fake-" + strconv.Itoa(p.n)
	if s, ok := p.scripts[c.Model]; ok {
		return s.next(), id
	}
	if s, ok := p.scripts[AnyModel]; ok {
		return s.next(), id
	}
	if p.def != nil {
		return p.def.next(), id
	}
	return Reply(DefaultReply), id
}

// Chat answers with the next step of the model's script.
func (p *Provider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	ctx = orBackground(ctx)
	st, id := p.begin(Call{Op: providers.OpChat, Model: req.Request.Model, Chat: req.Request, Call: req.Call})
	if err := answer(ctx, st); err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	return openai.ChatCompletionResponse{
		ID:      id,
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   req.Request.Model,
		Choices: []openai.ChatCompletionChoice{{
			Message: openai.ChatCompletionMessage{
				Role:    openai.ChatMessageRoleAssistant,
				Content: st.text(),
			},
			FinishReason: st.finishReason(),
		}},
		Usage: st.usageFor(chatWords(req.Request)),
	}, nil
}

// Completion answers with the next step of the model's script.
func (p *Provider) Completion(ctx context.Context, req providers.CompletionRequest) (openai.CompletionResponse, error) {
	ctx = orBackground(ctx)
	st, id := p.begin(Call{Op: providers.OpCompletion, Model: req.Request.Model, Completion: req.Request, Call: req.Call})
	if err := answer(ctx, st); err != nil {
		return openai.CompletionResponse{}, err
	}
	words := 0
	for _, in := range inputs(req.Request.Prompt) {
		words += wordCount(in)
	}
	u := st.usageFor(words)
	return openai.CompletionResponse{
		ID:      id,
		Object:  "text_completion",
		Created: time.Now().Unix(),
		Model:   req.Request.Model,
		Choices: []openai.CompletionChoice{{
			Text:         st.text(),
			FinishReason: string(st.finishReason()),
		}},
		Usage: &u,
	}, nil
}

// Embed answers with the next step of the model's script: one embedding
// per input, each the step's [Step.WithVectors] vector for its place, its
// [Vector] or, by default, a unit vector derived from the input (of the
// request's Dimensions, or 8).
func (p *Provider) Embed(ctx context.Context, req providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	ctx = orBackground(ctx)
	st, _ := p.begin(Call{Op: providers.OpEmbedding, Model: string(req.Request.Model), Embedding: req.Request, Call: req.Call})
	if err := answer(ctx, st); err != nil {
		return openai.EmbeddingResponse{}, err
	}
	ins := inputs(req.Request.Input)
	dims := req.Request.Dimensions
	if dims <= 0 {
		dims = defaultDims
	}
	data := make([]openai.Embedding, len(ins))
	words := 0
	for i, in := range ins {
		words += wordCount(in)
		var v []float32
		switch {
		case i < len(st.vectors):
			v = append([]float32{}, st.vectors[i]...)
		case st.vector != nil:
			v = append([]float32{}, st.vector...)
		default:
			v = vectorOf(in, dims)
		}
		data[i] = openai.Embedding{Object: "embedding", Embedding: v, Index: i}
	}
	u := openai.Usage{PromptTokens: max(words, 1)}
	u.TotalTokens = u.PromptTokens
	if st.usage != nil {
		u = *st.usage
	}
	return openai.EmbeddingResponse{
		Object: "list",
		Data:   data,
		Model:  req.Request.Model,
		Usage:  u,
	}, nil
}

// answer waits out the step's delay (or hang) and returns its failure.
func answer(ctx context.Context, st Step) error {
	if err := wait(ctx, st.delay, st.hang, nil); err != nil {
		return err
	}
	if e := st.failure(); e != nil {
		return e
	}
	return nil
}

// wait blocks for d, forever if forever is set, returning early with the
// ctx's error when ctx is done or [ErrStreamClosed] when closed is closed.
// It starts no goroutine and uses a timer, so it runs on virtual time in
// a synctest bubble.
func wait(ctx context.Context, d time.Duration, forever bool, closed <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return providers.ContextError(err)
	}
	if !forever && d <= 0 {
		return nil
	}
	var fired <-chan time.Time
	if !forever {
		t := time.NewTimer(d)
		defer t.Stop()
		fired = t.C
	}
	select {
	case <-fired:
		// An answer due as the deadline passes counts as too late.
		if err := ctx.Err(); err != nil {
			return providers.ContextError(err)
		}
		return nil
	case <-ctx.Done():
		return providers.ContextError(ctx.Err())
	case <-closed:
		return ErrStreamClosed
	}
}

// inputs returns the texts of a prompt or embedding input: a string, a
// list of strings, or token lists (rendered as text).
func inputs(in any) []string {
	switch v := in.(type) {
	case nil:
		return []string{""}
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = anyText(x)
		}
		return out
	case [][]int:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = anyText(x)
		}
		return out
	}
	return []string{anyText(in)}
}

func anyText(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case []int:
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func wordCount(s string) int {
	return len(strings.Fields(s))
}

func chatWords(r openai.ChatCompletionRequest) int {
	n := 0
	for _, m := range r.Messages {
		n += wordCount(m.Content)
		for _, part := range m.MultiContent {
			n += wordCount(part.Text)
		}
	}
	return n
}

// vectorOf returns a deterministic unit vector of dims components for s.
func vectorOf(s string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		h.Write([]byte(s))
		h.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
		x := float64(h.Sum64()>>11)/float64(1<<53)*2 - 1 // [-1, 1)
		v[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

// orBackground treats a nil ctx as context.Background, as the real
// adapters do, rather than panic on input.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// Describe says the fake is the provider "fake", calling no server.
// Telemetry over a fake reports that name.
func (p *Provider) Describe() providers.Info { return providers.Info{Name: "fake"} }
