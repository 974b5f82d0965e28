package routing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	oai "github.com/llmroute/llmroute/providers/openai"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// handClock is a Clock moved by hand; Sleep moves it.
type handClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *handClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *handClock) Sleep(ctx context.Context, d time.Duration) error {
	c.advance(d)
	return ctx.Err()
}

// A provider that says, on every answer, that it has no requests left for
// 2 s, gets no request before those 2 s are over, through the OpenAI
// adapter and its wire format: the server, which refuses any request
// sooner with a 429, never has to.
func TestProviderLimitThroughTheOpenAIAdapter(t *testing.T) {
	clock := &handClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var primaryAt []time.Duration // when the primary was called, since the start
	var last time.Time
	refused := 0
	start := clock.Now()
	srv := newCoreServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		if body["model"] != "primary" {
			return false
		}
		now := clock.Now()
		mu.Lock()
		defer mu.Unlock()
		primaryAt = append(primaryAt, now.Sub(start))
		if !last.IsZero() && now.Before(last.Add(2*time.Second)) {
			refused++
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("x-ratelimit-remaining-requests", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)
			return true
		}
		last = now
		w.Header().Set("x-ratelimit-limit-requests", "30")
		w.Header().Set("x-ratelimit-remaining-requests", "0")
		w.Header().Set("x-ratelimit-reset-requests", "2s")
		w.Header().Set("x-ratelimit-remaining-tokens", "149000")
		w.Header().Set("x-ratelimit-reset-tokens", "6m0s")
		return false
	})
	t.Cleanup(srv.Close)
	cfg := goopenai.DefaultConfig("sk-test-0123456789abcdefghijklmnop")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = srv.Client()
	c := coreClient(t, routing.WithClock(clock), routing.WithProvider(coreAcct, oai.New(cfg)),
		routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("primary")}, target.Target{Ref: coreRef("backup")}))))

	served := map[string]int{}
	skipped := 0
	for range 70 { // 7 s, a call every 100 ms
		ctx, tr := coreTraced(t.Context())
		resp, err := c.Chat(ctx, coreReq(coreModel))
		if err != nil {
			t.Fatalf("call at %v: %v", clock.Now().Sub(start), err)
		}
		served[resp.Model]++
		skipped += len(tr.Skipped)
		for _, a := range tr.Attempts {
			if a.Status == http.StatusTooManyRequests {
				t.Errorf("call at %v saw a 429 from %s", clock.Now().Sub(start), a.Target)
			}
		}
		clock.advance(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []time.Duration{0, 2 * time.Second, 4 * time.Second, 6 * time.Second}
	if fmt.Sprint(primaryAt) != fmt.Sprint(want) {
		t.Errorf("primary called at %v; want %v, once per reset", primaryAt, want)
	}
	if refused != 0 {
		t.Errorf("the server refused %d requests with 429", refused)
	}
	if served["primary"] != 4 || served["backup"] != 66 || skipped != 66 {
		t.Errorf("served %v with %d skips; want primary 4, backup 66, one skip per call the backup took", served, skipped)
	}
}

// Neither a skip nor a rate-limit error can reveal a credential, even
// when the provider echoes it in its refusal: they name targets and
// times only.
func TestRateLimitErrorsKeepSecrets(t *testing.T) {
	const key = "sk-SENTINEL-limits-0123456789abcdefghij"
	srv := newCoreServer(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-ratelimit-remaining-requests", "0")
		w.Header().Set("x-ratelimit-reset-requests", "1m0s")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"error":{"message":"Rate limit reached for key %s","type":"requests","code":"rate_limit_exceeded"}}`, r.Header.Get("Authorization"))
		return true
	})
	t.Cleanup(srv.Close)
	cfg := goopenai.DefaultConfig(key)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = srv.Client()
	var logged strings.Builder
	c := coreClient(t, routing.WithProvider(coreAcct, oai.New(cfg)),
		routing.WithLogger(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		routing.WithGroup(coreGroup(corePriority(target.Target{Ref: coreRef("a"), Retry: &target.Retry{}}))))
	ctx, tr := coreTraced(t.Context())
	_, refused := c.Chat(ctx, coreReq(coreModel))
	if refused == nil {
		t.Fatal("the refusal was not an error")
	}
	_, limited := c.Chat(ctx, coreReq(coreModel))
	if !errors.Is(limited, routing.ErrRateLimited) {
		t.Fatalf("second call: %v; want ErrRateLimited, the provider having said it has nothing left", limited)
	}
	var texts []string
	for _, err := range []error{refused, limited} {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	texts = append(texts, fmt.Sprintf("%+v", tr.Skipped), fmt.Sprintf("%#v", tr.Skipped), logged.String())
	for _, s := range texts {
		if strings.Contains(s, key) || strings.Contains(s, key[8:]) {
			t.Errorf("the key leaked: %s", s)
		}
	}
}
