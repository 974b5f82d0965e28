package routing_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// TestNewRejects checks that New refuses a bad configuration with an
// error that names the field's path, and that errors.As finds
// routing.FieldErrors and the *routing.FieldError of the problem.
func TestNewRejects(t *testing.T) {
	const tgt1 = "integrations[0].routing_config.load_balance_targets[1]"
	ok := func() target.Target { return target.Target{Ref: coreRef("gpt")} }
	model := func(name, slug string, ts ...target.Target) routing.VirtualModel {
		return routing.VirtualModel{Name: name, Slug: slug, Routing: corePriority(ts...)}
	}
	tests := []struct {
		name     string
		group    routing.Group
		chatOnly bool // register the account as a chat-only provider
		wantPath string
		wantMsg  string
	}{
		{
			name:     "bad group name",
			group:    routing.Group{Name: "Bad_Group", Models: []routing.VirtualModel{model("chat", "", ok())}},
			wantPath: "name",
			wantMsg:  "Bad_Group",
		},
		{
			name:     "bad model name",
			group:    routing.Group{Name: coreGrp, Models: []routing.VirtualModel{model("X", "", ok())}},
			wantPath: "integrations[0].name",
			wantMsg:  `"X"`,
		},
		{
			name:     "bad slug",
			group:    routing.Group{Name: coreGrp, Models: []routing.VirtualModel{model("chat", "-fast", ok())}},
			wantPath: "integrations[0].slug",
			wantMsg:  "-fast",
		},
		{
			name: "duplicate slug",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "fast", ok()), model("chat-two", "fast", ok()),
			}},
			wantPath: "integrations[1].slug",
			wantMsg:  "fast",
		},
		{
			// A slug cannot contain '/', so it can never spell a
			// "group/model"; trying is a load error.
			name: "slug spelling a group/model",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok()), model("other", "grp/chat", ok()),
			}},
			wantPath: "integrations[1].slug",
			wantMsg:  "grp/chat",
		},
		{
			name: "target naming an unknown account",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: "nope/gpt-4o"}),
			}},
			wantPath: tgt1 + ".target",
			wantMsg:  "nope",
		},
		{
			name: "target naming a virtual model",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: "grp/other"}),
				model("other", "", ok()),
			}},
			wantPath: tgt1 + ".target",
			wantMsg:  "virtual model",
		},
		{
			name: "target that is not account/model",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: "gpt-4o"}),
			}},
			wantPath: tgt1 + ".target",
			wantMsg:  "gpt-4o",
		},
		{
			name: "model type the provider cannot serve",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{{
				Name: "chat", ModelTypes: []routing.ModelType{routing.Chat, routing.Embedding},
				Routing: corePriority(ok(), target.Target{Ref: coreRef("other")}),
			}}},
			chatOnly: true,
			wantPath: tgt1 + ".target",
			wantMsg:  "embedding",
		},
		{
			name: "bad override param type",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: coreRef("other"), Params: map[string]any{"temperature": "hot"}}),
			}},
			wantPath: tgt1 + ".override_params.temperature",
			wantMsg:  "temperature",
		},
		{
			name: "header value with CR/LF",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: coreRef("other"), Headers: target.HeadersOverride{
					Set: map[string]string{"X-Evil": "a\r\nInjected: 1"},
				}}),
			}},
			wantPath: tgt1 + ".headers_override.set.X-Evil",
			wantMsg:  "control character",
		},
		{
			name: "weight on priority routing",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: coreRef("other"), Weight: 5, Priority: 1}),
			}},
			wantPath: tgt1 + ".weight",
			wantMsg:  "weight-based",
		},
		{
			// A Go caller wrote a time.Duration, so the value is
			// shown with its unit, not as milliseconds.
			name: "negative retry delay",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				model("chat", "", ok(), target.Target{Ref: coreRef("other"), Retry: &target.Retry{Delay: -time.Second}}),
			}},
			wantPath: tgt1 + ".retry_config.delay",
			wantMsg:  "must not be negative, got -1s",
		},
		{
			name: "no targets",
			group: routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
				{Name: "chat", Routing: routing.RoutingConfig{Type: routing.PriorityBased}},
			}},
			wantPath: "integrations[0].routing_config.load_balance_targets",
			wantMsg:  "at least one",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			var p = routing.WithProvider(coreAcct, f)
			if tt.chatOnly {
				p = routing.WithProvider(coreAcct, f.ChatOnly())
			}
			c, err := routing.New(p, routing.WithGroup(tt.group))
			if err == nil {
				t.Fatalf("New = %v, nil; want an error at %s", c, tt.wantPath)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantPath+":") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not name %q with %q", msg, tt.wantPath, tt.wantMsg)
			}
			var all routing.FieldErrors
			if !errors.As(err, &all) {
				t.Errorf("errors.As(routing.FieldErrors) = false for %T", err)
			}
			var fe *routing.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("errors.As(*routing.FieldError) = false for %T", err)
			}
			found := false
			for _, e := range all {
				found = found || (e.Path == tt.wantPath && e.Group == tt.group.Name)
			}
			if !found {
				t.Errorf("no FieldError with Group %q and Path %q in %v", tt.group.Name, tt.wantPath, all)
			}
		})
	}
}

