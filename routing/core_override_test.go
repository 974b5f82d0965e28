package routing_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers/fake"
	"github.com/llmroute/llmroute/routing"
	"github.com/llmroute/llmroute/target"
)

// overrideTarget is a target with override_params and headers_override
// of every kind: typed chat fields, an unknown key sent as an extra body
// field, prompt_version_fqn, and headers set and removed.
func overrideTarget(ref string) target.Target {
	return target.Target{
		Ref:   ref,
		Retry: &target.Retry{Attempts: 0},
		Params: map[string]any{
			"temperature":        0.2,
			"max_tokens":         512,
			"top_p":              0.5,
			"stop":               []any{"END"},
			"seed":               7,
			"prompt_version_fqn": "acme:prompt:support:v3",
			"custom_flag":        true,
		},
		Headers: target.HeadersOverride{
			Set:    map[string]string{"x-api-version": "2", "X-Extra": "yes"},
			Remove: []string{"x-debug"},
		},
	}
}

// callerRequest builds the caller's request afresh each time, so a test
// can compare the one it sent with an untouched twin.
func callerRequest(tools bool) openai.ChatCompletionRequest {
	seed := 1
	r := openai.ChatCompletionRequest{
		Model:       coreModel,
		Messages:    []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello there"}},
		Temperature: 0.9,
		MaxTokens:   100,
		Stop:        []string{"\n"},
		Seed:        &seed,
		Metadata:    map[string]string{"k": "v"},
	}
	if tools {
		r.Tools = []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "lookup"}}}
	}
	return r
}

func callerHeaders() http.Header {
	return http.Header{"X-Debug": {"1"}, "X-Caller": {"svc"}, "X-Api-Version": {"1"}}
}

