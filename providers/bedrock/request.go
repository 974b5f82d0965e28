package bedrock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// params is one Converse request, shared by Converse and ConverseStream
// (whose input types differ only in name).
type params struct {
	modelID    string
	system     []types.SystemContentBlock
	messages   []types.Message
	inference  *types.InferenceConfiguration
	tools      *types.ToolConfiguration
	output     *types.OutputConfig
	additional document.Interface
	metadata   map[string]string
}

func (p *params) converse() *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{
		ModelId:                      &p.modelID,
		System:                       p.system,
		Messages:                     p.messages,
		InferenceConfig:              p.inference,
		ToolConfig:                   p.tools,
		OutputConfig:                 p.output,
		AdditionalModelRequestFields: p.additional,
		RequestMetadata:              p.metadata,
	}
}

func (p *params) converseStream() *bedrockruntime.ConverseStreamInput {
	return &bedrockruntime.ConverseStreamInput{
		ModelId:                      &p.modelID,
		System:                       p.system,
		Messages:                     p.messages,
		InferenceConfig:              p.inference,
		ToolConfig:                   p.tools,
		OutputConfig:                 p.output,
		AdditionalModelRequestFields: p.additional,
		RequestMetadata:              p.metadata,
	}
}

// invalid is the error for a request this package refuses to send. field
// is the request field at fault, in the OpenAI request's JSON terms. It
// wraps providers.ErrInvalidRequest: the caller wrote something Converse
// cannot take, so the routing layer refuses the call without blaming the
// target or trying another.
func invalid(field, format string, args ...any) *providers.Error {
	msg := "bedrock: " + field + ": " + fmt.Sprintf(format, args...)
	return &providers.Error{
		Status:  http.StatusBadRequest,
		Code:    CodeClientValidation,
		Type:    "invalid_request_error",
		Message: msg,
		Err:     fmt.Errorf("%w: %s", providers.ErrInvalidRequest, msg),
	}
}

// buildParams translates an OpenAI chat request, and the attempt's extra
// body fields, into a Converse request. Anything Converse cannot express
// faithfully is an error naming the field; nothing is sent then.
func buildParams(r *openai.ChatCompletionRequest, extra map[string]any) (params, error) {
	p := params{modelID: r.Model}
	if r.Model == "" {
		return p, invalid("model", "required")
	}
	if err := refuseUnsupported(r); err != nil {
		return p, err
	}
	inf, err := inference(r)
	if err != nil {
		return p, err
	}
	p.inference = inf
	if err := p.addMessages(r.Messages); err != nil {
		return p, err
	}
	if p.tools, err = toolConfig(r); err != nil {
		return p, err
	}
	if p.output, err = outputConfig(r); err != nil {
		return p, err
	}
	if len(extra) > 0 {
		raw, err := json.Marshal(extra)
		if err != nil {
			return p, invalid("override_params", "cannot be encoded as JSON: %v", err)
		}
		if p.additional, err = jsonDocument(raw); err != nil {
			return p, invalid("override_params", "%v", err)
		}
	}
	if len(r.Metadata) > 0 {
		p.metadata = r.Metadata
	}
	return p, nil
}

// refuseUnsupported refuses request fields that ask for something in the
// answer Bedrock cannot give. Sampling hints with no Converse field are
// not refused; the package documentation lists them.
func refuseUnsupported(r *openai.ChatCompletionRequest) error {
	switch {
	case r.N > 1:
		return invalid("n", "Bedrock returns one choice per call; n must be 1, not %d", r.N)
	case r.LogProbs || r.TopLogProbs > 0:
		return invalid("logprobs", "Bedrock does not return log probabilities")
	case len(r.LogitBias) > 0:
		return invalid("logit_bias", "Bedrock has no logit bias")
	case len(r.Functions) > 0:
		return invalid("functions", "legacy function calling is not supported; use tools")
	case r.FunctionCall != nil:
		return invalid("function_call", "legacy function calling is not supported; use tool_choice")
	case r.Prediction != nil:
		return invalid("prediction", "Bedrock has no predicted outputs")
	case len(r.GuidedChoice) > 0:
		return invalid("guided_choice", "Bedrock has no guided choice")
	case len(r.Messages) == 0:
		return invalid("messages", "required")
	}
	return nil
}

