package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// accessClient serves a closed group "vault" (model "secret-model", slug
// "topsecret") with a User, a Manager and a team, and an open group
// "lobby" (model "chat"), with "user:root@example.com" as Client admin.
// Team membership: carol is in "search", dave only in "ads".
func accessClient(t *testing.T, f *fake.Provider) *routing.Client {
	t.Helper()
	vault := routing.Group{
		Name: "vault",
		Collaborators: []routing.Collaborator{
			{Subject: "user:alice@example.com", Role: routing.RoleUser},
			{Subject: "user:bob@example.com", Role: routing.RoleManager},
			{Subject: "team:search", Role: routing.RoleUser},
			{Subject: "virtualaccount:billing", Role: routing.RoleUser},
		},
		Models: []routing.VirtualModel{{
			Name: "secret-model", Slug: "topsecret",
			Routing: corePriority(target.Target{Ref: coreRef("classified-gpt")}),
		}},
	}
	lobby := routing.Group{Name: "lobby", Models: []routing.VirtualModel{{
		Name: "chat", Routing: corePriority(target.Target{Ref: coreRef("public-gpt")}),
	}}}
	teams := routing.TeamResolverFunc(func(_ context.Context, subject string) ([]string, error) {
		switch subject {
		case "user:carol@example.com":
			return []string{"ads", "search"}, nil
		case "user:dave@example.com":
			return []string{"ads"}, nil
		case "user:erin@example.com":
			return nil, errors.New("directory down")
		}
		return nil, nil
	})
	return coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(vault), routing.WithGroup(lobby),
		routing.WithTeamResolver(teams), routing.WithAdmins("user:root@example.com"))
}

// TestAccess checks who may call which model: a closed group admits its
// collaborators (directly or through a team), Client admins and nobody
// else; an open group admits everyone. A refused call reaches no provider
// and its error reveals nothing of the group's models.
func TestAccess(t *testing.T) {
	tests := []struct {
		name    string
		subject string // "" for none
		model   string
		wantErr error
	}{
		{"user may call", "user:alice@example.com", "vault/secret-model", nil},
		{"user may call by slug", "user:alice@example.com", "topsecret", nil},
		{"manager may call", "user:bob@example.com", "vault/secret-model", nil},
		{"virtual account may call", "virtualaccount:billing", "vault/secret-model", nil},
		{"team member may call", "user:carol@example.com", "vault/secret-model", nil},
		{"admin may call", "user:root@example.com", "vault/secret-model", nil},
		{"unknown subject", "user:eve@example.com", "vault/secret-model", routing.ErrForbidden},
		{"unknown subject by slug", "user:eve@example.com", "topsecret", routing.ErrForbidden},
		{"no subject", "", "vault/secret-model", routing.ErrForbidden},
		{"member of another team", "user:dave@example.com", "vault/secret-model", routing.ErrForbidden},
		{"team resolver fails", "user:erin@example.com", "vault/secret-model", routing.ErrForbidden},
		{"a team name is not a user", "user:search", "vault/secret-model", routing.ErrForbidden},
		{"same email, other kind", "virtualaccount:alice@example.com", "vault/secret-model", routing.ErrForbidden},
		{"missing model in a closed group: no existence leak", "user:eve@example.com", "vault/no-such-model", routing.ErrForbidden},
		{"missing model for a member", "user:alice@example.com", "vault/no-such-model", routing.ErrUnknownModel},
		{"open group, no subject", "", "lobby/chat", nil},
		{"open group, any subject", "user:eve@example.com", "lobby/chat", nil},
		{"unknown group", "user:alice@example.com", "nowhere/chat", routing.ErrUnknownModel},
		{"unknown slug", "", "no-such-slug", routing.ErrUnknownModel},
		{"empty name", "", "", routing.ErrUnknownModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			c := accessClient(t, f)
			ctx := context.Background()
			if tt.subject != "" {
				ctx = routing.WithSubject(ctx, tt.subject)
			}
			_, err := c.Chat(ctx, coreReq(tt.model))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Chat(%q) as %q: err = %v, want %v", tt.model, tt.subject, err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if got := f.CallCount(fake.AnyModel); got != 0 {
				t.Errorf("%d provider calls for a refused call, want 0", got)
			}
			if errors.Is(err, routing.ErrForbidden) {
				msg := err.Error()
				for _, secret := range []string{"secret-model", "topsecret", "classified-gpt"} {
					if strings.Contains(msg, secret) && !strings.Contains(tt.model, secret) {
						t.Errorf("forbidden error %q reveals %q", msg, secret)
					}
				}
			}
		})
	}
}

