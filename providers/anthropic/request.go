package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// CodeClientValidation is the [providers.Error] Code of a request refused
// before anything was sent, because Anthropic cannot serve it as written
// (n > 1, log probabilities, a json_object response format, invalid tool
// call arguments, ...). Its Status is 400, and it wraps
// [providers.ErrInvalidRequest]: the request, not the provider, is at
// fault, so the routing layer counts nothing against the target and
// moves on to a target that may take the request.
const CodeClientValidation = "client_validation"

// ErrUnknownParameter is matched by the error of a call whose extra body
// fields (a target's override_params the OpenAI request has no field
// for) include a key the Messages API does not take. That error is a
// plain error, not a [*providers.Error]: the configuration is wrong, not
// the provider, and nothing is sent. It also matches
// [providers.ErrInvalidRequest], so the routing layer counts nothing
// against the target and moves on to the next one.
var ErrUnknownParameter = errors.New("anthropic: unknown Messages API parameter")

// invalid is the error of a request refused before sending; field names
// what is wrong in the request's own (OpenAI) terms.
func invalid(field, format string, args ...any) *providers.Error {
	msg := field + ": " + fmt.Sprintf(format, args...)
	return &providers.Error{
		Status:  http.StatusBadRequest,
		Code:    CodeClientValidation,
		Type:    "invalid_request_error",
		Message: msg,
		Err:     fmt.Errorf("%w: anthropic: %s", providers.ErrInvalidRequest, msg),
	}
}

// extraKeys are the body fields a call's extras may set: every field of
// the SDK's MessageNewParams, and the sampling fields the pinned API
// version takes that the SDK has no field for. messages and model are
// the adapter's own.
var extraKeys = func() map[string]bool {
	keys := map[string]bool{"temperature": true, "top_p": true, "top_k": true}
	t := reflect.TypeFor[sdk.MessageNewParams]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		keys[name] = true
	}
	delete(keys, "messages")
	delete(keys, "model")
	return keys
}()

// buildParams translates r into the Messages API's parameters. Sampling
// fields the SDK has no field for, and the call's extra fields, become
// extra body fields.
func buildParams(r *goopenai.ChatCompletionRequest, extra map[string]any) (sdk.MessageNewParams, error) {
	var p sdk.MessageNewParams
	if err := checkExtra(extra); err != nil {
		return p, err
	}
	if err := refuseUnsupported(r); err != nil {
		return p, err
	}
	p.Model = r.Model

	switch {
	case r.MaxCompletionTokens < 0:
		return p, invalid("max_completion_tokens", "%d is negative", r.MaxCompletionTokens)
	case r.MaxTokens < 0:
		return p, invalid("max_tokens", "%d is negative", r.MaxTokens)
	case r.MaxCompletionTokens > 0:
		p.MaxTokens = int64(r.MaxCompletionTokens)
	case r.MaxTokens > 0:
		p.MaxTokens = int64(r.MaxTokens)
	default:
		p.MaxTokens = DefaultMaxTokens
	}

	var fields map[string]any
	if r.Temperature != 0 {
		if r.Temperature < 0 || r.Temperature > 1 {
			return p, invalid("temperature", "%v is outside Anthropic's range 0 to 1", r.Temperature)
		}
		fields = map[string]any{"temperature": shortFloat(r.Temperature)}
	}
	if r.TopP != 0 {
		if r.TopP < 0 || r.TopP > 1 {
			return p, invalid("top_p", "%v is outside the range 0 to 1", r.TopP)
		}
		if fields == nil {
			fields = make(map[string]any, 1+len(extra))
		}
		fields["top_p"] = shortFloat(r.TopP)
	}

	for i, s := range r.Stop {
		if strings.TrimSpace(s) == "" {
			return p, invalid(fmt.Sprintf("stop[%d]", i), "Anthropic refuses a stop sequence that is empty or only whitespace (%q)", s)
		}
	}
	p.StopSequences = r.Stop

	if r.User != "" {
		p.Metadata.UserID = sdk.String(r.User)
	}
	if r.ReasoningEffort != "" {
		effort := sdk.OutputConfigEffort(r.ReasoningEffort)
		switch effort {
		case sdk.OutputConfigEffortLow, sdk.OutputConfigEffortMedium, sdk.OutputConfigEffortHigh,
			sdk.OutputConfigEffortXhigh, sdk.OutputConfigEffortMax:
			p.OutputConfig.Effort = effort
		default:
			return p, invalid("reasoning_effort", "%q is not an effort Anthropic knows (low, medium, high, xhigh, max)", r.ReasoningEffort)
		}
	}
	if err := responseFormat(&p, r.ResponseFormat); err != nil {
		return p, err
	}
	if err := messages(&p, r.Messages); err != nil {
		return p, err
	}
	if err := tools(&p, r); err != nil {
		return p, err
	}

	if len(extra) > 0 {
		if fields == nil {
			fields = make(map[string]any, len(extra))
		}
		// The call's extras come from override_params: they override.
		maps.Copy(fields, extra)
	}
	if len(fields) > 0 {
		p.SetExtraFields(fields)
	}
	return p, nil
}