// inference builds the inference configuration, or nil when the request
// sets none of its fields. go-openai omits a zero temperature and top_p
// from its own requests too, so 0 means "not set" here as well.
func inference(r *openai.ChatCompletionRequest) (*types.InferenceConfiguration, error) {
	var cfg types.InferenceConfiguration
	set := false
	maxTokens, field := r.MaxCompletionTokens, "max_completion_tokens"
	if maxTokens == 0 {
		maxTokens, field = r.MaxTokens, "max_tokens"
	}
	switch {
	case maxTokens < 0 || maxTokens > math.MaxInt32:
		return nil, invalid(field, "%d is out of range", maxTokens)
	case maxTokens > 0:
		cfg.MaxTokens, set = aws.Int32(int32(maxTokens)), true
	}
	if t := r.Temperature; t != 0 {
		if math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) {
			return nil, invalid("temperature", "not a number")
		}
		cfg.Temperature, set = aws.Float32(t), true
	}
	if t := r.TopP; t != 0 {
		if math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) {
			return nil, invalid("top_p", "not a number")
		}
		cfg.TopP, set = aws.Float32(t), true
	}
	for i, s := range r.Stop {
		if s == "" {
			return nil, invalid(fmt.Sprintf("stop[%d]", i), "empty stop sequence")
		}
	}
	if len(r.Stop) > 0 {
		cfg.StopSequences, set = r.Stop, true
	}
	if !set {
		return nil, nil
	}
	return &cfg, nil
}

// addMessages translates the conversation. System and developer messages
// become system blocks, in order, wherever they stand; the other turns
// become Converse messages, with consecutive turns of the same role (a
// tool message is a user turn) merged into one, as Converse requires
// alternating roles. A message with no content (blank text and nothing
// else) adds nothing, as Bedrock refuses blank text.
func (p *params) addMessages(msgs []openai.ChatCompletionMessage) error {
	for i := range msgs {
		m := &msgs[i]
		if m.Content != "" && len(m.MultiContent) > 0 {
			return invalid(msgField(i, ""), "content and multi-part content are both set")
		}
		if m.FunctionCall != nil {
			return invalid(msgField(i, ".function_call"), "legacy function calls are not supported; use tool_calls")
		}
		switch m.Role {
		case openai.ChatMessageRoleSystem, openai.ChatMessageRoleDeveloper:
			if err := p.addSystem(m, i); err != nil {
				return err
			}
		case openai.ChatMessageRoleUser:
			blocks, err := userBlocks(m, i)
			if err != nil {
				return err
			}
			p.add(types.ConversationRoleUser, blocks)
		case openai.ChatMessageRoleAssistant:
			blocks, err := assistantBlocks(m, i)
			if err != nil {
				return err
			}
			p.add(types.ConversationRoleAssistant, blocks)
		case openai.ChatMessageRoleTool:
			block, err := toolResult(m, i)
			if err != nil {
				return err
			}
			p.add(types.ConversationRoleUser, []types.ContentBlock{block})
		case openai.ChatMessageRoleFunction:
			return invalid(msgField(i, ".role"), "legacy function messages are not supported; use tool messages")
		default:
			return invalid(msgField(i, ".role"), "unknown role %q", m.Role)
		}
	}
	if len(p.messages) == 0 {
		return invalid("messages", "no user or assistant message has content")
	}
	return nil
}

// add appends blocks as a turn of role, merged into the last turn when
// that has the same role.
func (p *params) add(role types.ConversationRole, blocks []types.ContentBlock) {
	if len(blocks) == 0 {
		return
	}
	if n := len(p.messages); n > 0 && p.messages[n-1].Role == role {
		p.messages[n-1].Content = append(p.messages[n-1].Content, blocks...)
		return
	}
	p.messages = append(p.messages, types.Message{Role: role, Content: blocks})
}