// TestForbiddenLooksAlike checks that a stranger cannot tell an existing
// model of a closed group from a missing one: both errors read the same
// once the name asked for is taken out, whatever the reason for the
// refusal.
func TestForbiddenLooksAlike(t *testing.T) {
	c := accessClient(t, fake.New())
	for _, subject := range []string{"user:eve@example.com", "", "user:erin@example.com"} {
		ctx := context.Background()
		if subject != "" {
			ctx = routing.WithSubject(ctx, subject)
		}
		_, errExists := c.Chat(ctx, coreReq("vault/secret-model"))
		_, errMissing := c.Chat(ctx, coreReq("vault/other-model"))
		if !errors.Is(errExists, routing.ErrForbidden) || !errors.Is(errMissing, routing.ErrForbidden) {
			t.Fatalf("as %q: errors %v and %v, want both to match ErrForbidden", subject, errExists, errMissing)
		}
		got := strings.ReplaceAll(errExists.Error(), "secret-model", "X")
		want := strings.ReplaceAll(errMissing.Error(), "other-model", "X")
		if got != want {
			t.Errorf("as %q: forbidden errors differ: existing %q, missing %q", subject, errExists, errMissing)
		}
	}
}

// TestForbiddenSaysWhy checks that a refusal says what the caller can fix:
// a context with no subject, or a team lookup that failed; a plain
// refusal says nothing more. Every one still matches ErrForbidden.
func TestForbiddenSaysWhy(t *testing.T) {
	const hint = "no subject in the context: set one with routing.WithSubject"
	tests := []struct {
		name    string
		subject string // "" for none
		call    string // a model name, or "set" for SetGroup
		want    string // the error's whole text
	}{
		{"call, no subject", "", "vault/secret-model", `routing: forbidden: "vault/secret-model": ` + hint},
		{"call by slug, no subject", "", "topsecret", `routing: forbidden: "topsecret": ` + hint},
		{"call, missing model, no subject", "", "vault/nothing", `routing: forbidden: "vault/nothing": ` + hint},
		{"call, stranger", "user:eve@example.com", "vault/secret-model", `routing: forbidden: "vault/secret-model"`},
		{"call, team lookup fails", "user:erin@example.com", "vault/secret-model",
			`routing: forbidden: "vault/secret-model": looking up the teams of user:erin@example.com: directory down`},
		{"change, no subject", "", "set", `routing: forbidden: changing group "vault" needs the provider-account-manager role: ` + hint},
		{"change, stranger", "user:eve@example.com", "set", `routing: forbidden: changing group "vault" needs the provider-account-manager role`},
		{"change, team lookup fails", "user:erin@example.com", "set",
			`routing: forbidden: changing group "vault" needs the provider-account-manager role: looking up the teams of user:erin@example.com: directory down`},
		{"add, no subject", "", "add", `routing: forbidden: only a Client admin may add group "annex": ` + hint},
		{"add, stranger", "user:eve@example.com", "add", `routing: forbidden: only a Client admin may add group "annex"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := accessClient(t, fake.New())
			ctx := context.Background()
			if tt.subject != "" {
				ctx = routing.WithSubject(ctx, tt.subject)
			}
			var err error
			switch tt.call {
			case "set":
				err = c.SetGroup(ctx, c.Groups()[0])
			case "add":
				err = c.SetGroup(ctx, routing.Group{Name: "annex", Models: []routing.VirtualModel{{
					Name: "chat", Routing: corePriority(target.Target{Ref: coreRef("x")}),
				}}})
			default:
				_, err = c.Chat(ctx, coreReq(tt.call))
			}
			if !errors.Is(err, routing.ErrForbidden) {
				t.Fatalf("error %v does not match ErrForbidden", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error text:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestUnknownModelSuggests checks that an unknown name gets the nearest
// name the caller may call, and never a model of a closed group the caller
// may not use, by name or by slug.
func TestUnknownModelSuggests(t *testing.T) {
	tests := []struct {
		name    string
		subject string
		model   string
		want    string // the error's whole text
	}{
		{"typo in an open group", "", "lobby/chta", `routing: unknown model "lobby/chta" (did you mean "lobby/chat"?)`},
		{"typo in the group name", "", "lobyy/chat", `routing: unknown model "lobyy/chat" (did you mean "lobby/chat"?)`},
		{"typo in a member's group", "user:alice@example.com", "vault/secret-modle",
			`routing: unknown model "vault/secret-modle" (did you mean "vault/secret-model"?)`},
		{"typo in a member's slug", "user:alice@example.com", "topsecre", `routing: unknown model "topsecre" (did you mean "topsecret"?)`},
		{"team member's slug", "user:carol@example.com", "topsecrte", `routing: unknown model "topsecrte" (did you mean "topsecret"?)`},
		{"stranger, slug of a closed group", "user:eve@example.com", "topsecre", `routing: unknown model "topsecre"`},
		{"no subject, slug of a closed group", "", "topsecre", `routing: unknown model "topsecre"`},
		{"stranger, typo in a closed group's name", "user:eve@example.com", "vaul/secret-model", `routing: unknown model "vaul/secret-model"`},
		{"team lookup fails", "user:erin@example.com", "vaul/secret-model", `routing: unknown model "vaul/secret-model"`},
		{"nothing close", "", "something-else/entirely", `routing: unknown model "something-else/entirely"`},
		{"empty name", "", "", `routing: unknown model ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := accessClient(t, fake.New())
			ctx := context.Background()
			if tt.subject != "" {
				ctx = routing.WithSubject(ctx, tt.subject)
			}
			_, err := c.Chat(ctx, coreReq(tt.model))
			if !errors.Is(err, routing.ErrUnknownModel) {
				t.Fatalf("error %v does not match ErrUnknownModel", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error text:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestOperations checks that every operation routes, that an operation a
// model does not list fails with ErrUnsupportedOperation before any
// attempt, and that the slug and "group/model" name the same model.
func TestOperations(t *testing.T) {
	f := fake.New()
	g := routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
		{Name: "chat", Slug: "Chat-1", Routing: corePriority(target.Target{Ref: coreRef("gpt")})},
		{
			Name: "multi", Slug: "multi.v2",
			ModelTypes: []routing.ModelType{routing.Completion, routing.Embedding},
			Routing:    corePriority(target.Target{Ref: coreRef("davinci")}),
		},
	}}
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(g))
	ctx := context.Background()
	type outcome struct {
		Op          string
		Call        string // "<real model>/<operation>" as the provider saw it
		Resolved    string
		Virtual     string
		Unsupported bool
	}
	run := func(op, name string, call func(context.Context) error) outcome {
		t.Helper()
		f.Reset()
		tctx, tr := coreTraced(ctx)
		err := call(tctx)
		if err != nil && !errors.Is(err, routing.ErrUnsupportedOperation) {
			t.Errorf("%s %s: %v", op, name, err)
		}
		o := outcome{Op: op, Resolved: tr.Resolved, Virtual: tr.VirtualModel, Unsupported: err != nil}
		if calls := f.Calls(); len(calls) > 0 {
			o.Call = calls[0].Model + "/" + calls[0].Op.String()
		}
		return o
	}
	chat := func(name string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.Chat(ctx, coreReq(name)); return err }
	}
	completion := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.Completion(ctx, openai.CompletionRequest{Model: name, Prompt: "hi"})
			return err
		}
	}
	embed := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.Embed(ctx, openai.EmbeddingRequest{Model: openai.EmbeddingModel(name), Input: "hi"})
			return err
		}
	}
	got := []outcome{
		run("chat", "grp/chat", chat("grp/chat")),
		run("chat", "Chat-1", chat("Chat-1")),
		run("embed", "grp/chat", embed("grp/chat")),
		run("completion", "Chat-1", completion("Chat-1")),
		run("completion", "grp/multi", completion("grp/multi")),
		run("embed", "multi.v2", embed("multi.v2")),
		run("chat", "grp/multi", chat("grp/multi")),
	}
	want := []outcome{
		{Op: "chat", Call: "gpt/chat", Resolved: "acct/gpt", Virtual: "grp/chat"},
		{Op: "chat", Call: "gpt/chat", Resolved: "acct/gpt", Virtual: "grp/chat"},
		{Op: "embed", Virtual: "", Unsupported: true},
		{Op: "completion", Virtual: "", Unsupported: true},
		{Op: "completion", Call: "davinci/completion", Resolved: "acct/davinci", Virtual: "grp/multi"},
		{Op: "embed", Call: "davinci/embedding", Resolved: "acct/davinci", Virtual: "grp/multi"},
		{Op: "chat", Virtual: "", Unsupported: true},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("outcomes (-got +want):\n%s", diff)
	}
}