// checkExtra refuses extra body fields the Messages API does not take,
// and values that cannot be encoded.
func checkExtra(extra map[string]any) error {
	if len(extra) == 0 {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if !extraKeys[k] {
			return fmt.Errorf("%w %q (from the target's override_params): the Messages API takes %s (%w)",
				ErrUnknownParameter, k, strings.Join(slices.Sorted(maps.Keys(extraKeys)), ", "), providers.ErrInvalidRequest)
		}
		if _, err := json.Marshal(extra[k]); err != nil {
			return fmt.Errorf("%w: anthropic: extra body field %q cannot be encoded: %w", providers.ErrInvalidRequest, k, err)
		}
	}
	return nil
}

// refuseUnsupported refuses what Anthropic cannot do at all and what
// would change the shape of the answer if it were dropped.
func refuseUnsupported(r *goopenai.ChatCompletionRequest) error {
	switch {
	case r.Model == "":
		return invalid("model", "is empty")
	case r.N > 1:
		return invalid("n", "Anthropic returns one choice per request; %d cannot be served", r.N)
	case r.LogProbs || r.TopLogProbs > 0:
		return invalid("logprobs", "Anthropic returns no log probabilities")
	case len(r.LogitBias) > 0:
		return invalid("logit_bias", "Anthropic has no logit bias")
	case len(r.Functions) > 0 || r.FunctionCall != nil:
		return invalid("functions", "the deprecated function calling is not translated; use tools")
	case len(r.GuidedChoice) > 0:
		return invalid("guided_choice", "Anthropic has no guided choice")
	}
	return nil
}

// shortFloat widens a float32 to the float64 with the same shortest
// decimal form, so 0.2 goes on the wire as 0.2, not 0.20000000298023224.
func shortFloat(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// responseFormat sets a JSON schema response format as Anthropic's
// structured output. JSON mode without a schema has no equivalent.
func responseFormat(p *sdk.MessageNewParams, rf *goopenai.ChatCompletionResponseFormat) error {
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "", goopenai.ChatCompletionResponseFormatTypeText:
		return nil
	case goopenai.ChatCompletionResponseFormatTypeJSONSchema:
		if rf.JSONSchema == nil || rf.JSONSchema.Schema == nil {
			return invalid("response_format.json_schema.schema", "is missing")
		}
		schema, err := jsonObject(rf.JSONSchema.Schema)
		if err != nil {
			return invalid("response_format.json_schema.schema", "%v", err)
		}
		p.OutputConfig.Format.Schema = schema
		return nil
	case goopenai.ChatCompletionResponseFormatTypeJSONObject:
		return invalid("response_format", "Anthropic has no JSON mode without a schema; use json_schema")
	}
	return invalid("response_format.type", "%q is not a format Anthropic can serve", rf.Type)
}