// parts returns a message's content as parts: its multi-part content, or
// its text as one part.
func parts(m *openai.ChatCompletionMessage) []openai.ChatMessagePart {
	if len(m.MultiContent) > 0 {
		return m.MultiContent
	}
	if m.Content == "" {
		return nil
	}
	return []openai.ChatMessagePart{{Type: openai.ChatMessagePartTypeText, Text: m.Content}}
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// msgField names a field of message i; field names are built only for
// an error, never on the way of a good request.
func msgField(i int, rest string) string {
	return "messages[" + strconv.Itoa(i) + "]" + rest
}

// partField names a field of part j of message i.
func partField(i, j int, rest string) string {
	return msgField(i, ".content["+strconv.Itoa(j)+"]"+rest)
}

func (p *params) addSystem(m *openai.ChatCompletionMessage, i int) error {
	for j, part := range parts(m) {
		switch part.Type {
		case openai.ChatMessagePartTypeText:
			if !blank(part.Text) {
				p.system = append(p.system, &types.SystemContentBlockMemberText{Value: part.Text})
			}
		default:
			return invalid(partField(i, j, ""), "a %s message takes only text, not %q", m.Role, part.Type)
		}
	}
	return nil
}

func userBlocks(m *openai.ChatCompletionMessage, i int) ([]types.ContentBlock, error) {
	ps := parts(m)
	blocks := make([]types.ContentBlock, 0, len(ps))
	for j, part := range ps {
		switch part.Type {
		case openai.ChatMessagePartTypeText:
			if !blank(part.Text) {
				blocks = append(blocks, &types.ContentBlockMemberText{Value: part.Text})
			}
		case openai.ChatMessagePartTypeImageURL:
			img, err := imageBlock(part.ImageURL, i, j)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, &types.ContentBlockMemberImage{Value: img})
		default:
			return nil, invalid(partField(i, j, ".type"), "unknown part type %q", part.Type)
		}
	}
	return blocks, nil
}

func assistantBlocks(m *openai.ChatCompletionMessage, i int) ([]types.ContentBlock, error) {
	ps := parts(m)
	blocks := make([]types.ContentBlock, 0, len(ps)+len(m.ToolCalls))
	for j, part := range ps {
		if part.Type != openai.ChatMessagePartTypeText {
			return nil, invalid(partField(i, j, ""), "an assistant message takes only text, not %q", part.Type)
		}
		if !blank(part.Text) {
			blocks = append(blocks, &types.ContentBlockMemberText{Value: part.Text})
		}
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		f := func(rest string) string { return msgField(i, ".tool_calls["+strconv.Itoa(j)+"]"+rest) }
		switch {
		case tc.Type != "" && tc.Type != openai.ToolTypeFunction:
			return nil, invalid(f(".type"), "only function tool calls are supported, not %q", tc.Type)
		case tc.ID == "":
			return nil, invalid(f(".id"), "required")
		case tc.Function.Name == "":
			return nil, invalid(f(".function.name"), "required")
		}
		args := tc.Function.Arguments
		if blank(args) {
			args = "{}" // a call with no arguments
		}
		input, err := jsonDocument([]byte(args))
		if err != nil {
			return nil, invalid(f(".function.arguments"), "%v", err)
		}
		blocks = append(blocks, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
			ToolUseId: aws.String(tc.ID),
			Name:      aws.String(tc.Function.Name),
			Input:     input,
		}})
	}
	return blocks, nil
}

func toolResult(m *openai.ChatCompletionMessage, i int) (types.ContentBlock, error) {
	if m.ToolCallID == "" {
		return nil, invalid(msgField(i, ".tool_call_id"), "required")
	}
	ps := parts(m)
	content := make([]types.ToolResultContentBlock, 0, len(ps))
	for j, part := range ps {
		switch part.Type {
		case openai.ChatMessagePartTypeText:
			if !blank(part.Text) {
				content = append(content, &types.ToolResultContentBlockMemberText{Value: part.Text})
			}
		case openai.ChatMessagePartTypeImageURL:
			img, err := imageBlock(part.ImageURL, i, j)
			if err != nil {
				return nil, err
			}
			content = append(content, &types.ToolResultContentBlockMemberImage{Value: img})
		default:
			return nil, invalid(partField(i, j, ".type"), "unknown part type %q", part.Type)
		}
	}
	return &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
		ToolUseId: aws.String(m.ToolCallID),
		Content:   content,
	}}, nil
}

// imageFormats maps image media types and file extensions to Bedrock's
// image formats.
var imageFormats = map[string]types.ImageFormat{
	"image/png": types.ImageFormatPng, "image/jpeg": types.ImageFormatJpeg, "image/jpg": types.ImageFormatJpeg,
	"image/gif": types.ImageFormatGif, "image/webp": types.ImageFormatWebp,
	".png": types.ImageFormatPng, ".jpeg": types.ImageFormatJpeg, ".jpg": types.ImageFormatJpeg,
	".gif": types.ImageFormatGif, ".webp": types.ImageFormatWebp,
}

