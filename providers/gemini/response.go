package gemini

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"
)

// modelError is a success response in which the model failed to produce an
// answer it could stand behind: a malformed or unexpected function call.
// It is a 502 keeping Gemini's finish reason as its code, so the router
// may try again or elsewhere.
type modelError struct {
	code string
	msg  string
}

func (e *modelError) Error() string { return e.msg }

// errEmptyResponse is a response with neither a candidate nor a reason for
// having none.
var errEmptyResponse = errors.New("gemini: response holds no candidate and no prompt feedback")

// chatResponse translates a generateContent response. model is the
// requested model, used when the response does not name its version.
//
// The text is read part by part, never through the response's Text
// method, which logs a warning whenever a response also holds function
// calls.
func chatResponse(resp *genai.GenerateContentResponse, model string) (openai.ChatCompletionResponse, error) {
	if resp == nil {
		return openai.ChatCompletionResponse{}, errEmptyResponse
	}
	out := openai.ChatCompletionResponse{
		ID:      resp.ResponseID,
		Object:  "chat.completion",
		Created: created(resp),
		Model:   model,
		Usage:   usage(resp.UsageMetadata),
	}
	if resp.ModelVersion != "" {
		out.Model = resp.ModelVersion
	}
	if len(resp.Candidates) == 0 {
		if resp.PromptFeedback == nil || resp.PromptFeedback.BlockReason == "" {
			return out, errEmptyResponse
		}
		// The prompt itself was blocked: OpenAI's shape for that is an
		// empty answer filtered by content policy.
		out.Choices = []openai.ChatCompletionChoice{{
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant},
			FinishReason: openai.FinishReasonContentFilter,
		}}
		return out, nil
	}
	out.Choices = make([]openai.ChatCompletionChoice, 0, len(resp.Candidates))
	for i, c := range resp.Candidates {
		if c == nil {
			continue
		}
		if err := checkFinish(c.FinishReason, c.FinishMessage); err != nil {
			return out, err
		}
		msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant}
		calls := 0
		if c.Content != nil {
			var text, thought strings.Builder
			for _, p := range c.Content.Parts {
				switch {
				case p == nil:
				case p.FunctionCall != nil:
					msg.ToolCalls = append(msg.ToolCalls, toolCall(resp.ResponseID, candidateIndex(c, i), calls, p, false))
					calls++
				case p.Thought:
					thought.WriteString(p.Text)
				default:
					text.WriteString(p.Text)
				}
			}
			msg.Content, msg.ReasoningContent = text.String(), thought.String()
		}
		out.Choices = append(out.Choices, openai.ChatCompletionChoice{
			Index:        candidateIndex(c, i),
			Message:      msg,
			FinishReason: finishReason(c.FinishReason, calls > 0),
		})
	}
	if len(out.Choices) == 0 {
		return out, errEmptyResponse
	}
	return out, nil
}

// candidateIndex is a candidate's index: its own, or its position.
func candidateIndex(c *genai.Candidate, pos int) int {
	if c.Index != 0 {
		return int(c.Index)
	}
	return pos
}

// created is the response's creation time in Unix seconds: Vertex sends
// one, the Gemini API does not.
func created(resp *genai.GenerateContentResponse) int64 {
	if !resp.CreateTime.IsZero() {
		return resp.CreateTime.Unix()
	}
	return time.Now().Unix()
}

// toolCall translates a function call part. In a stream, the call is
// given its index among the candidate's calls.
func toolCall(responseID string, candidate, position int, p *genai.Part, stream bool) openai.ToolCall {
	args := "{}"
	if len(p.FunctionCall.Args) > 0 {
		if raw, err := json.Marshal(p.FunctionCall.Args); err == nil {
			args = string(raw)
		}
	}
	tc := openai.ToolCall{
		ID:       encodeToolCallID(responseID, candidate, position, p.FunctionCall, p.ThoughtSignature),
		Type:     openai.ToolTypeFunction,
		Function: openai.FunctionCall{Name: p.FunctionCall.Name, Arguments: args},
	}
	if stream {
		tc.Index = &position
	}
	return tc
}

// checkFinish turns the finish reasons that mean the model failed to make
// a usable function call into an error: an answer that ends there holds
// no call the caller could run, and passing it on as "stop" would hide
// the failure.
func checkFinish(r genai.FinishReason, msg string) error {
	switch r {
	case genai.FinishReasonMalformedFunctionCall, genai.FinishReasonUnexpectedToolCall, genai.FinishReasonTooManyToolCalls:
		text := "the model's answer ended with " + string(r)
		if msg != "" {
			text += ": " + clip(msg, maxMessage)
		}
		return &modelError{code: string(r), msg: text}
	}
	return nil
}

// finishReason maps Gemini's finish reason to OpenAI's:
//
//   - STOP is "stop", or "tool_calls" when the candidate holds function
//     calls (Gemini says STOP either way);
//   - MAX_TOKENS is "length"; so is CONTINUATION (the answer paused for a
//     continuation this package does not request, so it is incomplete);
//   - every refusal (SAFETY, RECITATION, LANGUAGE, BLOCKLIST,
//     PROHIBITED_CONTENT, SPII, the IMAGE_ family, OTHER) is
//     "content_filter";
//   - no reason yet is "" (a stream chunk in the middle of an answer);
//   - an unknown reason is passed on in lower case, not guessed at.
func finishReason(r genai.FinishReason, calls bool) openai.FinishReason {
	switch r {
	case "", genai.FinishReasonUnspecified:
		return ""
	case genai.FinishReasonStop:
		if calls {
			return openai.FinishReasonToolCalls
		}
		return openai.FinishReasonStop
	case genai.FinishReasonMaxTokens, genai.FinishReasonContinuation:
		return openai.FinishReasonLength
	case genai.FinishReasonSafety, genai.FinishReasonRecitation, genai.FinishReasonLanguage,
		genai.FinishReasonBlocklist, genai.FinishReasonProhibitedContent, genai.FinishReasonSPII,
		genai.FinishReasonImageSafety, genai.FinishReasonImageProhibitedContent,
		genai.FinishReasonImageRecitation, genai.FinishReasonImageOther, genai.FinishReasonNoImage,
		genai.FinishReasonOther:
		return openai.FinishReasonContentFilter
	}
	return openai.FinishReason(strings.ToLower(string(r)))
}

// usage translates usage metadata. Prompt tokens include cached tokens
// (Gemini counts them in promptTokenCount) and the tokens of server-side
// tool results; completion tokens include thinking tokens, which Gemini
// counts apart from the candidates and bills as output.
func usage(m *genai.GenerateContentResponseUsageMetadata) openai.Usage {
	if m == nil {
		return openai.Usage{}
	}
	u := openai.Usage{
		PromptTokens:     int(m.PromptTokenCount) + int(m.ToolUsePromptTokenCount),
		CompletionTokens: int(m.CandidatesTokenCount) + int(m.ThoughtsTokenCount),
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if m.CachedContentTokenCount > 0 {
		u.PromptTokensDetails = &openai.PromptTokensDetails{CachedTokens: int(m.CachedContentTokenCount)}
	}
	if m.ThoughtsTokenCount > 0 {
		u.CompletionTokensDetails = &openai.CompletionTokensDetails{ReasoningTokens: int(m.ThoughtsTokenCount)}
	}
	return u
}
