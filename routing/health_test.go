package routing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/strategy"
	"github.com/llmroute/llmroute/target"
)

// outage is a provider whose model "primary" answers 503 between two
// instants of (virtual) time; every other model always answers.
type outage struct {
	from, to time.Time
	mu       sync.Mutex
	calls    []time.Time // calls to the primary
}

func (o *outage) Chat(_ context.Context, r providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	now := time.Now()
	if r.Request.Model == "primary" {
		o.mu.Lock()
		o.calls = append(o.calls, now)
		o.mu.Unlock()
		if !now.Before(o.from) && now.Before(o.to) {
			return openai.ChatCompletionResponse{}, &providers.Error{Status: 503, Message: "down"}
		}
	}
	return openai.ChatCompletionResponse{Model: r.Request.Model, Usage: openai.Usage{CompletionTokens: 10}}, nil
}

func TestHealthDemotesAndProbesARecoveredPrimary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := &outage{from: start.Add(10 * time.Second), to: start.Add(70 * time.Second)}
		c, err := routing.New(routing.WithProvider("acct", p), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type:    routing.PriorityBased,
				Targets: []target.Target{{Ref: "acct/primary"}, {Ref: "acct/backup", Priority: 1}},
			}}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		var backAt time.Time
		var probes []routing.Attempt
		for now := time.Now(); now.Before(start.Add(100 * time.Second)); now = time.Now() {
			var tr routing.Trace
			resp, err := c.Chat(routing.WithTrace(t.Context(), &tr), openai.ChatCompletionRequest{Model: "grp/chat"})
			if err != nil {
				t.Fatalf("call at %v failed: %v", now.Sub(start), err)
			}
			for _, a := range tr.Attempts {
				if a.Reason == strategy.ReasonProbe {
					probes = append(probes, a)
				}
			}
			if resp.Model == "primary" && now.After(p.to) && backAt.IsZero() {
				backAt = now
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Detection: the first failing call tries the primary three
		// times (1 + 2 retries); it is then demoted, and only probed.
		var during []time.Duration
		for _, at := range p.calls {
			if !at.Before(p.from) && at.Before(p.to) {
				during = append(during, at.Sub(start))
			}
		}
		t.Logf("primary attempts during the outage at %v; back at %v", during, backAt.Sub(start))
		if len(during) < 3 {
			t.Fatalf("primary tried %d times during the outage, want detection tries", len(during))
		}
		for i := 3; i < len(during); i++ {
			if gap := during[i] - during[i-1]; gap < 15*time.Second {
				t.Errorf("primary attempts at %v and %v during the outage: %v apart, want at least the 15s probe cooldown", during[i-1], during[i], gap)
			}
		}
		if len(during) > 3+4 {
			t.Errorf("primary tried %d times in a 60s outage, want at most 3 detection tries and one probe per 15s", len(during))
		}
		if len(probes) == 0 || probes[0].Cause != strategy.CauseFailures {
			t.Errorf("probes = %+v, want probe attempts caused by failures", probes)
		}
		if backAt.IsZero() || backAt.Sub(p.to) > 30*time.Second {
			t.Errorf("primary served again %v after recovery, want within 30s", backAt.Sub(p.to))
		}
	})
}

func TestAttemptWhy(t *testing.T) {
	tests := []struct {
		a    routing.Attempt
		want string
	}{
		{routing.Attempt{Reason: strategy.ReasonPicked}, "picked"},
		{routing.Attempt{Reason: strategy.ReasonDemoted, Cause: strategy.CauseSLATPOT}, "demoted, sla-tpot"},
		{routing.Attempt{Reason: strategy.ReasonProbe, Cause: strategy.CauseFailures}, "probe, failures"},
	}
	for _, tt := range tests {
		if got := tt.a.Why(); got != tt.want {
			t.Errorf("Why() = %q, want %q", got, tt.want)
		}
	}
}

func TestGroupsIsACopy(t *testing.T) {
	c := streamClient(t, fake.New(), nil)
	gs := c.Groups()
	gs[0].Models[0].Routing.Targets[0].Ref = "evil/x"
	if got := c.Groups()[0].Models[0].Routing.Targets[0].Ref; got != "acct/a" {
		t.Errorf("after changing a returned group, Groups() shows target %q, want acct/a", got)
	}
}

// slowAndFast answers "slow" in 2s and "fast" at once, in virtual time.
type slowAndFast struct{}

func (slowAndFast) Chat(ctx context.Context, r providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	if r.Request.Model == "slow" {
		time.Sleep(2 * time.Second)
	}
	return openai.ChatCompletionResponse{Model: r.Request.Model, Usage: openai.Usage{CompletionTokens: 10}}, nil
}

