package routing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
)

// mfGuarded is a closed group; its model and target names are what an
// outsider must not learn.
const mfGuarded = `
name: payroll
type: provider-account/virtual-model
collaborators:
  - {subject: user:alice@example.com, role_id: provider-account-manager}
  - {subject: user:bob@example.com, role_id: provider-account-access}
integrations:
  - name: secret-model
    type: integration/model/virtual
    slug: hidden-slug
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: vault-account/confidential-deployment
          priority: 0
`

// mfTakeover replaces the group with one its author controls.
const mfTakeover = `
name: payroll
type: provider-account/virtual-model
integrations:
  - name: probe
    type: integration/model/virtual
    routing_config:
      type: weight-based-routing
      load_balance_targets:
        - {target: other-account/cheap, weight: 1}
`

// Only a Manager of a group may change it; everyone else gets
// ErrForbidden, which says nothing of what the group holds, and the group
// stays as it was.
func TestManifestApplyNeedsManager(t *testing.T) {
	c, err := routing.New(
		routing.WithProvider("vault-account", fake.New()),
		routing.WithProvider("other-account", fake.New()),
		routing.WithManifest([]byte(mfGuarded)),
	)
	if err != nil {
		t.Fatal(err)
	}
	before := c.Groups()
	secrets := []string{"secret-model", "hidden-slug", "vault-account", "confidential-deployment", "alice", "bob"}
	for _, subject := range []string{"", "user:bob@example.com", "user:mallory@example.com", "team:payroll"} {
		ctx := context.Background()
		if subject != "" {
			ctx = routing.WithSubject(ctx, subject)
		}
		err := c.ApplyManifest(ctx, []byte(mfTakeover))
		if !errors.Is(err, routing.ErrForbidden) {
			t.Errorf("ApplyManifest as %q: %v, want ErrForbidden", subject, err)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("ApplyManifest as %q: error %q reveals %q", subject, err, s)
			}
		}
		if diff := cmp.Diff(c.Groups(), before); diff != "" {
			t.Errorf("ApplyManifest as %q changed the group (-got +want):\n%s", subject, diff)
		}
	}
	// Nor does adding a group of one's own probe a closed group: the
	// problems with this one do not confirm what the closed group holds.
	probe := []byte(`
name: probe-app
type: provider-account/virtual-model
integrations:
  - name: probe
    type: integration/model/virtual
    slug: hidden-slug
    routing_config:
      type: priority-based-routing
      load_balance_targets:
        - target: payroll/secret-model
`)
	mallory := routing.WithSubject(context.Background(), "user:mallory@example.com")
	err = c.ApplyManifest(mallory, probe)
	if err == nil {
		t.Fatal("ApplyManifest(probe) succeeded")
	}
	for _, s := range []string{"secret-model", "vault-account", "confidential-deployment", "payroll/"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("ApplyManifest(probe): error %q reveals %q", err, s)
		}
	}
	if !strings.Contains(err.Error(), `unknown provider account "payroll"`) || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("ApplyManifest(probe): error %q does not say what is wrong", err)
	}

	// The group still serves its members.
	bob := routing.WithSubject(context.Background(), "user:bob@example.com")
	if _, err := c.Chat(bob, openai.ChatCompletionRequest{Model: "payroll/secret-model"}); err != nil {
		t.Errorf("Chat as bob after the refused changes: %v", err)
	}

	// Its Manager may change it.
	alice := routing.WithSubject(context.Background(), "user:alice@example.com")
	if err := c.ApplyManifest(alice, []byte(mfTakeover)); err != nil {
		t.Fatalf("ApplyManifest as the Manager: %v", err)
	}
	if _, err := c.Chat(context.Background(), openai.ChatCompletionRequest{Model: "payroll/probe"}); err != nil {
		t.Errorf("Chat on the new, open group: %v", err)
	}
}