// TestNewReportsEveryProblem checks New's promise that every problem is
// reported at once: an unknown account and a bad override param in the
// same configuration both appear in the error.
func TestNewReportsEveryProblem(t *testing.T) {
	g := routing.Group{Name: coreGrp, Models: []routing.VirtualModel{{
		Name: "chat",
		Routing: corePriority(
			target.Target{Ref: "nope/gpt-4o"},
			target.Target{Ref: coreRef("gpt"), Params: map[string]any{"max_tokens": "lots"}},
		),
	}}}
	_, err := routing.New(routing.WithProvider(coreAcct, fake.New()), routing.WithGroup(g))
	var all routing.FieldErrors
	if !errors.As(err, &all) {
		t.Fatalf("err = %v, want routing.FieldErrors", err)
	}
	var paths []string
	for _, e := range all {
		paths = append(paths, e.Path)
	}
	for _, want := range []string{
		"integrations[0].routing_config.load_balance_targets[0].target",
		"integrations[0].routing_config.load_balance_targets[1].override_params.max_tokens",
	} {
		found := false
		for _, p := range paths {
			found = found || p == want
		}
		if !found {
			t.Errorf("problems reported at %q; missing %q", paths, want)
		}
	}
}

// TestNewRejectsOptions checks the options' own errors.
func TestNewRejectsOptions(t *testing.T) {
	f := fake.New()
	g := coreGroup(corePriority(target.Target{Ref: coreRef("gpt")}))
	tests := []struct {
		name string
		opts []routing.Option
		want string
	}{
		{"nil provider", []routing.Option{routing.WithProvider(coreAcct, nil), routing.WithGroup(g)}, "nil provider"},
		{"account registered twice", []routing.Option{routing.WithProvider(coreAcct, f), routing.WithProvider(coreAcct, f), routing.WithGroup(g)}, "twice"},
		{"nil rand", []routing.Option{routing.WithProvider(coreAcct, f), routing.WithRand(nil), routing.WithGroup(g)}, "WithRand"},
		{"nil clock", []routing.Option{routing.WithProvider(coreAcct, f), routing.WithClock(nil), routing.WithGroup(g)}, "WithClock"},
		{"duplicate group", []routing.Option{routing.WithProvider(coreAcct, f), routing.WithGroup(g), routing.WithGroup(g)}, "duplicate group"},
		// An empty admin would make every caller without a subject an
		// admin of every closed group.
		{"empty admin", []routing.Option{routing.WithProvider(coreAcct, f), routing.WithAdmins("user:root@example.com", ""), routing.WithGroup(g)}, "WithAdmins: empty subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routing.New(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestGroupCopied checks that a Group handed to New may be changed
// afterwards without effect on the Client.
func TestGroupCopied(t *testing.T) {
	f := fake.New()
	g := coreGroup(corePriority(target.Target{Ref: coreRef("gpt"), Params: map[string]any{"max_tokens": 5}}))
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(g))
	g.Models[0].Routing.Targets[0].Ref = coreRef("changed")
	g.Models[0].Routing.Targets[0].Params["max_tokens"] = 99
	if _, err := c.Chat(t.Context(), coreReq(coreModel)); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Model != "gpt" || calls[0].Chat.MaxTokens != 5 {
		t.Errorf("call = %+v, want model gpt with max_tokens 5", calls)
	}
}

// TestResolveByNameAndSlug calls every model of Clients serving a few
// names (looked up by a scan) and more (looked up in a map), by
// "group/model" and by slug, and names nothing that is not served.
func TestResolveByNameAndSlug(t *testing.T) {
	for _, n := range []int{1, 4, 5, 12} {
		t.Run(fmt.Sprint(n, " models"), func(t *testing.T) {
			p := fake.New()
			g := routing.Group{Name: coreGrp}
			for i := range n {
				vm := routing.VirtualModel{Name: fmt.Sprintf("model%d", i),
					Routing: coreWeighted(target.Target{Ref: coreRef(fmt.Sprintf("real%d", i)), Weight: 1})}
				if i%2 == 0 {
					vm.Slug = fmt.Sprintf("slug%d", i)
				}
				g.Models = append(g.Models, vm)
			}
			c := coreClient(t, routing.WithProvider(coreAcct, p), routing.WithGroup(g))
			for i := range n {
				names := []string{fmt.Sprintf("%s/model%d", coreGrp, i)}
				if i%2 == 0 {
					names = append(names, fmt.Sprintf("slug%d", i))
				}
				for _, name := range names {
					resp, err := c.Chat(t.Context(), coreReq(name))
					if want := fmt.Sprintf("real%d", i); err != nil || resp.Model != want {
						t.Errorf("Chat(%q) = %q, %v; want served by %s", name, resp.Model, err, want)
					}
				}
			}
			for _, name := range []string{"", coreGrp, coreGrp + "/model", coreGrp + "/model" + fmt.Sprint(n), "slug1", "SLUG0", coreGrp + "/model0 "} {
				if _, err := c.Chat(t.Context(), coreReq(name)); !errors.Is(err, routing.ErrUnknownModel) {
					t.Errorf("Chat(%q) error = %v; want ErrUnknownModel", name, err)
				}
			}
		})
	}
}
