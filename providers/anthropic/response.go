package anthropic

import (
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	goopenai "github.com/sashabaranov/go-openai"
	"github.com/tidwall/gjson"

	"github.com/llmroute/llmroute/providers"
)

// response translates a message into a chat completion: its text blocks
// joined as the content, its tool_use blocks as tool calls, its thinking
// as reasoning content; other blocks (redacted thinking, server tools)
// have no OpenAI form and are left out.
func (s *callState) response(msg *sdk.Message) (goopenai.ChatCompletionResponse, error) {
	var resp goopenai.ChatCompletionResponse
	if msg == nil {
		return resp, &providers.Error{Status: providers.StatusTransport, Message: "empty response"}
	}
	if typ := gjson.Get(msg.RawJSON(), "type").String(); typ != "message" {
		if typ == "error" {
			// An error object sent with a success status.
			var e sdk.Error
			if err := e.UnmarshalJSON([]byte(msg.RawJSON())); err == nil {
				e.StatusCode = 200
				return resp, s.apiError(&e)
			}
		}
		return resp, &providers.Error{Status: providers.StatusTransport, Message: s.redact("response is not a message: " + truncate(msg.RawJSON(), 120))}
	}

	out := goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleAssistant}
	var text, thinking strings.Builder
	for i := range msg.Content {
		b := &msg.Content[i]
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			thinking.WriteString(b.Thinking)
		case "tool_use":
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{
				ID:       b.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: b.Name, Arguments: args},
			})
		}
	}
	out.Content = text.String()
	out.ReasoningContent = thinking.String()

	resp = goopenai.ChatCompletionResponse{
		ID:      msg.ID,
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   msg.Model,
		Choices: []goopenai.ChatCompletionChoice{{
			Message:      out,
			FinishReason: finishReason(msg.StopReason),
		}},
		Usage: usage(msg.Usage.InputTokens, msg.Usage.CacheReadInputTokens, msg.Usage.CacheCreationInputTokens,
			msg.Usage.OutputTokens, msg.Usage.OutputTokensDetails.ThinkingTokens),
	}
	return resp, nil
}

// finishReason maps a stop reason to OpenAI's finish reason:
// end_turn and stop_sequence are stop, max_tokens and
// model_context_window_exceeded are length, tool_use is tool_calls,
// refusal is content_filter, pause_turn (a server tool's turn paused
// before its end) is length, so that it never reads as a complete
// answer. An empty stop reason is stop; another is passed on as it is.
func finishReason(r sdk.StopReason) goopenai.FinishReason {
	switch r {
	case "", sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return goopenai.FinishReasonStop
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded, sdk.StopReasonPauseTurn:
		return goopenai.FinishReasonLength
	case sdk.StopReasonToolUse:
		return goopenai.FinishReasonToolCalls
	case sdk.StopReasonRefusal:
		return goopenai.FinishReasonContentFilter
	}
	return goopenai.FinishReason(r)
}

// usage is OpenAI's usage for Anthropic's counts. Anthropic's input
// tokens leave out the tokens read from and written to the prompt cache;
// OpenAI's prompt tokens count every input token, with the cached ones
// again in PromptTokensDetails.
func usage(input, cacheRead, cacheWrite, output, thinking int64) goopenai.Usage {
	u := goopenai.Usage{
		PromptTokens:     int(input + cacheRead + cacheWrite),
		CompletionTokens: int(output),
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if cacheRead > 0 {
		u.PromptTokensDetails = &goopenai.PromptTokensDetails{CachedTokens: int(cacheRead)}
	}
	if thinking > 0 {
		u.CompletionTokensDetails = &goopenai.CompletionTokensDetails{ReasoningTokens: int(thinking)}
	}
	return u
}