// TestSlugTrace checks that the Trace keeps the name as called and the
// resolved "group/model" apart.
func TestSlugTrace(t *testing.T) {
	g := routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
		{Name: "chat", Slug: "fast", Routing: corePriority(target.Target{Ref: coreRef("gpt")})},
	}}
	c := coreClient(t, routing.WithProvider(coreAcct, fake.New()), routing.WithGroup(g))
	ctx, tr := coreTraced(context.Background())
	if _, err := c.Chat(ctx, coreReq("fast")); err != nil {
		t.Fatal(err)
	}
	if tr.Model != "fast" || tr.VirtualModel != "grp/chat" || tr.Resolved != "acct/gpt" {
		t.Errorf("Trace = {Model %q, VirtualModel %q, Resolved %q}, want {fast, grp/chat, acct/gpt}", tr.Model, tr.VirtualModel, tr.Resolved)
	}
}

// TestSetGroupAccess checks who may change groups at run time: a closed
// group's Manager or a Client admin; with admins configured, only an admin
// may add a group or change an open one. A refused or invalid change
// leaves the configuration as it was.
func TestSetGroupAccess(t *testing.T) {
	vault := func(ref string) routing.Group {
		return routing.Group{
			Name: "vault",
			Collaborators: []routing.Collaborator{
				{Subject: "user:alice@example.com", Role: routing.RoleUser},
				{Subject: "user:bob@example.com", Role: routing.RoleManager},
				{Subject: "team:search", Role: routing.RoleUser},
				{Subject: "virtualaccount:billing", Role: routing.RoleUser},
			},
			Models: []routing.VirtualModel{{Name: "secret-model", Slug: "topsecret", Routing: corePriority(target.Target{Ref: ref})}},
		}
	}
	open := func(name, ref string) routing.Group {
		return routing.Group{Name: name, Models: []routing.VirtualModel{{Name: "chat", Routing: corePriority(target.Target{Ref: ref})}}}
	}
	tests := []struct {
		name    string
		subject string
		group   routing.Group
		wantErr error
		// after the change, who serves these models (as root)
		wantServed map[string]string
	}{
		{"manager replaces", "user:bob@example.com", vault(coreRef("new-gpt")), nil,
			map[string]string{"vault/secret-model": "new-gpt", "lobby/chat": "public-gpt"}},
		{"admin replaces", "user:root@example.com", vault(coreRef("new-gpt")), nil,
			map[string]string{"vault/secret-model": "new-gpt"}},
		{"user may not", "user:alice@example.com", vault(coreRef("new-gpt")), routing.ErrForbidden,
			map[string]string{"vault/secret-model": "classified-gpt"}},
		{"team member user may not", "user:carol@example.com", vault(coreRef("new-gpt")), routing.ErrForbidden,
			map[string]string{"vault/secret-model": "classified-gpt"}},
		{"stranger may not", "user:eve@example.com", vault(coreRef("new-gpt")), routing.ErrForbidden,
			map[string]string{"vault/secret-model": "classified-gpt"}},
		{"no subject may not", "", vault(coreRef("new-gpt")), routing.ErrForbidden,
			map[string]string{"vault/secret-model": "classified-gpt"}},
		{"manager may not add a group", "user:bob@example.com", open("annex", coreRef("x")), routing.ErrForbidden,
			map[string]string{"annex/chat": ""}},
		{"admin adds a group", "user:root@example.com", open("annex", coreRef("x")), nil,
			map[string]string{"annex/chat": "x"}},
		{"open group: only an admin may change it", "user:eve@example.com", open("lobby", coreRef("x")), routing.ErrForbidden,
			map[string]string{"lobby/chat": "public-gpt"}},
		{"open group: admin changes it", "user:root@example.com", open("lobby", coreRef("x")), nil,
			map[string]string{"lobby/chat": "x"}},
		{"invalid change by the manager changes nothing", "user:bob@example.com", vault("nope/gpt"), nil,
			map[string]string{"vault/secret-model": "classified-gpt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			c := accessClient(t, f)
			ctx := context.Background()
			if tt.subject != "" {
				ctx = routing.WithSubject(ctx, tt.subject)
			}
			err := c.SetGroup(ctx, tt.group)
			invalid := strings.HasPrefix(tt.group.Models[0].Routing.Targets[0].Ref, "nope/")
			switch {
			case invalid:
				var all routing.FieldErrors
				if !errors.As(err, &all) {
					t.Errorf("SetGroup = %v, want routing.FieldErrors", err)
				}
			case !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil):
				t.Errorf("SetGroup as %q = %v, want %v", tt.subject, err, tt.wantErr)
			}
			root := routing.WithSubject(context.Background(), "user:root@example.com")
			got := map[string]string{}
			for m := range tt.wantServed {
				resp, err := c.Chat(root, coreReq(m))
				if err != nil && !errors.Is(err, routing.ErrUnknownModel) {
					t.Errorf("Chat(%s): %v", m, err)
				}
				got[m] = resp.Model
			}
			if diff := cmp.Diff(got, tt.wantServed); diff != "" {
				t.Errorf("served after the change (-got +want):\n%s", diff)
			}
		})
	}
}

// TestInFlightKeepsConfig checks that a call in flight when its group is
// replaced finishes on the configuration it started with, and the next
// call uses the new one.
func TestInFlightKeepsConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Script("old", fake.Reply("old").After(time.Second))
		g := func(m string) routing.Group { return coreGroup(corePriority(target.Target{Ref: coreRef(m)})) }
		c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(g("old")))
		done := make(chan string)
		go func() {
			resp, err := c.Chat(context.Background(), coreReq(coreModel))
			if err != nil {
				t.Error(err)
			}
			done <- resp.Model
		}()
		synctest.Wait() // the call is waiting on the old target
		if err := c.SetGroup(context.Background(), g("brand-new")); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Chat(context.Background(), coreReq(coreModel))
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{<-done, resp.Model}; !cmp.Equal(got, []string{"old", "brand-new"}) {
			t.Errorf("served by %q (in flight) and %q (after); want old, brand-new", got[0], got[1])
		}
	})
}