// imageBlock translates an image part. Converse takes image bytes or an
// S3 location, never a URL to fetch: a base64 data URL is sent as bytes,
// an s3:// URL as an S3 location (its format from the file extension),
// and an http(s) URL is refused.
func imageBlock(u *openai.ChatMessageImageURL, i, j int) (types.ImageBlock, error) {
	var img types.ImageBlock
	invalid := func(format string, args ...any) *providers.Error {
		return invalid(partField(i, j, ".image_url"), format, args...)
	}
	if u == nil || u.URL == "" {
		return img, invalid("required")
	}
	url := u.URL
	switch {
	case strings.HasPrefix(url, "data:"):
		meta, data, ok := strings.Cut(url[len("data:"):], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return img, invalid("a data URL must be base64 (data:image/png;base64,...)")
		}
		mediaType, _, _ := strings.Cut(meta, ";")
		format, ok := imageFormats[strings.ToLower(mediaType)]
		if !ok {
			return img, invalid("media type %q is not one Bedrock takes (png, jpeg, gif, webp)", mediaType)
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(data); err != nil {
				return img, invalid("not valid base64")
			}
		}
		img.Format, img.Source = format, &types.ImageSourceMemberBytes{Value: raw}
	case strings.HasPrefix(url, "s3://"):
		format, ok := imageFormats[strings.ToLower(path.Ext(url))]
		if !ok {
			return img, invalid("cannot tell the image format of %q from its extension (.png, .jpg, .jpeg, .gif, .webp)", path.Base(url))
		}
		img.Format, img.Source = format, &types.ImageSourceMemberS3Location{Value: types.S3Location{Uri: aws.String(url)}}
	case strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://"):
		return img, invalid("Bedrock takes image bytes or an s3:// location, not a URL to fetch; send the image as a data: URL")
	default:
		return img, invalid("not a data: or s3:// URL")
	}
	return img, nil
}

// choice is a request's tool_choice.
type choice struct {
	kind string // "", "auto", "none", "required", "tool"
	name string // for "tool"
}

func toolChoice(v any) (choice, error) {
	switch tc := v.(type) {
	case nil:
		return choice{}, nil
	case string:
		switch tc {
		case "auto", "none", "required":
			return choice{kind: tc}, nil
		}
		return choice{}, invalid("tool_choice", "unknown value %q", tc)
	case openai.ToolChoice:
		return namedChoice(string(tc.Type), tc.Function.Name)
	case *openai.ToolChoice:
		if tc == nil {
			return choice{}, nil
		}
		return namedChoice(string(tc.Type), tc.Function.Name)
	case map[string]any:
		typ, _ := tc["type"].(string)
		fn, _ := tc["function"].(map[string]any)
		name, _ := fn["name"].(string)
		return namedChoice(typ, name)
	}
	return choice{}, invalid("tool_choice", "unsupported value of type %T", v)
}

func namedChoice(typ, name string) (choice, error) {
	if typ != "" && typ != string(openai.ToolTypeFunction) {
		return choice{}, invalid("tool_choice.type", "only function tools are supported, not %q", typ)
	}
	if name == "" {
		return choice{}, invalid("tool_choice.function.name", "required")
	}
	return choice{kind: "tool", name: name}, nil
}

// toolConfig translates tools and tool_choice. Converse has no "none": with
// tool_choice "none" no tools are sent, unless the conversation already
// holds tool calls or results, which Bedrock accepts only alongside the
// tools; then the tools are sent with no choice, and the model may still
// call one (its call is returned, never hidden).
func toolConfig(r *openai.ChatCompletionRequest) (*types.ToolConfiguration, error) {
	ch, err := toolChoice(r.ToolChoice)
	if err != nil {
		return nil, err
	}
	history := toolHistory(r.Messages)
	if len(r.Tools) == 0 {
		switch {
		case ch.kind == "required" || ch.kind == "tool":
			return nil, invalid("tool_choice", "%q needs tools, and the request has none", ch.kind)
		case history >= 0:
			return nil, invalid("tools", "messages[%d] holds tool calls or results, which Bedrock accepts only with the tools that made them", history)
		}
		return nil, nil
	}
	if ch.kind == "none" && history < 0 {
		return nil, nil
	}
	cfg := &types.ToolConfiguration{Tools: make([]types.Tool, 0, len(r.Tools))}
	found := false
	for i := range r.Tools {
		spec, err := toolSpec(&r.Tools[i], i)
		if err != nil {
			return nil, err
		}
		if *spec.Name == ch.name {
			found = true
		}
		cfg.Tools = append(cfg.Tools, &types.ToolMemberToolSpec{Value: spec})
	}
	switch ch.kind {
	case "required":
		cfg.ToolChoice = &types.ToolChoiceMemberAny{}
	case "tool":
		if !found {
			return nil, invalid("tool_choice.function.name", "no tool is named %q", ch.name)
		}
		cfg.ToolChoice = &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String(ch.name)}}
	}
	// "auto" (Converse's default) is left unset: some models refuse any
	// toolChoice at all.
	return cfg, nil
}

