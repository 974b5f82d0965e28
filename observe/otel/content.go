package otel

import (
	"encoding/json"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// The message and part shapes of gen_ai.input.messages, in the JSON
// schema the conventions give for it: a list of messages, each a role and
// a list of typed parts.
type (
	message struct {
		Role  string `json:"role"`
		Parts []any  `json:"parts"`
		Name  string `json:"name,omitempty"`
	}
	textPart struct {
		Type    string `json:"type"` // "text" or "reasoning"
		Content string `json:"content"`
	}
	toolCallPart struct {
		Type      string `json:"type"` // "tool_call"
		ID        string `json:"id,omitempty"`
		Name      string `json:"name"`
		Arguments any    `json:"arguments,omitempty"`
	}
	toolResponsePart struct {
		Type     string `json:"type"` // "tool_call_response"
		ID       string `json:"id,omitempty"`
		Response string `json:"response"`
	}
	uriPart struct {
		Type     string `json:"type"` // "uri"
		Modality string `json:"modality"`
		URI      string `json:"uri"`
	}
	blobPart struct {
		Type     string `json:"type"` // "blob"
		Modality string `json:"modality"`
		MimeType string `json:"mime_type,omitempty"`
		Content  string `json:"content"`
	}
)

// chatMessages renders a chat request's messages as gen_ai.input.messages.
// System messages stay in the list, as the conventions ask for
// instructions that are part of the chat history.
func chatMessages(msgs []openai.ChatCompletionMessage) string {
	out := make([]message, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		msg := message{Role: m.Role, Name: m.Name, Parts: []any{}}
		if m.Role == openai.ChatMessageRoleTool && m.ToolCallID != "" {
			msg.Parts = append(msg.Parts, toolResponsePart{Type: "tool_call_response", ID: m.ToolCallID, Response: m.Content})
			out = append(out, msg)
			continue
		}
		if m.ReasoningContent != "" {
			msg.Parts = append(msg.Parts, textPart{Type: "reasoning", Content: m.ReasoningContent})
		}
		if m.Content != "" {
			msg.Parts = append(msg.Parts, textPart{Type: "text", Content: m.Content})
		}
		if m.Refusal != "" {
			msg.Parts = append(msg.Parts, textPart{Type: "refusal", Content: m.Refusal})
		}
		for _, p := range m.MultiContent {
			switch {
			case p.Type == openai.ChatMessagePartTypeText:
				msg.Parts = append(msg.Parts, textPart{Type: "text", Content: p.Text})
			case p.Type == openai.ChatMessagePartTypeImageURL && p.ImageURL != nil:
				msg.Parts = append(msg.Parts, imagePart(p.ImageURL.URL))
			}
		}
		if fc := m.FunctionCall; fc != nil {
			msg.Parts = append(msg.Parts, toolCallPart{Type: "tool_call", Name: fc.Name, Arguments: arguments(fc.Arguments)})
		}
		for _, tc := range m.ToolCalls {
			msg.Parts = append(msg.Parts, toolCallPart{Type: "tool_call", ID: tc.ID, Name: tc.Function.Name, Arguments: arguments(tc.Function.Arguments)})
		}
		out = append(out, msg)
	}
	return marshal(out)
}

// promptMessages renders a completion prompt as one user message: a text
// part per prompt string. Token-id prompts are not text and are left out.
func promptMessages(prompt any) string {
	msg := message{Role: openai.ChatMessageRoleUser, Parts: []any{}}
	switch p := prompt.(type) {
	case string:
		msg.Parts = append(msg.Parts, textPart{Type: "text", Content: p})
	case []string:
		for _, s := range p {
			msg.Parts = append(msg.Parts, textPart{Type: "text", Content: s})
		}
	case []any:
		for _, x := range p {
			if s, ok := x.(string); ok {
				msg.Parts = append(msg.Parts, textPart{Type: "text", Content: s})
			}
		}
	}
	return marshal([]message{msg})
}

// imagePart is an image given by URL: a blob for an inline data: URL,
// else a uri part.
func imagePart(url string) any {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok {
			mime, _, _ := strings.Cut(meta, ";")
			return blobPart{Type: "blob", Modality: "image", MimeType: mime, Content: data}
		}
	}
	return uriPart{Type: "uri", Modality: "image", URI: url}
}

// arguments is a tool call's arguments as JSON when they are JSON, else
// the string as sent.
func arguments(s string) any {
	if s == "" {
		return nil
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value above encodes; nothing is better than a
		// partial document.
		return ""
	}
	return string(b)
}