// jsonObject returns v's JSON encoding decoded as an object.
func jsonObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("is not a JSON object: %s", truncate(string(b), 80))
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// messages translates the conversation: system and developer messages,
// in order, to the top-level system prompt; the others to user and
// assistant turns, consecutive messages of one role merged into one turn
// as the API requires (tool results are user turns).
func messages(p *sdk.MessageNewParams, msgs []goopenai.ChatCompletionMessage) error {
	p.Messages = make([]sdk.MessageParam, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		field := "messages[" + strconv.Itoa(i) + "]"
		var (
			blocks []sdk.ContentBlockParamUnion
			user   bool
			err    error
		)
		switch m.Role {
		case goopenai.ChatMessageRoleSystem, goopenai.ChatMessageRoleDeveloper:
			if err := system(p, m, field); err != nil {
				return err
			}
			continue
		case goopenai.ChatMessageRoleUser:
			user = true
			blocks, err = userBlocks(m, field)
		case goopenai.ChatMessageRoleAssistant:
			blocks, err = assistantBlocks(m, field)
		case goopenai.ChatMessageRoleTool:
			user = true
			blocks, err = toolResult(m, field)
		case goopenai.ChatMessageRoleFunction:
			return invalid(field+".role", "the deprecated function role is not translated; use tool messages")
		default:
			return invalid(field+".role", "%q is not a chat role", m.Role)
		}
		if err != nil {
			return err
		}
		if len(blocks) == 0 {
			continue
		}
		n := len(p.Messages)
		switch {
		case n > 0 && user && p.Messages[n-1].OfUser != nil:
			p.Messages[n-1].OfUser.Content = append(p.Messages[n-1].OfUser.Content, blocks...)
		case n > 0 && !user && p.Messages[n-1].OfAssistant != nil:
			p.Messages[n-1].OfAssistant.Content = append(p.Messages[n-1].OfAssistant.Content, blocks...)
		case user:
			p.Messages = append(p.Messages, sdk.NewUserMessage(blocks...))
		default:
			p.Messages = append(p.Messages, sdk.NewAssistantMessage(blocks...))
		}
	}
	// A request that ends with assistant text asks Claude to continue it
	// (prefill); the API refuses one that ends in whitespace.
	if n := len(p.Messages); n > 0 && p.Messages[n-1].OfAssistant != nil {
		final := p.Messages[n-1].OfAssistant
		if b := final.Content[len(final.Content)-1].OfText; b != nil {
			b.Text = strings.TrimRightFunc(b.Text, unicode.IsSpace)
			if b.Text == "" {
				final.Content = final.Content[:len(final.Content)-1]
				if len(final.Content) == 0 {
					p.Messages = p.Messages[:len(p.Messages)-1]
				}
			}
		}
	}
	if len(p.Messages) == 0 {
		return invalid("messages", "no user or assistant message has content")
	}
	return nil
}

// system appends a system or developer message to the system prompt.
func system(p *sdk.MessageNewParams, m *goopenai.ChatCompletionMessage, field string) error {
	if m.Content != "" {
		p.System = append(p.System, sdk.TextBlockParam{Text: m.Content})
	}
	for j, part := range m.MultiContent {
		switch part.Type {
		case goopenai.ChatMessagePartTypeText:
			if part.Text != "" {
				p.System = append(p.System, sdk.TextBlockParam{Text: part.Text})
			}
		default:
			return invalid(fmt.Sprintf("%s.content[%d].type", field, j), "a system prompt holds text only, not %q", part.Type)
		}
	}
	return nil
}

