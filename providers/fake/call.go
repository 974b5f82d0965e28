package fake

import (
	"maps"
	"slices"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Call is one recorded call to a [Provider]: what reached the provider,
// so a test can check the model, the request after overrides, and the
// headers and extra body fields of the attempt.
//
// Calls are copies: the recorded request's top-level slices and maps
// (Messages, Stop, Header, RemoveHeader, Extra, ...) are cloned when the
// call is made and again by [Provider.Calls], so neither the caller nor
// the test can change a record; values nested deeper are shared. A Call is
// plain data; its zero value records nothing.
type Call struct {
	// Op is the operation: providers.OpChat for Chat and ChatStream.
	Op providers.Operation
	// Stream reports whether the call was ChatStream.
	Stream bool
	// Model is the request's Model: the script that answered it.
	Model string
	// Chat is the request of a Chat or ChatStream call.
	Chat openai.ChatCompletionRequest
	// Completion is the request of a Completion call.
	Completion openai.CompletionRequest
	// Embedding is the request of an Embed call.
	Embedding openai.EmbeddingRequest
	// Call holds the attempt's Header, RemoveHeader and Extra.
	providers.Call
	// Time is when the call was made, before any scripted wait.
	Time time.Time
}

func (c Call) clone() Call {
	c.Header = c.Header.Clone()
	c.RemoveHeader = slices.Clone(c.RemoveHeader)
	c.Extra = maps.Clone(c.Extra)

	c.Chat.Messages = slices.Clone(c.Chat.Messages)
	c.Chat.Stop = slices.Clone(c.Chat.Stop)
	c.Chat.Tools = slices.Clone(c.Chat.Tools)
	c.Chat.LogitBias = maps.Clone(c.Chat.LogitBias)
	c.Chat.Metadata = maps.Clone(c.Chat.Metadata)
	c.Chat.ChatTemplateKwargs = maps.Clone(c.Chat.ChatTemplateKwargs)
	c.Chat.GuidedChoice = slices.Clone(c.Chat.GuidedChoice)
	if c.Chat.StreamOptions != nil {
		so := *c.Chat.StreamOptions
		c.Chat.StreamOptions = &so
	}

	c.Completion.Stop = slices.Clone(c.Completion.Stop)
	c.Completion.LogitBias = maps.Clone(c.Completion.LogitBias)
	c.Completion.Metadata = maps.Clone(c.Completion.Metadata)
	c.Completion.Prompt = cloneInput(c.Completion.Prompt)

	c.Embedding.Input = cloneInput(c.Embedding.Input)
	c.Embedding.ExtraBody = maps.Clone(c.Embedding.ExtraBody)
	return c
}

func cloneInput(in any) any {
	switch v := in.(type) {
	case []string:
		return slices.Clone(v)
	case []any:
		return slices.Clone(v)
	case []int:
		return slices.Clone(v)
	case [][]int:
		return slices.Clone(v)
	}
	return in
}
