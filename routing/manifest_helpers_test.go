package routing_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/slug"
)

// chatOnly is a provider account that serves chat only.
type chatOnly struct{}

func (chatOnly) Chat(context.Context, providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	return openai.ChatCompletionResponse{}, nil
}

// full is a provider account that serves every operation.
type full struct{ chatOnly }

func (full) Completion(context.Context, providers.CompletionRequest) (openai.CompletionResponse, error) {
	return openai.CompletionResponse{}, nil
}

func (full) Embed(context.Context, providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	return openai.EmbeddingResponse{}, nil
}

// accountsFor registers, as full providers, every account the groups'
// targets name.
func accountsFor(groups []routing.Group) routing.Accounts {
	acc := routing.Accounts{}
	for _, g := range groups {
		for _, m := range g.Models {
			for _, t := range m.Routing.Targets {
				if ref, err := slug.ParseRef(t.Ref); err == nil {
					acc[ref.Account] = full{}
				}
			}
		}
	}
	return acc
}

// loc is where a problem is, and a piece of what it says.
type loc struct {
	Group, Path string
	Line        int
	Msg         string
}

// locs lists the FieldErrors in err, keeping of each message only the
// part that want's message (at the same index) contains, so that a test
// names the words that matter without repeating whole messages.
func locs(t *testing.T, err error, want []loc) []loc {
	t.Helper()
	var es routing.FieldErrors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not a routing.FieldErrors", err, err)
	}
	var got []loc
	for i, e := range es {
		msg := e.Msg
		if i < len(want) && strings.Contains(msg, want[i].Msg) {
			msg = want[i].Msg
		}
		got = append(got, loc{e.Group, e.Path, e.Line, msg})
	}
	return got
}

// roundTrip writes groups with MarshalManifest, reads the output back
// with ParseManifest, and fails the test unless the same groups come
// back; it returns what MarshalManifest wrote.
func roundTrip(t *testing.T, groups []routing.Group) []byte {
	t.Helper()
	out, err := routing.MarshalManifest(groups)
	if err != nil {
		t.Fatalf("MarshalManifest: %v", err)
	}
	again, err := routing.ParseManifest(out)
	if err != nil {
		t.Fatalf("ParseManifest(MarshalManifest(groups)): %v\n%s", err, out)
	}
	if diff := cmp.Diff(again, groups); diff != "" {
		t.Errorf("parse → marshal → parse changed the groups (-got +want):\n%s\n%s", diff, out)
	}
	return out
}

// testdata returns the manifests in testdata, by file name.
func testdata(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		if ext := filepath.Ext(f); ext != ".yaml" && ext != ".json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	if len(out) == 0 {
		t.Fatal("no manifests in testdata")
	}
	return out
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
