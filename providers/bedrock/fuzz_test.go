package bedrock_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
)

// decodeJSON decodes one JSON value keeping numbers as written.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// hasEmptyKey reports whether any object in v has the key "".
func hasEmptyKey(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "" || hasEmptyKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasEmptyKey(e) {
				return true
			}
		}
	}
	return false
}

// FuzzJSONDocument: any JSON object becomes a document the SDK encodes
// back to the same JSON, numbers as written (or a clear refusal, for an
// empty key); anything else is refused.
func FuzzJSONDocument(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"id":1152921504606846977,"x":[1.5e300,-0,"s",null,true,{"k":[]}]}`,
		`{"":1}`, `[1]`, `"s"`, `{"a":1} {}`, `{"a":"\u00e9\ud83d\ude00\n"}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := bed.JSONDocument(raw)
		want, werr := decodeJSON(raw)
		_, isObject := want.(map[string]any)
		valid := werr == nil && json.Valid(raw) && isObject && !hasEmptyKey(want)
		if !valid {
			if err == nil {
				t.Fatalf("JSONDocument(%q) accepted input that is not one JSON object with non-empty keys", raw)
			}
			return
		}
		if err != nil {
			t.Fatalf("JSONDocument(%q): %v", raw, err)
		}
		out, err := doc.MarshalSmithyDocument()
		if err != nil {
			t.Fatalf("MarshalSmithyDocument(%q): %v", raw, err)
		}
		got, err := decodeJSON(out)
		if err != nil {
			t.Fatalf("the SDK encoded %q as %q, not JSON: %v", raw, out, err)
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("round trip of %q through %q (-got +want):\n%s", raw, out, diff)
		}
	})
}

// FuzzRequestTranslation: whatever a caller puts in tool arguments, tool
// schemas, image URLs and tool_choice, translation never panics and
// either succeeds or refuses with a 400 naming a field.
func FuzzRequestTranslation(f *testing.F) {
	f.Add(`{"city":"Paris"}`, `{"type":"object"}`, "data:image/png;base64,iVBORw0KGgo=", "auto")
	f.Add(``, `null`, "s3://b/k.webp", "required")
	f.Add(`[`, `"x"`, "https://example.com/a.png", "get_weather")
	f.Add(`{"":{}}`, `{"properties":{"":1}}`, "data:;base64,", "none")
	f.Fuzz(func(t *testing.T, args, schema, image, choice string) {
		var tc any = choice
		if choice != "auto" && choice != "none" && choice != "required" {
			tc = openai.ToolChoice{Type: "function", Function: openai.ToolFunction{Name: choice}}
		}
		r := openai.ChatCompletionRequest{
			Model: testModel,
			Messages: []openai.ChatCompletionMessage{
				{Role: "user", MultiContent: []openai.ChatMessagePart{
					{Type: "text", Text: "look"},
					{Type: "image_url", ImageURL: &openai.ChatMessageImageURL{URL: image}},
				}},
				{Role: "assistant", ToolCalls: []openai.ToolCall{{ID: "c", Type: "function", Function: openai.FunctionCall{Name: "get_weather", Arguments: args}}}},
				{Role: "tool", ToolCallID: "c", Content: args},
			},
			Tools:      []openai.Tool{{Type: "function", Function: &openai.FunctionDefinition{Name: "get_weather", Parameters: json.RawMessage(schema)}}},
			ToolChoice: tc,
		}
		err := bed.BuildParams(&r, nil)
		if err == nil {
			return
		}
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || pe.Code != bed.CodeClientValidation || !strings.HasPrefix(pe.Message, "bedrock: ") {
			t.Fatalf("BuildParams error %v (%T); want a 400 client_validation naming a field", err, err)
		}
	})
}
