package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/metadata"
	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// TestMetadataEnterpriseTier is the first example of docs/behaviour.md,
// Metadata: requests with tier=enterprise go only to the dedicated
// deployment, first pick and fallbacks alike; all others are split 60/40
// between two shared ones.
func TestMetadataEnterpriseTier(t *testing.T) {
	rc := coreWeighted(
		target.Target{Ref: coreRef("dedicated"), Weight: 100, MetadataMatch: metadata.MD{"tier": "enterprise"}},
		target.Target{Ref: coreRef("shared-a"), Weight: 60},
		target.Target{Ref: coreRef("shared-b"), Weight: 40},
	)
	enterprise := metadata.NewContext(context.Background(), metadata.MD{"tier": "enterprise", "team": "x"})
	free := metadata.NewContext(context.Background(), metadata.MD{"tier": "free"})

	t.Run("split", func(t *testing.T) {
		f := fake.New()
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
		const n = 1000
		for range n {
			if _, err := c.Chat(enterprise, coreReq(coreModel)); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.CallCount("dedicated"); got != n {
			t.Errorf("dedicated served %d of %d enterprise calls, want all", got, n)
		}
		f.Reset()
		for _, ctx := range []context.Context{free, context.Background()} {
			for range n {
				if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := f.CallCount("dedicated"); got != 0 {
			t.Errorf("dedicated served %d other calls, want 0", got)
		}
		// Binomial(2000, 0.6): 1200 ± 110 (5σ).
		if a, b := f.CallCount("shared-a"), f.CallCount("shared-b"); a < 1090 || a > 1310 || a+b != 2*n {
			t.Errorf("shared-a served %d, shared-b %d of %d calls; want 1200 ± 110 on shared-a", a, b, 2*n)
		}
	})

	t.Run("enterprise never falls back to the shared pool", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.Script("dedicated", fake.Fail(503))
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
			ctx, tr := coreTraced(enterprise)
			_, err := c.Chat(ctx, coreReq(coreModel))
			if got := coreStatus(err); got != 503 {
				t.Errorf("StatusCode() = %d (err %v), want 503", got, err)
			}
			for _, a := range tr.Attempts {
				if a.Target != "acct/dedicated" {
					t.Errorf("enterprise call tried %s", a.Target)
				}
			}
			if got := f.CallCount("shared-a") + f.CallCount("shared-b"); got != 0 {
				t.Errorf("shared pool called %d times for an enterprise request, want 0", got)
			}
		})
	})

	t.Run("others never fall back to the dedicated target", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.Script("shared-a", fake.Fail(503))
			f.Script("shared-b", fake.Fail(503))
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
			for range 20 {
				ctx, tr := coreTraced(free)
				_, err := c.Chat(ctx, coreReq(coreModel))
				if got := coreStatus(err); got != 503 {
					t.Fatalf("StatusCode() = %d (err %v), want 503", got, err)
				}
				// Both shared targets are tried (how often each
				// depends on their health), and nothing else.
				seen := map[string]bool{}
				for _, a := range tr.Attempts {
					seen[a.Target] = true
				}
				if diff := cmp.Diff(seen, map[string]bool{"acct/shared-a": true, "acct/shared-b": true}); diff != "" {
					t.Fatalf("targets tried (-got +want):\n%s", diff)
				}
			}
			if got := f.CallCount("dedicated"); got != 0 {
				t.Errorf("dedicated called %d times for free requests, want 0", got)
			}
		})
	})
}

// TestMetadataRegion is the second example of docs/behaviour.md, Metadata,
// with the deployment's region set once as client default metadata: US
// traffic to the US deployment, EU traffic to the EU one, everything else
// to the catch-all. Request metadata wins over the default.
func TestMetadataRegion(t *testing.T) {
	rc := corePriority(
		target.Target{Ref: coreRef("us"), MetadataMatch: metadata.MD{"tfy_gateway_region": "US"}},
		target.Target{Ref: coreRef("eu"), MetadataMatch: metadata.MD{"tfy_gateway_region": "EU"}},
		target.Target{Ref: coreRef("openai")},
	)
	tests := []struct {
		name    string
		def     metadata.MD
		request metadata.MD
		want    string
	}{
		{"default region", metadata.MD{"tfy_gateway_region": "US"}, nil, "us"},
		{"default region, other request keys", metadata.MD{"tfy_gateway_region": "US"}, metadata.MD{"tier": "free"}, "us"},
		{"request overrides the default", metadata.MD{"tfy_gateway_region": "US"}, metadata.MD{"tfy_gateway_region": "EU"}, "eu"},
		{"request region without a deployment", metadata.MD{"tfy_gateway_region": "US"}, metadata.MD{"tfy_gateway_region": "APAC"}, "openai"},
		{"no default, no request metadata", nil, nil, "openai"},
		{"no default, request region", nil, metadata.MD{"tfy_gateway_region": "EU"}, "eu"},
		{"values compare exactly", nil, metadata.MD{"tfy_gateway_region": "us"}, "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			opts := []routing.Option{routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc))}
			if tt.def != nil {
				opts = append(opts, routing.WithDefaultMetadata(tt.def))
			}
			c := coreClient(t, opts...)
			ctx := context.Background()
			if tt.request != nil {
				ctx = metadata.NewContext(ctx, tt.request)
			}
			resp, err := c.Chat(ctx, coreReq(coreModel))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != tt.want {
				t.Errorf("served by %q, want %q", resp.Model, tt.want)
			}
		})
	}
}