// userBlocks translates a user message: its text and images. Empty text
// is left out, as the API refuses empty text blocks.
func userBlocks(m *goopenai.ChatCompletionMessage, field string) ([]sdk.ContentBlockParamUnion, error) {
	var blocks []sdk.ContentBlockParamUnion
	if m.Content != "" {
		blocks = append(blocks, sdk.NewTextBlock(m.Content))
	}
	for j, part := range m.MultiContent {
		pf := fmt.Sprintf("%s.content[%d]", field, j)
		switch part.Type {
		case goopenai.ChatMessagePartTypeText:
			if part.Text != "" {
				blocks = append(blocks, sdk.NewTextBlock(part.Text))
			}
		case goopenai.ChatMessagePartTypeImageURL:
			b, err := image(part.ImageURL, pf)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		default:
			return nil, invalid(pf+".type", "%q is not a part Anthropic can take", part.Type)
		}
	}
	return blocks, nil
}

// imageTypes are the media types of base64 images the API takes.
var imageTypes = []sdk.Base64ImageSourceMediaType{
	sdk.Base64ImageSourceMediaTypeImageJPEG,
	sdk.Base64ImageSourceMediaTypeImagePNG,
	sdk.Base64ImageSourceMediaTypeImageGIF,
	sdk.Base64ImageSourceMediaTypeImageWebP,
}

// image translates an image_url part: a data URL becomes a base64 image,
// an http(s) URL a URL image.
func image(img *goopenai.ChatMessageImageURL, field string) (sdk.ContentBlockParamUnion, error) {
	if img == nil || img.URL == "" {
		return sdk.ContentBlockParamUnion{}, invalid(field+".image_url.url", "is missing")
	}
	u := img.URL
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		mediaType, base64, _ := strings.Cut(meta, ";")
		if !ok || base64 != "base64" || data == "" {
			return sdk.ContentBlockParamUnion{}, invalid(field+".image_url.url", "a data URL must be data:<media type>;base64,<data>")
		}
		mediaType = strings.ToLower(mediaType)
		if !slices.Contains(imageTypes, sdk.Base64ImageSourceMediaType(mediaType)) {
			return sdk.ContentBlockParamUnion{}, invalid(field+".image_url.url", "Anthropic takes image/jpeg, image/png, image/gif and image/webp, not %q", mediaType)
		}
		return sdk.NewImageBlockBase64(mediaType, data), nil
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return sdk.ContentBlockParamUnion{}, invalid(field+".image_url.url", "must be an http(s) or data URL")
	}
	return sdk.NewImageBlock(sdk.URLImageSourceParam{URL: u}), nil
}

// assistantBlocks translates an assistant message: its text, then its
// tool calls as tool_use blocks. Reasoning content cannot go back: the
// API needs the signature of a thinking block, which go-openai does not
// carry.
func assistantBlocks(m *goopenai.ChatCompletionMessage, field string) ([]sdk.ContentBlockParamUnion, error) {
	if m.FunctionCall != nil {
		return nil, invalid(field+".function_call", "the deprecated function calling is not translated; use tool_calls")
	}
	var blocks []sdk.ContentBlockParamUnion
	if m.Content != "" {
		blocks = append(blocks, sdk.NewTextBlock(m.Content))
	}
	for j, part := range m.MultiContent {
		if part.Type != goopenai.ChatMessagePartTypeText {
			return nil, invalid(fmt.Sprintf("%s.content[%d].type", field, j), "an assistant message holds text only, not %q", part.Type)
		}
		if part.Text != "" {
			blocks = append(blocks, sdk.NewTextBlock(part.Text))
		}
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		tf := fmt.Sprintf("%s.tool_calls[%d]", field, j)
		if tc.ID == "" {
			return nil, invalid(tf+".id", "is empty")
		}
		if tc.Function.Name == "" {
			return nil, invalid(tf+".function.name", "is empty")
		}
		input, err := toolInput(tc.Function.Arguments)
		if err != nil {
			return nil, invalid(tf+".function.arguments", "%v", err)
		}
		blocks = append(blocks, sdk.NewToolUseBlock(tc.ID, input, tc.Function.Name))
	}
	return blocks, nil
}

