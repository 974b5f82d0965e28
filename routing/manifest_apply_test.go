package routing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

// mfGeneration is a manifest whose two targets are named for gen: the
// first always fails with 404, a fallback status that does not count
// against health, so every call tries it, moves on to the
// second, and its trace shows both. A call that mixed two configurations
// would show targets of two generations.
func mfGeneration(gen string) []byte {
	return []byte(strings.ReplaceAll(`
name: live-app
type: provider-account/virtual-model
integrations:
  - name: chat
    type: integration/model/virtual
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: acct/GEN-primary
          priority: 0
          retry_config: {attempts: 0}
        - target: acct/GEN-secondary
          priority: 1
          retry_config: {attempts: 0}
`, "GEN", gen))
}

// mfRejected are manifests ApplyManifest must refuse, whole.
var mfRejected = map[string][]byte{
	// Found when the manifest is read.
	"syntax": []byte("name: live-app\ntype: provider-account/virtual-model\nintegrations: [\n"),
	// Found only by the Client: the account is not registered.
	"account": []byte(strings.Replace(string(mfGeneration("bad")), "acct/bad-secondary", "nowhere/bad-secondary", 1)),
}

func mfClient(t *testing.T) (*routing.Client, *fake.Provider) {
	t.Helper()
	f := fake.New()
	for _, gen := range []string{"old", "new", "bad"} {
		f.Script(gen+"-primary", fake.Fail(404))
	}
	c, err := routing.New(routing.WithProvider("acct", f), routing.WithManifest(mfGeneration("old")))
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// mfCall makes one call and returns the generation that served it, failing
// the test if its attempts span more than one generation.
func mfCall(t *testing.T, c *routing.Client) string {
	var tr routing.Trace
	resp, err := c.Chat(routing.WithTrace(context.Background(), &tr), openai.ChatCompletionRequest{Model: "live-app/chat"})
	if err != nil {
		t.Errorf("Chat: %v", err)
		return ""
	}
	gen, _, _ := strings.Cut(resp.Model, "-")
	if len(tr.Attempts) != 2 {
		t.Errorf("a call made %d attempts, want 2 (primary, then secondary)", len(tr.Attempts))
	}
	for _, a := range tr.Attempts {
		if !strings.HasPrefix(a.Target, "acct/"+gen+"-") {
			t.Errorf("a call served by %s tried %s: configurations mixed", resp.Model, a.Target)
		}
	}
	return gen
}

// ApplyManifest swaps configurations atomically under load: each of
// thousands of concurrent calls runs wholly on the old configuration or
// wholly on the new one, and rejected manifests change nothing.
func TestManifestApplyUnderLoad(t *testing.T) {
	c, _ := mfClient(t)
	const workers, calls = 16, 250
	var seen sync.Map // generation → count
	var done atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				gen := mfCall(t, c)
				n, _ := seen.LoadOrStore(gen, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		}()
	}
	applied := 0
	var applier sync.WaitGroup
	applier.Add(1)
	go func() {
		defer applier.Done()
		ctx := context.Background()
		for i := 0; !done.Load(); i++ {
			gen := []string{"new", "old"}[i%2]
			if err := c.ApplyManifest(ctx, mfGeneration(gen)); err != nil {
				t.Errorf("ApplyManifest(%s): %v", gen, err)
				return
			}
			for name, m := range mfRejected {
				if err := c.ApplyManifest(ctx, m); err == nil {
					t.Errorf("ApplyManifest(%s) succeeded", name)
					return
				}
			}
			applied++
		}
	}()
	wg.Wait()
	done.Store(true)
	applier.Wait()
	if applied < 2 {
		t.Errorf("only %d manifests applied during the calls", applied)
	}
	var total int64
	seen.Range(func(k, v any) bool {
		total += v.(*atomic.Int64).Load()
		if k != "old" && k != "new" {
			t.Errorf("calls served by generation %q", k)
		}
		return true
	})
	for _, gen := range []string{"old", "new"} {
		if _, ok := seen.Load(gen); !ok {
			t.Errorf("no call ran on the %s configuration", gen)
		}
	}
	if total != workers*calls {
		t.Errorf("%d calls served, want %d", total, workers*calls)
	}
	t.Logf("%d manifests applied during %d calls", applied, total)
}

// A rejected manifest leaves the configuration and the traffic as they
// were, and says what is wrong.
func TestManifestApplyRejected(t *testing.T) {
	c, _ := mfClient(t)
	if err := c.ApplyManifest(context.Background(), mfGeneration("new")); err != nil {
		t.Fatal(err)
	}
	before := c.Groups()
	for name, m := range mfRejected {
		err := c.ApplyManifest(context.Background(), m)
		var es routing.FieldErrors
		if !errors.As(err, &es) {
			t.Errorf("ApplyManifest(%s) = %v, want routing.FieldErrors", name, err)
		}
		if diff := cmp.Diff(c.Groups(), before); diff != "" {
			t.Errorf("ApplyManifest(%s) changed the groups (-got +want):\n%s", name, diff)
		}
		for range 10 {
			if gen := mfCall(t, c); gen != "new" {
				t.Errorf("after ApplyManifest(%s) a call ran on %q", name, gen)
			}
		}
	}
	err := c.ApplyManifest(context.Background(), mfRejected["account"])
	var fe *routing.FieldError
	if !errors.As(err, &fe) || fe.Path != "integrations[0].routing_config.load_balance_targets[1].target" || !strings.Contains(fe.Msg, `"nowhere"`) {
		t.Errorf("ApplyManifest(account) = %v", err)
	}
}

// A manifest that cannot be read whole is reported, by New and by
// ApplyManifest alike, with what reading found and what the rules find
// in what could be read, at once and in line order.
func TestManifestReadAndRuleProblemsTogether(t *testing.T) {
	in := []byte(head + `      type: priority-based-routing
      colour: blue
      load_balance_targets:
        - {target: acct/a, priority: -1}
`)
	want := []loc{
		{"booking-app", "integrations[0].routing_config.colour", 8, `unknown key "colour"`},
		{"booking-app", lbt(0, ".priority"), 10, "must be 0 or more, got -1"},
	}
	_, err := routing.New(routing.WithProvider("acct", fake.New()), routing.WithManifest(in))
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("New (-got +want):\n%s\nerror: %v", diff, err)
	}
	c, _ := mfClient(t)
	err = c.ApplyManifest(context.Background(), in)
	if diff := cmp.Diff(locs(t, err, want), want); diff != "" {
		t.Errorf("ApplyManifest (-got +want):\n%s\nerror: %v", diff, err)
	}
}