// toolHistory returns the index of the first message holding a tool call
// or result, or -1.
func toolHistory(msgs []openai.ChatCompletionMessage) int {
	for i := range msgs {
		if len(msgs[i].ToolCalls) > 0 || msgs[i].Role == openai.ChatMessageRoleTool {
			return i
		}
	}
	return -1
}

// emptySchema is the input schema of a tool that takes no parameters.
var emptySchema = []byte(`{"type":"object","properties":{}}`)

func toolSpec(t *openai.Tool, i int) (types.ToolSpecification, error) {
	var spec types.ToolSpecification
	field := func(rest string) string { return "tools[" + strconv.Itoa(i) + "]" + rest }
	if t.Type != openai.ToolTypeFunction {
		return spec, invalid(field(".type"), "only function tools are supported, not %q", t.Type)
	}
	f := t.Function
	if f == nil {
		return spec, invalid(field(".function"), "required")
	}
	if f.Name == "" {
		return spec, invalid(field(".function.name"), "required")
	}
	raw := emptySchema
	if f.Parameters != nil {
		b, err := json.Marshal(f.Parameters)
		if err != nil {
			return spec, invalid(field(".function.parameters"), "cannot be encoded as JSON: %v", err)
		}
		if string(b) != "null" {
			raw = b
		}
	}
	schema, err := jsonDocument(raw)
	if err != nil {
		return spec, invalid(field(".function.parameters"), "%v", err)
	}
	spec.Name = aws.String(f.Name)
	spec.InputSchema = &types.ToolInputSchemaMemberJson{Value: schema}
	if f.Description != "" {
		spec.Description = aws.String(f.Description)
	}
	if f.Strict {
		spec.Strict = aws.Bool(true)
	}
	return spec, nil
}

// outputConfig translates response_format (json_schema becomes Bedrock's
// structured output; json_object has no equivalent and is refused) and
// reasoning_effort (Bedrock's effort, passed as given).
func outputConfig(r *openai.ChatCompletionRequest) (*types.OutputConfig, error) {
	var out types.OutputConfig
	set := false
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", openai.ChatCompletionResponseFormatTypeText:
		case openai.ChatCompletionResponseFormatTypeJSONObject:
			return nil, invalid("response_format", "json_object has no Bedrock equivalent; use json_schema")
		case openai.ChatCompletionResponseFormatTypeJSONSchema:
			js := rf.JSONSchema
			if js == nil || js.Schema == nil {
				return nil, invalid("response_format.json_schema.schema", "required")
			}
			raw, err := json.Marshal(js.Schema)
			if err == nil {
				_, err = decodeObject(raw)
			}
			if err != nil {
				return nil, invalid("response_format.json_schema.schema", "%v", err)
			}
			def := types.JsonSchemaDefinition{Schema: aws.String(string(raw))}
			if js.Name != "" {
				def.Name = aws.String(js.Name)
			}
			if js.Description != "" {
				def.Description = aws.String(js.Description)
			}
			out.TextFormat = &types.OutputFormat{
				Type:      types.OutputFormatTypeJsonSchema,
				Structure: &types.OutputFormatStructureMemberJsonSchema{Value: def},
			}
			set = true
		default:
			return nil, invalid("response_format.type", "unknown type %q", rf.Type)
		}
	}
	if r.ReasoningEffort != "" {
		out.Effort, set = aws.String(r.ReasoningEffort), true
	}
	if !set {
		return nil, nil
	}
	return &out, nil
}