// toolInput checks a tool call's arguments: a JSON object, or nothing
// (which is the empty object).
func toolInput(args string) (json.RawMessage, error) {
	if strings.TrimSpace(args) == "" {
		return json.RawMessage("{}"), nil
	}
	raw := json.RawMessage(args)
	if !json.Valid(raw) {
		return nil, fmt.Errorf("is not valid JSON: %s", truncate(args, 80))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("is not a JSON object: %s", truncate(args, 80))
	}
	return raw, nil
}

// toolResult translates a tool message to a tool_result block.
func toolResult(m *goopenai.ChatCompletionMessage, field string) ([]sdk.ContentBlockParamUnion, error) {
	if m.ToolCallID == "" {
		return nil, invalid(field+".tool_call_id", "is empty")
	}
	res := sdk.ToolResultBlockParam{ToolUseID: m.ToolCallID}
	if m.Content != "" {
		res.Content = append(res.Content, sdk.ToolResultBlockParamContentUnion{OfText: &sdk.TextBlockParam{Text: m.Content}})
	}
	for j, part := range m.MultiContent {
		pf := fmt.Sprintf("%s.content[%d]", field, j)
		switch part.Type {
		case goopenai.ChatMessagePartTypeText:
			if part.Text != "" {
				res.Content = append(res.Content, sdk.ToolResultBlockParamContentUnion{OfText: &sdk.TextBlockParam{Text: part.Text}})
			}
		case goopenai.ChatMessagePartTypeImageURL:
			b, err := image(part.ImageURL, pf)
			if err != nil {
				return nil, err
			}
			res.Content = append(res.Content, sdk.ToolResultBlockParamContentUnion{OfImage: b.OfImage})
		default:
			return nil, invalid(pf+".type", "%q is not a part Anthropic can take", part.Type)
		}
	}
	return []sdk.ContentBlockParamUnion{{OfToolResult: &res}}, nil
}

// tools translates the function tools, tool_choice and
// parallel_tool_calls.
func tools(p *sdk.MessageNewParams, r *goopenai.ChatCompletionRequest) error {
	if len(r.Tools) > 0 {
		p.Tools = make([]sdk.ToolUnionParam, 0, len(r.Tools))
	}
	for i := range r.Tools {
		t := &r.Tools[i]
		field := "tools[" + strconv.Itoa(i) + "]"
		if t.Type != goopenai.ToolTypeFunction {
			return invalid(field+".type", "%q is not a tool Anthropic can take; only function tools are translated", t.Type)
		}
		if t.Function == nil || t.Function.Name == "" {
			return invalid(field+".function.name", "is missing")
		}
		schema, err := inputSchema(t.Function.Parameters)
		if err != nil {
			return invalid(field+".function.parameters", "%v", err)
		}
		tool := &sdk.ToolParam{Name: t.Function.Name, InputSchema: schema}
		if t.Function.Description != "" {
			tool.Description = sdk.String(t.Function.Description)
		}
		if t.Function.Strict {
			tool.Strict = sdk.Bool(true)
		}
		p.Tools = append(p.Tools, sdk.ToolUnionParam{OfTool: tool})
	}

	var disableParallel bool
	switch v := r.ParallelToolCalls.(type) {
	case nil:
	case bool:
		disableParallel = !v
	case *bool:
		disableParallel = v != nil && !*v
	default:
		return invalid("parallel_tool_calls", "want a boolean, got %T", r.ParallelToolCalls)
	}

	choice, name, err := toolChoice(r.ToolChoice)
	if err != nil {
		return err
	}
	if len(r.Tools) == 0 {
		if name != "" {
			return invalid("tool_choice", "names tool %q, but the request has no tools", name)
		}
		if choice == "required" {
			return invalid("tool_choice", "is required, but the request has no tools")
		}
		// "auto" or "none" with no tools asks for nothing.
		return nil
	}
	off := sdk.Bool(true)
	switch choice {
	case "", "auto":
		if choice == "" && !disableParallel {
			return nil // the API's default
		}
		c := &sdk.ToolChoiceAutoParam{}
		if disableParallel {
			c.DisableParallelToolUse = off
		}
		p.ToolChoice.OfAuto = c
	case "required":
		c := &sdk.ToolChoiceAnyParam{}
		if disableParallel {
			c.DisableParallelToolUse = off
		}
		p.ToolChoice.OfAny = c
	case "none":
		p.ToolChoice.OfNone = &sdk.ToolChoiceNoneParam{}
	case "function":
		c := &sdk.ToolChoiceToolParam{Name: name}
		if disableParallel {
			c.DisableParallelToolUse = off
		}
		p.ToolChoice.OfTool = c
	}
	return nil
}

