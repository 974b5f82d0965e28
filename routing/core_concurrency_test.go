package routing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// TestConcurrentCalls runs many goroutines through one Client at once,
// with retries, fallbacks, metadata, headers, overrides and traces, for
// the race detector. Each call must succeed and its Trace must be its
// own. It runs in virtual time, so the retry waits cost nothing.
func TestConcurrentCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		// Every third call to "flaky" fails: some calls retry, some
		// fall back.
		f.Script("flaky", fake.Fail(503).Times(1), fake.Reply("ok").Times(2), fake.Fail(503).Times(1), fake.Reply("ok"))
		rc := coreWeighted(
			target.Target{Ref: coreRef("flaky"), Weight: 50, Params: map[string]any{"temperature": 0.1, "prompt_version_fqn": "p:v1"}},
			target.Target{Ref: coreRef("steady"), Weight: 50, Headers: target.HeadersOverride{Set: map[string]string{"x-v": "2"}}},
			target.Target{Ref: coreRef("vip"), Weight: 1, MetadataMatch: metadata.MD{"tier": "vip"}},
		)
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)),
			routing.WithDefaultMetadata(metadata.MD{"region": "US"}))
		const workers, calls = 32, 50
		var wg sync.WaitGroup
		errs := make(chan error, workers*calls)
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					ctx, tr := coreTraced(context.Background())
					if i%5 == 0 {
						ctx = metadata.NewContext(ctx, metadata.MD{"tier": "vip"})
					}
					ctx = routing.WithHeaders(ctx, map[string][]string{"X-Worker": {fmt.Sprint(w)}})
					resp, err := c.Chat(ctx, coreReq(coreModel))
					if err != nil {
						errs <- err
						continue
					}
					if got, want := tr.Resolved, coreAcct+"/"+resp.Model; got != want {
						errs <- fmt.Errorf("worker %d call %d: trace resolved %q, response from %q", w, i, got, want)
					}
					if last := tr.Attempts[len(tr.Attempts)-1]; last.Status != 200 {
						errs <- fmt.Errorf("worker %d call %d: last attempt %+v", w, i, last)
					}
					if (i%5 == 0) != (resp.Model == "vip") {
						errs <- fmt.Errorf("worker %d call %d: served by %q", w, i, resp.Model)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got, want := f.CallCount("vip"), workers*calls/5; got != want {
			t.Errorf("vip served %d calls, want %d", got, want)
		}
	})
}

// TestConcurrentSetGroup swaps a group's configuration while calls run:
// every call finishes on one whole configuration, the old or the new.
func TestConcurrentSetGroup(t *testing.T) {
	f := fake.New()
	cfg := func(m string) routing.Group { return coreGroup(corePriority(target.Target{Ref: coreRef(m)})) }
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(cfg("old")))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				resp, err := c.Chat(context.Background(), coreReq(coreModel))
				if err != nil {
					t.Error(err)
					return
				}
				if resp.Model != "old" && resp.Model != "new" {
					t.Errorf("served by %q", resp.Model)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			m := "old"
			if i%2 == 1 {
				m = "new"
			}
			if err := c.SetGroup(context.Background(), cfg(m)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
}