func TestSwitchToLatencyRoutingStartsMeasuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		group := func(typ routing.RoutingType) routing.Group {
			ts := []target.Target{{Ref: "acct/slow"}, {Ref: "acct/fast"}}
			if typ == routing.WeightBased {
				ts[0].Weight, ts[1].Weight = 50, 50
			}
			return routing.Group{Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{Type: typ, Targets: ts}}}}
		}
		c, err := routing.New(routing.WithProvider("acct", slowAndFast{}), routing.WithGroup(group(routing.WeightBased)), routing.WithRand(routing.SeededRand(1)))
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			c.Chat(t.Context(), openai.ChatCompletionRequest{Model: "grp/chat"})
		}
		if err := c.SetGroup(t.Context(), group(routing.LatencyBased)); err != nil {
			t.Fatal(err)
		}
		slow := 0
		for range 200 {
			resp, err := c.Chat(t.Context(), openai.ChatCompletionRequest{Model: "grp/chat"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model == "slow" {
				slow++
			}
		}
		// Exploring the slow target costs a few calls; after that the
		// fast one takes everything.
		if slow > 10 {
			t.Errorf("slow target served %d of 200 calls after the switch to latency routing, want only its exploration", slow)
		}
	})
}

func TestProbeCooldownOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := &outage{from: start, to: start.Add(time.Hour)}
		c, err := routing.New(routing.WithProvider("acct", p), routing.WithProbeCooldown(2*time.Second), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type:    routing.PriorityBased,
				Targets: []target.Target{{Ref: "acct/primary", Retry: &target.Retry{}}, {Ref: "acct/backup", Priority: 1}},
			}}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		for time.Since(start) < 20*time.Second {
			if _, err := c.Chat(t.Context(), openai.ChatCompletionRequest{Model: "grp/chat"}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Two failures demote the primary; then one probe every 2s.
		if n := len(p.calls); n < 2+8 || n > 2+10 {
			t.Errorf("primary tried %d times in 20s with a 2s cooldown, want about 2 + 9", n)
		}
	})
	if _, err := routing.New(routing.WithProbeCooldown(0)); err == nil || !strings.Contains(err.Error(), "WithProbeCooldown") {
		t.Errorf("WithProbeCooldown(0) = %v, want an error naming the option", err)
	}
}

func TestStreamWithNoStreamingTarget(t *testing.T) {
	c, err := routing.New(routing.WithProvider("acct", fake.New().ChatOnly()), routing.WithGroup(routing.Group{
		Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
			Type: routing.PriorityBased, Targets: []target.Target{{Ref: "acct/m"}},
		}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChatStream(t.Context(), openai.ChatCompletionRequest{Model: "grp/chat"}); !errors.Is(err, routing.ErrUnsupportedOperation) {
		t.Errorf("ChatStream with no target able to stream = %v, want ErrUnsupportedOperation", err)
	}
}

func TestHealthChangesReachObservers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := &outage{from: start, to: start.Add(20 * time.Second)}
		var mu sync.Mutex
		var got []string
		obs := routing.ObserverFunc(func(_ context.Context, e routing.Event) {
			if e.Kind == routing.EventHealth {
				mu.Lock()
				got = append(got, e.Target+" "+e.Health.String()+" at "+time.Since(start).Round(time.Second).String())
				mu.Unlock()
			}
		})
		c, err := routing.New(routing.WithProvider("acct", p), routing.WithObserver(obs), routing.WithGroup(routing.Group{
			Name: "grp", Models: []routing.VirtualModel{{Name: "chat", Routing: routing.RoutingConfig{
				Type:    routing.PriorityBased,
				Targets: []target.Target{{Ref: "acct/primary", Retry: &target.Retry{Attempts: 0}}, {Ref: "acct/backup", Priority: 1}},
			}}},
		}))
		if err != nil {
			t.Fatal(err)
		}
		for time.Since(start) < 40*time.Second {
			if _, err := c.Chat(t.Context(), openai.ChatCompletionRequest{Model: "grp/chat"}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		// Two failures demote the primary at 1 s; it is probed every
		// 15 s cooldown after its last failure, and the first probe
		// after the outage (at 31 s) heals it.
		want := []string{
			"acct/primary demoted at 1s",
			"acct/primary probed at 16s",
			"acct/primary probed at 31s",
			"acct/primary recovered at 31s",
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("health events (-got +want):\n%s", diff)
		}
	})
}
