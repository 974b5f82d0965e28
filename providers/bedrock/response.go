package bedrock

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// finishReason maps a Bedrock stop reason to an OpenAI finish reason.
// A model output Bedrock could not parse (malformed_model_output,
// malformed_tool_use) is an error, not a finish reason: the answer, or
// the tool call in it, is broken, and passing it on as "stop" or
// "tool_calls" would hide that. A stop reason this package does not know
// is passed on unchanged.
func finishReason(sr types.StopReason, requestID string) (openai.FinishReason, error) {
	switch sr {
	case types.StopReasonEndTurn, types.StopReasonStopSequence:
		return openai.FinishReasonStop, nil
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return openai.FinishReasonLength, nil
	case types.StopReasonToolUse:
		return openai.FinishReasonToolCalls, nil
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return openai.FinishReasonContentFilter, nil
	case types.StopReasonMalformedModelOutput, types.StopReasonMalformedToolUse:
		return "", &providers.Error{
			Status:  http.StatusBadGateway,
			Code:    string(sr),
			Type:    string(sr),
			Message: withRequestID("the model's output could not be parsed ("+string(sr)+")", requestID),
		}
	}
	return openai.FinishReason(sr), nil
}

// usage maps Bedrock token usage. Bedrock counts tokens read from and
// written to the prompt cache apart from inputTokens; OpenAI's
// prompt_tokens counts every input token, with cached_tokens a part of
// it. So PromptTokens is inputTokens plus both cache counts,
// PromptTokensDetails.CachedTokens is the cache reads (set only when
// Bedrock reported cache use), and TotalTokens is PromptTokens plus
// CompletionTokens.
func usage(u *types.TokenUsage) openai.Usage {
	var out openai.Usage
	if u == nil {
		return out
	}
	in, read, write := i32(u.InputTokens), i32(u.CacheReadInputTokens), i32(u.CacheWriteInputTokens)
	out.PromptTokens = in + read + write
	out.CompletionTokens = i32(u.OutputTokens)
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	if u.CacheReadInputTokens != nil || u.CacheWriteInputTokens != nil {
		out.PromptTokensDetails = &openai.PromptTokensDetails{CachedTokens: read}
	}
	return out
}

func i32(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// toResponse translates a Converse answer: its text blocks joined into
// the content, its reasoning text into ReasoningContent, its tool uses
// into tool calls in order. Other blocks (citations, images) have no
// place in an OpenAI message and are left out. The response ID is
// Bedrock's request id.
func toResponse(out *bedrockruntime.ConverseOutput, model, requestID string, created int64) (openai.ChatCompletionResponse, error) {
	resp := openai.ChatCompletionResponse{
		ID:      requestID,
		Object:  "chat.completion",
		Created: created,
		Model:   model,
		Usage:   usage(out.Usage),
	}
	msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant}
	if m, ok := out.Output.(*types.ConverseOutputMemberMessage); ok {
		var text, reasoning strings.Builder
		for _, block := range m.Value.Content {
			switch b := block.(type) {
			case *types.ContentBlockMemberText:
				text.WriteString(b.Value)
			case *types.ContentBlockMemberReasoningContent:
				if rt, ok := b.Value.(*types.ReasoningContentBlockMemberReasoningText); ok && rt.Value.Text != nil {
					reasoning.WriteString(*rt.Value.Text)
				}
			case *types.ContentBlockMemberToolUse:
				args, err := documentJSON(b.Value.Input)
				if err != nil {
					return resp, &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedEvent,
						Message: withRequestID("tool input could not be encoded", requestID), Err: err}
				}
				msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{
					ID:       deref(b.Value.ToolUseId),
					Type:     openai.ToolTypeFunction,
					Function: openai.FunctionCall{Name: deref(b.Value.Name), Arguments: args},
				})
			}
		}
		msg.Content, msg.ReasoningContent = text.String(), reasoning.String()
	}
	fr, err := finishReason(out.StopReason, requestID)
	if err != nil {
		return resp, err
	}
	resp.Choices = []openai.ChatCompletionChoice{{Index: 0, Message: msg, FinishReason: fr}}
	return resp, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