// toolChoice reads tool_choice, a string or an object naming a function,
// as go-openai lets it be set: "auto", "required" or "none", or
// ("function", name).
func toolChoice(v any) (choice, name string, err error) {
	switch c := v.(type) {
	case nil:
		return "", "", nil
	case string:
		switch c {
		case "auto", "required", "none":
			return c, "", nil
		case "any": // Anthropic's word for required
			return "required", "", nil
		}
		return "", "", invalid("tool_choice", "%q is not auto, required, none or a function", c)
	case goopenai.ToolChoice:
		return namedChoice(string(c.Type), c.Function.Name)
	case *goopenai.ToolChoice:
		if c == nil {
			return "", "", nil
		}
		return namedChoice(string(c.Type), c.Function.Name)
	case map[string]any:
		typ, _ := c["type"].(string)
		var fn string
		if f, ok := c["function"].(map[string]any); ok {
			fn, _ = f["name"].(string)
		}
		return namedChoice(typ, fn)
	}
	return "", "", invalid("tool_choice", "want a string or a function choice, got %T", v)
}

func namedChoice(typ, name string) (string, string, error) {
	if typ != string(goopenai.ToolTypeFunction) {
		return "", "", invalid("tool_choice.type", "%q is not function", typ)
	}
	if name == "" {
		return "", "", invalid("tool_choice.function.name", "is empty")
	}
	return "function", name, nil
}

// inputSchema translates a function's parameters (any value that encodes
// as a JSON schema object) to a tool's input schema. No parameters is a
// tool that takes none.
func inputSchema(params any) (sdk.ToolInputSchemaParam, error) {
	var s sdk.ToolInputSchemaParam
	if params == nil {
		s.Properties = map[string]any{}
		return s, nil
	}
	if raw, ok := params.(json.RawMessage); ok && len(raw) == 0 {
		s.Properties = map[string]any{}
		return s, nil
	}
	m, err := jsonObject(params)
	if err != nil {
		if b, merr := json.Marshal(params); merr == nil && string(b) == "null" {
			s.Properties = map[string]any{}
			return s, nil
		}
		return s, err
	}
	if t, ok := m["type"]; ok && t != "object" {
		return s, fmt.Errorf("type is %v; Anthropic takes object schemas only", t)
	}
	s.Properties = m["properties"]
	if s.Properties == nil {
		s.Properties = map[string]any{}
	}
	if req, ok := m["required"]; ok {
		list, ok := req.([]any)
		if !ok {
			return s, fmt.Errorf("required is %T, want a list of names", req)
		}
		for _, v := range list {
			name, ok := v.(string)
			if !ok {
				return s, fmt.Errorf("required holds %T, want names", v)
			}
			s.Required = append(s.Required, name)
		}
	}
	delete(m, "type")
	delete(m, "properties")
	delete(m, "required")
	if len(m) > 0 {
		s.ExtraFields = m
	}
	return s, nil
}
