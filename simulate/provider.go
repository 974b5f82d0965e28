package simulate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// lockedRand is a math/rand/v2 source safe for concurrent use, as
// routing.WithRand asks.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newRand(seed, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, stream))}
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) NormFloat64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.NormFloat64()
}

func (l *lockedRand) ExpFloat64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.ExpFloat64()
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// world is what every simulated provider of a run shares: virtual time,
// randomness and how each target behaves.
type world struct {
	clock   *clock
	rand    *lockedRand
	start   time.Time
	targets map[string]*behavior // by "account/model"
	deflt   *behavior            // for targets the run does not call
	seq     atomic.Int64         // response IDs
}

// behavior is a Behavior with its defaults filled in and the target's
// request timeout from the manifest.
type behavior struct {
	Behavior
	timeout time.Duration
}

func compile(b Behavior, timeout time.Duration) *behavior {
	if b.Latency.IsZero() {
		b.Latency = Latency{P50: DefaultP50, P99: DefaultP99}
	}
	if b.OutputTokens == 0 {
		b.OutputTokens = DefaultOutputTokens
	}
	if b.ErrorStatus == 0 {
		b.ErrorStatus = DefaultErrorStatus
	}
	if b.ErrorLatency == 0 {
		b.ErrorLatency = DefaultErrorLatency
	}
	return &behavior{Behavior: b, timeout: timeout}
}

// draw returns a latency from l.
func (w *world) draw(l Latency) time.Duration {
	if l.Fixed > 0 {
		return l.Fixed
	}
	if l.P99 <= l.P50 {
		return l.P50
	}
	// A log-normal through the two percentiles: ln X ~ N(mu, sigma²)
	// with mu = ln p50 and p99 = exp(mu + z99·sigma).
	const z99 = 2.3263478740408408
	mu := math.Log(float64(l.P50))
	sigma := (math.Log(float64(l.P99)) - mu) / z99
	v := math.Exp(mu + sigma*w.rand.NormFloat64())
	// A long tail is the point; an absurd one helps nobody.
	return time.Duration(min(v, 100*float64(l.P99)))
}

// failure is how a call fails, or nil when it succeeds.
type failure struct {
	status     int
	retryAfter time.Duration
	why        string
}

// call performs one simulated call on ref at the current virtual time:
// it waits the call's latency (or the target's timeout) in virtual time
// and returns the output tokens or the provider error.
func (w *world) call(ctx context.Context, ref string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := w.targets[ref]
	if b == nil {
		b = w.deflt
	}
	offset := w.clock.Now().Sub(w.start)
	lat := b.Latency
	factor, add := 1.0, time.Duration(0)
	var fail *failure
	for i := range b.Windows {
		win := &b.Windows[i]
		if !win.active(offset) {
			continue
		}
		switch win.Kind {
		case Slow:
			if !win.Latency.IsZero() {
				lat = win.Latency
			}
			if win.Factor > 0 {
				factor *= win.Factor
			}
			add += win.Add
		case Outage:
			if fail == nil {
				fail = &failure{status: orInt(win.Status, DefaultOutageStatus), why: "outage"}
			}
		case RateLimit:
			if fail == nil && w.rand.Float64() < orFloat(win.Rate, 1) {
				fail = &failure{status: orInt(win.Status, DefaultLimitStatus), retryAfter: win.RetryAfter, why: "rate limited"}
			}
		case Errors:
			if fail == nil && w.rand.Float64() < win.Rate {
				fail = &failure{status: orInt(win.Status, DefaultErrorStatus), retryAfter: win.RetryAfter, why: "error window"}
			}
		}
	}
	if fail == nil && b.ErrorRate > 0 && w.rand.Float64() < b.ErrorRate {
		fail = &failure{status: b.ErrorStatus, why: "error rate"}
	}
	d := b.ErrorLatency
	if fail == nil {
		d = time.Duration(float64(w.draw(lat))*factor) + add
	}
	if b.timeout > 0 && d > b.timeout {
		// Routing's own per-attempt timer runs on the wall clock, so a
		// run leaves it off (see newRunner) and the timeout is
		// modelled here, as the 408 a timed-out attempt is.
		if err := w.clock.Sleep(ctx, b.timeout); err != nil {
			return 0, err
		}
		return 0, &providers.Error{Status: providers.StatusTimeout, Message: fmt.Sprintf("simulated: no answer within %v", b.timeout)}
	}
	if err := w.clock.Sleep(ctx, d); err != nil {
		return 0, err // a hedged call's losing try, cancelled
	}
	if fail != nil {
		return 0, &providers.Error{Status: fail.status, RetryAfter: fail.retryAfter, Message: "simulated: " + fail.why}
	}
	return b.OutputTokens, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orFloat(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// account is the simulated provider of one account. It serves chat,
// completions and embeddings, each call waiting its latency in the run's
// virtual time. It is safe for concurrent use.
type account struct {
	name string
	w    *world
}

var (
	_ providers.Provider  = (*account)(nil)
	_ providers.Completer = (*account)(nil)
	_ providers.Embedder  = (*account)(nil)
	_ providers.Describer = (*account)(nil)
)

// Describe says a simulated account is the provider "simulated", calling no
// server.
func (a *account) Describe() providers.Info { return providers.Info{Name: "simulated"} }

func (a *account) id() string {
	return fmt.Sprintf("sim-%d", a.w.seq.Add(1))
}

// Chat answers as the target a.name/model behaves at the virtual now.
func (a *account) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	out, err := a.w.call(ctx, a.name+"/"+req.Request.Model)
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	return openai.ChatCompletionResponse{
		ID:      a.id(),
		Object:  "chat.completion",
		Created: a.w.clock.Now().Unix(),
		Model:   req.Request.Model,
		Choices: []openai.ChatCompletionChoice{{
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: "simulated"},
			FinishReason: openai.FinishReasonStop,
		}},
		Usage: openai.Usage{CompletionTokens: out, TotalTokens: out},
	}, nil
}

// Completion answers as Chat does.
func (a *account) Completion(ctx context.Context, req providers.CompletionRequest) (openai.CompletionResponse, error) {
	out, err := a.w.call(ctx, a.name+"/"+req.Request.Model)
	if err != nil {
		return openai.CompletionResponse{}, err
	}
	return openai.CompletionResponse{
		ID:      a.id(),
		Object:  "text_completion",
		Created: a.w.clock.Now().Unix(),
		Model:   req.Request.Model,
		Choices: []openai.CompletionChoice{{Text: "simulated", FinishReason: "stop"}},
		Usage:   &openai.Usage{CompletionTokens: out, TotalTokens: out},
	}, nil
}

// Embed answers as Chat does, with one small embedding.
func (a *account) Embed(ctx context.Context, req providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	if _, err := a.w.call(ctx, a.name+"/"+string(req.Request.Model)); err != nil {
		return openai.EmbeddingResponse{}, err
	}
	return openai.EmbeddingResponse{
		Object: "list",
		Model:  req.Request.Model,
		Data:   []openai.Embedding{{Object: "embedding", Embedding: []float32{0, 1}}},
	}, nil
}