// TestOverridesReachProvider checks what one attempt sends: the target's
// real model, override_params on the typed request or as extra body
// fields, prompt_version_fqn only without tools (and a Trace note when it
// is held back), and the caller's headers with headers_override applied
// on top. The caller's request and headers are unchanged afterwards.
func TestOverridesReachProvider(t *testing.T) {
	seven := 7
	wantHeader := http.Header{"X-Debug": {"1"}, "X-Caller": {"svc"}, "X-Api-Version": {"2"}, "X-Extra": {"yes"}}
	tests := []struct {
		name      string
		tools     bool
		wantExtra map[string]any
		wantNote  bool
	}{
		{
			name:      "plain chat",
			wantExtra: map[string]any{"prompt_version_fqn": "acme:prompt:support:v3", "custom_flag": true},
		},
		{
			name:      "with tools",
			tools:     true,
			wantExtra: map[string]any{"custom_flag": true},
			wantNote:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			c := coreClient(t, routing.WithProvider(coreAcct, f),
				routing.WithGroup(coreGroup(corePriority(overrideTarget(coreRef("real-model"))))))
			req, hdr := callerRequest(tt.tools), callerHeaders()
			ctx, tr := coreTraced(routing.WithHeaders(context.Background(), hdr))
			if _, err := c.Chat(ctx, req); err != nil {
				t.Fatal(err)
			}
			calls := f.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			got := calls[0]
			if got.Model != "real-model" || got.Chat.Model != "real-model" {
				t.Errorf("model sent = %q, want the target's real model", got.Chat.Model)
			}
			type typed struct {
				Temperature, TopP float32
				MaxTokens         int
				Stop              []string
				Seed              *int
			}
			gotTyped := typed{got.Chat.Temperature, got.Chat.TopP, got.Chat.MaxTokens, got.Chat.Stop, got.Chat.Seed}
			wantTyped := typed{0.2, 0.5, 512, []string{"END"}, &seven}
			if diff := cmp.Diff(gotTyped, wantTyped); diff != "" {
				t.Errorf("typed fields (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Chat.Messages, req.Messages); diff != "" {
				t.Errorf("messages (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Extra, tt.wantExtra); diff != "" {
				t.Errorf("extra body fields (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Header, wantHeader); diff != "" {
				t.Errorf("headers set (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.RemoveHeader, []string{"x-debug"}); diff != "" {
				t.Errorf("headers removed (-got +want):\n%s", diff)
			}
			noted := false
			for _, n := range tr.Notes {
				noted = noted || strings.Contains(n, "prompt_version_fqn")
			}
			if noted != tt.wantNote {
				t.Errorf("Trace.Notes = %q; a prompt_version_fqn note: got %v, want %v", tr.Notes, noted, tt.wantNote)
			}
			// The caller's values are untouched.
			if diff := cmp.Diff(req, callerRequest(tt.tools)); diff != "" {
				t.Errorf("caller's request changed (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(hdr, callerHeaders()); diff != "" {
				t.Errorf("caller's headers changed (-got +want):\n%s", diff)
			}
		})
	}
}

// TestOverridesPerTarget checks that one target's overrides do not leak
// into the next attempt: after the overriding primary fails, the backup
// gets the caller's request and headers as they were.
func TestOverridesPerTarget(t *testing.T) {
	f := fake.New()
	f.Script("primary", fake.Fail(503))
	c := coreClient(t, routing.WithProvider(coreAcct, f),
		routing.WithGroup(coreGroup(corePriority(overrideTarget(coreRef("primary")), target.Target{Ref: coreRef("backup")}))))
	req := callerRequest(false)
	ctx := routing.WithHeaders(context.Background(), callerHeaders())
	if _, err := c.Chat(ctx, req); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	backup := calls[1]
	want := callerRequest(false)
	want.Model = "backup"
	if diff := cmp.Diff(backup.Chat, want); diff != "" {
		t.Errorf("backup's request (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(backup.Header, callerHeaders()); diff != "" {
		t.Errorf("backup's headers (-got +want):\n%s", diff)
	}
	if backup.Extra != nil || backup.RemoveHeader != nil {
		t.Errorf("backup got Extra %v and RemoveHeader %v, want none", backup.Extra, backup.RemoveHeader)
	}
}

// TestOverridesCompletionAndEmbedding checks override_params on the other
// operations: typed fields where the request has them, extra body fields
// otherwise.
func TestOverridesCompletionAndEmbedding(t *testing.T) {
	f := fake.New()
	g := routing.Group{Name: coreGrp, Models: []routing.VirtualModel{
		{
			Name: "text", ModelTypes: []routing.ModelType{routing.Completion},
			Routing: corePriority(target.Target{Ref: coreRef("davinci"), Params: map[string]any{"max_tokens": 64, "temperature": 0, "best_of": 2}}),
		},
		{
			Name: "embed", ModelTypes: []routing.ModelType{routing.Embedding},
			Routing: corePriority(target.Target{Ref: coreRef("te3"), Params: map[string]any{"dimensions": 256, "encoding_format": "float", "input_type": "query"}}),
		},
	}}
	c := coreClient(t, routing.WithProvider(coreAcct, f), routing.WithGroup(g))
	if _, err := c.Completion(context.Background(), openai.CompletionRequest{Model: "grp/text", Prompt: "say hi", MaxTokens: 10, Temperature: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Embed(context.Background(), openai.EmbeddingRequest{Model: "grp/embed", Input: []string{"a b"}}); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	comp, emb := calls[0], calls[1]
	type compView struct {
		Model       string
		MaxTokens   int
		Temperature float32
		Extra       map[string]any
	}
	if diff := cmp.Diff(compView{comp.Completion.Model, comp.Completion.MaxTokens, comp.Completion.Temperature, comp.Extra},
		compView{"davinci", 64, 0, map[string]any{"best_of": 2}}); diff != "" {
		t.Errorf("completion call (-got +want):\n%s", diff)
	}
	type embView struct {
		Model      string
		Dimensions int
		Format     openai.EmbeddingEncodingFormat
		Extra      map[string]any
	}
	if diff := cmp.Diff(embView{string(emb.Embedding.Model), emb.Embedding.Dimensions, emb.Embedding.EncodingFormat, emb.Extra},
		embView{"te3", 256, "float", map[string]any{"input_type": "query"}}); diff != "" {
		t.Errorf("embedding call (-got +want):\n%s", diff)
	}
}
