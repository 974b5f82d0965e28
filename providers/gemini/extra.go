package gemini

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"google.golang.org/genai"
)

// Call.Extra keys.
//
// The routing layer puts every override_params key the OpenAI request
// has no field for into Call.Extra. Those that name a Gemini generation
// setting become that typed setting; any other key is refused with an
// *InputError naming it, because sending it on would fail upstream (or,
// worse, be ignored) and dropping it would hide a configuration mistake.
// Keys are accepted in snake_case (top_k) or Gemini's camelCase (topK),
// and so are the fields of object values.

// chatExtras are the keys a chat request takes, in their snake_case form.
var chatExtras = map[string]func(cfg *genai.GenerateContentConfig, v any) error{
	"top_k": func(cfg *genai.GenerateContentConfig, v any) error {
		return decodeExtra(v, &cfg.TopK, false)
	},
	"thinking_config": func(cfg *genai.GenerateContentConfig, v any) error {
		// Replaces whatever reasoning_effort chose.
		cfg.ThinkingConfig = nil
		return decodeExtra(v, &cfg.ThinkingConfig, true)
	},
	"safety_settings": func(cfg *genai.GenerateContentConfig, v any) error {
		return decodeExtra(v, &cfg.SafetySettings, true)
	},
	"cached_content": func(cfg *genai.GenerateContentConfig, v any) error {
		return decodeExtra(v, &cfg.CachedContent, false)
	},
	"response_modalities": func(cfg *genai.GenerateContentConfig, v any) error {
		return decodeExtra(v, &cfg.ResponseModalities, false)
	},
	"media_resolution": func(cfg *genai.GenerateContentConfig, v any) error {
		return decodeExtra(v, &cfg.MediaResolution, false)
	},
	"labels": func(cfg *genai.GenerateContentConfig, v any) error {
		// Label names are the caller's own: not renamed.
		return decodeExtra(v, &cfg.Labels, false)
	},
}

// embedExtras are the keys an embeddings request takes.
var embedExtras = map[string]func(cfg *genai.EmbedContentConfig, v any) error{
	"task_type": func(cfg *genai.EmbedContentConfig, v any) error {
		return decodeExtra(v, &cfg.TaskType, false)
	},
	"title": func(cfg *genai.EmbedContentConfig, v any) error {
		return decodeExtra(v, &cfg.Title, false)
	},
	"auto_truncate": func(cfg *genai.EmbedContentConfig, v any) error {
		return decodeExtra(v, &cfg.AutoTruncate, false)
	},
}

// applyChatExtra sets the chat request's extra keys on cfg.
func applyChatExtra(cfg *genai.GenerateContentConfig, extra map[string]any) error {
	return applyExtra(cfg, extra, chatExtras)
}

// applyEmbedExtra sets the embeddings request's extra keys on cfg.
func applyEmbedExtra(cfg *genai.EmbedContentConfig, extra map[string]any) error {
	return applyExtra(cfg, extra, embedExtras)
}

func applyExtra[C any](cfg C, extra map[string]any, known map[string]func(C, any) error) error {
	if len(extra) == 0 {
		return nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key, the same one every time
	for _, k := range keys {
		set, ok := known[snakeCase(k)]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			slices.Sort(names)
			return inputError("extra."+k, "is not a setting this adapter sends to Gemini (it takes %s)", strings.Join(names, ", "))
		}
		if err := set(cfg, extra[k]); err != nil {
			return inputError("extra."+k, "%v", err)
		}
	}
	return nil
}

// decodeExtra decodes v into dst through JSON, refusing fields dst does
// not have. With camel, object keys are first put in Gemini's camelCase.
func decodeExtra(v any, dst any, camel bool) error {
	if camel {
		v = camelKeys(v)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// camelKeys returns v with every object key in camelCase.
func camelKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[camelCase(k)] = camelKeys(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = camelKeys(inner)
		}
		return out
	}
	return v
}

// camelCase turns thinking_budget into thinkingBudget.
func camelCase(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			up = b.Len() > 0
		case up && c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			up = false
		default:
			b.WriteByte(c)
			up = false
		}
	}
	return b.String()
}

// snakeCase turns topK into top_k.
func snakeCase(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