// TestDefaultMetadataCopied checks that the Client keeps its own copy of
// the default metadata.
func TestDefaultMetadataCopied(t *testing.T) {
	f := fake.New()
	def := metadata.MD{"tfy_gateway_region": "US"}
	rc := corePriority(
		target.Target{Ref: coreRef("us"), MetadataMatch: metadata.MD{"tfy_gateway_region": "US"}},
		target.Target{Ref: coreRef("openai")},
	)
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithDefaultMetadata(def), routing.WithGroup(coreGroup(rc)))
	def["tfy_gateway_region"] = "EU"
	resp, err := c.Chat(context.Background(), coreReq(coreModel))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "us" {
		t.Errorf("served by %q, want us: changing the map after New must not matter", resp.Model)
	}
}

// TestNoEligibleTarget checks that a request matching no target, when
// there is no catch-all, fails before any attempt with
// ErrNoEligibleTarget naming the unmet keys.
func TestNoEligibleTarget(t *testing.T) {
	rc := corePriority(
		target.Target{Ref: coreRef("dedicated"), MetadataMatch: metadata.MD{"tier": "enterprise"}},
		target.Target{Ref: coreRef("us"), MetadataMatch: metadata.MD{"tfy_gateway_region": "US", "tier": "pro"}},
	)
	tests := []struct {
		name     string
		md       metadata.MD
		wantKeys []string
		notKeys  []string
	}{
		{"no metadata", nil, []string{"tfy_gateway_region", "tier"}, nil},
		{"wrong tier", metadata.MD{"tier": "free"}, []string{"tfy_gateway_region", "tier"}, nil},
		{"region right, tier wrong", metadata.MD{"tier": "free", "tfy_gateway_region": "US"}, []string{"tier"}, []string{"tfy_gateway_region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
			ctx := metadata.NewContext(context.Background(), tt.md)
			_, err := c.Chat(ctx, coreReq(coreModel))
			if !errors.Is(err, routing.ErrNoEligibleTarget) {
				t.Fatalf("err = %v, want ErrNoEligibleTarget", err)
			}
			msg := err.Error()
			for _, k := range tt.wantKeys {
				if !strings.Contains(msg, k) {
					t.Errorf("error %q does not name unmet key %q", msg, k)
				}
			}
			for _, k := range tt.notKeys {
				if strings.Contains(msg, k) {
					t.Errorf("error %q names key %q, which the request met", msg, k)
				}
			}
			if !strings.Contains(msg, coreModel) {
				t.Errorf("error %q does not name the model %q", msg, coreModel)
			}
			if got := f.CallCount(fake.AnyModel); got != 0 {
				t.Errorf("%d provider calls, want 0", got)
			}
		})
	}
}

// The Trace marks the targets a call's metadata ruled out, before any
// attempt, and says nothing of them when every target was eligible.
func TestTraceMarksIneligibleTargets(t *testing.T) {
	rc := coreWeighted(
		target.Target{Ref: coreRef("dedicated"), Weight: 100, MetadataMatch: metadata.MD{"tier": "enterprise"}},
		target.Target{Ref: coreRef("shared-a"), Weight: 60},
		target.Target{Ref: coreRef("shared-b"), Weight: 40},
	)
	f := fake.New()
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(coreGroup(rc)))
	var tr routing.Trace
	ctx := routing.WithTrace(metadata.NewContext(context.Background(), metadata.MD{"tier": "enterprise"}), &tr)
	if _, err := c.Chat(ctx, coreReq(coreModel)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range tr.Skipped {
		got = append(got, s.Target+" "+s.Reason.String())
		if s.At.IsZero() || !s.FreeAt.IsZero() {
			t.Errorf("skip of %s: at %v, free at %v; want the call's start and no free time", s.Target, s.At, s.FreeAt)
		}
	}
	want := []string{coreRef("shared-a") + " ineligible", coreRef("shared-b") + " ineligible"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if s := tr.String(); !strings.Contains(s, "skipped "+coreRef("shared-a")+": ineligible\n") {
		t.Errorf("String does not show the skip:\n%s", s)
	}
	if len(tr.Attempts) != 1 || tr.Resolved != coreRef("dedicated") {
		t.Errorf("attempts %d, resolved %q; want one, on the dedicated target", len(tr.Attempts), tr.Resolved)
	}
	// With no metadata the catch-all targets serve, and the dedicated
	// one is the only skip.
	tr = routing.Trace{}
	if _, err := c.Chat(routing.WithTrace(context.Background(), &tr), coreReq(coreModel)); err != nil {
		t.Fatal(err)
	}
	if len(tr.Skipped) != 1 || tr.Skipped[0].Target != coreRef("dedicated") || tr.Skipped[0].Reason != routing.SkipIneligible {
		t.Errorf("skipped %+v, want only the dedicated target, ineligible", tr.Skipped)
	}
}
