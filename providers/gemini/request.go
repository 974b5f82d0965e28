package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"path"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"
)

// chatBuild is one chat request in genai's terms.
type chatBuild struct {
	model    string
	contents []*genai.Content
	config   *genai.GenerateContentConfig
}

// buildChat translates an OpenAI chat request (and the attempt's extra
// fields) into genai's. Every refusal is an *InputError naming the field.
//
// genai encodes the request by marshalling it to JSON and ignores a
// marshalling error, which would send a request with fields missing; so
// every value that could fail to marshal (a NaN, a caller's schema) is
// checked or marshalled here first.
func buildChat(r *openai.ChatCompletionRequest, extra map[string]any) (chatBuild, error) {
	if err := checkModel(r.Model); err != nil {
		return chatBuild{}, err
	}
	if err := refuseUnsupported(r); err != nil {
		return chatBuild{}, err
	}
	sys, contents, err := buildContents(r.Messages)
	if err != nil {
		return chatBuild{}, err
	}
	cfg := &genai.GenerateContentConfig{
		SystemInstruction: sys,
		// Continuing a paused answer re-sends the request inside one
		// attempt, unseen by the router, and is billed again.
		AutomaticContinuation: genai.Ptr(false),
	}
	if err := setSampling(cfg, r); err != nil {
		return chatBuild{}, err
	}
	if err := setTools(cfg, r); err != nil {
		return chatBuild{}, err
	}
	if err := setResponseFormat(cfg, r.ResponseFormat); err != nil {
		return chatBuild{}, err
	}
	if err := applyChatExtra(cfg, extra); err != nil {
		return chatBuild{}, err
	}
	return chatBuild{model: r.Model, contents: contents, config: cfg}, nil
}

// checkModel refuses a model name that genai would refuse or that would
// change the request's URL.
func checkModel(model string) error {
	if model == "" {
		return inputError("model", "is empty")
	}
	if strings.Contains(model, "..") || strings.ContainsAny(model, "?&#%\\") {
		return inputError("model", "%q is not a model name", model)
	}
	for _, c := range model {
		if c <= ' ' || c == 0x7f {
			return inputError("model", "%q is not a model name", model)
		}
	}
	return nil
}

// refuseUnsupported refuses request fields that change what the answer
// is or holds and that Gemini has no way to honour. Fields that are only
// hints to OpenAI (user, metadata, store, service_tier, parallel_tool_calls,
// prediction, verbosity, safety_identifier, chat_template_kwargs) are
// ignored.
func refuseUnsupported(r *openai.ChatCompletionRequest) error {
	switch {
	case len(r.Functions) > 0:
		return inputError("functions", "legacy functions are not supported; use tools")
	case r.FunctionCall != nil:
		return inputError("function_call", "legacy function_call is not supported; use tool_choice")
	case len(r.LogitBias) > 0:
		return inputError("logit_bias", "Gemini has no logit bias")
	case r.LogProbs || r.TopLogProbs != 0:
		return inputError("logprobs", "log probabilities are not supported by this adapter")
	case len(r.GuidedChoice) > 0:
		return inputError("guided_choice", "Gemini has no guided choice; use response_format json_schema with an enum")
	}
	return nil
}

// field names message i's field.
func field(i int, name string) string {
	f := "messages[" + strconv.Itoa(i) + "]"
	if name != "" {
		f += "." + name
	}
	return f
}

// buildContents translates the messages: system and developer messages
// into the system instruction, the rest into user and model turns.
func buildContents(msgs []openai.ChatCompletionMessage) (*genai.Content, []*genai.Content, error) {
	if len(msgs) == 0 {
		return nil, nil, inputError("messages", "is empty")
	}
	var (
		sys      *genai.Content
		contents = make([]*genai.Content, 0, len(msgs))
		// names maps the id of every tool call seen so far to its
		// function's name: a function response must name its function.
		names map[string]string
		// toolTurn collects a run of tool messages: Gemini takes every
		// response to one model turn in one content.
		toolTurn *genai.Content
	)
	for i := range msgs {
		m := &msgs[i]
		if m.Content != "" && len(m.MultiContent) > 0 {
			return nil, nil, inputError(field(i, "content"), "both content and multi-part content are set")
		}
		if m.Role != openai.ChatMessageRoleTool {
			toolTurn = nil
		}
		switch m.Role {
		case openai.ChatMessageRoleSystem, openai.ChatMessageRoleDeveloper:
			text, err := messageText(m, i)
			if err != nil {
				return nil, nil, err
			}
			if text == "" {
				continue
			}
			if sys == nil {
				sys = &genai.Content{Role: genai.RoleUser}
			}
			sys.Parts = append(sys.Parts, &genai.Part{Text: text})
		case openai.ChatMessageRoleUser:
			parts, err := userParts(m, i)
			if err != nil {
				return nil, nil, err
			}
			contents = append(contents, &genai.Content{Role: genai.RoleUser, Parts: parts})
		case openai.ChatMessageRoleAssistant:
			c, err := modelTurn(m, i, &names)
			if err != nil {
				return nil, nil, err
			}
			if c != nil {
				contents = append(contents, c)
			}
		case openai.ChatMessageRoleTool:
			part, err := functionResponse(m, i, names)
			if err != nil {
				return nil, nil, err
			}
			if toolTurn == nil {
				toolTurn = &genai.Content{Role: genai.RoleUser}
				contents = append(contents, toolTurn)
			}
			toolTurn.Parts = append(toolTurn.Parts, part)
		case openai.ChatMessageRoleFunction:
			return nil, nil, inputError(field(i, "role"), "legacy function messages are not supported; use tool messages")
		default:
			return nil, nil, inputError(field(i, "role"), "unknown role %q", m.Role)
		}
	}
	if len(contents) == 0 {
		return nil, nil, inputError("messages", "has no user, assistant or tool message")
	}
	return sys, contents, nil
}

// messageText is the text of a message that may hold only text.
func messageText(m *openai.ChatCompletionMessage, i int) (string, error) {
	if len(m.MultiContent) == 0 {
		return m.Content, nil
	}
	var b strings.Builder
	for j, p := range m.MultiContent {
		if p.Type != openai.ChatMessagePartTypeText {
			return "", inputError(field(i, "content["+strconv.Itoa(j)+"]"), "a %s message holds only text, not %q", m.Role, p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// userParts translates a user message's content.
func userParts(m *openai.ChatCompletionMessage, i int) ([]*genai.Part, error) {
	if len(m.MultiContent) == 0 {
		if m.Content == "" {
			return nil, inputError(field(i, "content"), "is empty")
		}
		return []*genai.Part{{Text: m.Content}}, nil
	}
	parts := make([]*genai.Part, 0, len(m.MultiContent))
	for j, p := range m.MultiContent {
		f := field(i, "content["+strconv.Itoa(j)+"]")
		switch p.Type {
		case openai.ChatMessagePartTypeText:
			if p.Text != "" {
				parts = append(parts, &genai.Part{Text: p.Text})
			}
		case openai.ChatMessagePartTypeImageURL:
			part, err := imagePart(p.ImageURL, f+".image_url")
			if err != nil {
				return nil, err
			}
			parts = append(parts, part)
		default:
			return nil, inputError(f+".type", "unsupported content part type %q", p.Type)
		}
	}
	if len(parts) == 0 {
		return nil, inputError(field(i, "content"), "is empty")
	}
	return parts, nil
}

// filesAPIPrefix starts the URI of a file uploaded through the Gemini
// Files API.
const filesAPIPrefix = "https://generativelanguage.googleapis.com/"

// imagePart translates an image_url: a data: URL is sent inline; a gs://
// URI or a Gemini Files API URI by reference. Gemini does not fetch other
// URLs, and this package does not fetch them either: a server-side fetch
// of a caller-supplied URL is a decision for the caller.
func imagePart(img *openai.ChatMessageImageURL, f string) (*genai.Part, error) {
	if img == nil || img.URL == "" {
		return nil, inputError(f, "is empty")
	}
	u := img.URL
	switch {
	case strings.HasPrefix(u, "data:"):
		blob, err := dataURL(u, f)
		if err != nil {
			return nil, err
		}
		return &genai.Part{InlineData: blob}, nil
	case strings.HasPrefix(u, "gs://"):
		typ := mime.TypeByExtension(path.Ext(u))
		if typ == "" {
			return nil, inputError(f, "the type of %q cannot be told from its extension", u)
		}
		return &genai.Part{FileData: &genai.FileData{FileURI: u, MIMEType: typ}}, nil
	case strings.HasPrefix(u, filesAPIPrefix) && strings.Contains(u, "/files/"):
		// The Files API knows the type of the files it holds.
		return &genai.Part{FileData: &genai.FileData{FileURI: u, MIMEType: mime.TypeByExtension(path.Ext(u))}}, nil
	}
	return nil, inputError(f, "Gemini takes images as data: URLs, gs:// URIs or Files API URIs, not %q; fetch it and send a data: URL", clip(u, 80))
}

// dataURL decodes a base64 data: URL ("data:image/png;base64,...").
func dataURL(u, f string) (*genai.Blob, error) {
	header, data, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return nil, inputError(f, "data: URL has no comma")
	}
	meta, isBase64 := strings.CutSuffix(header, ";base64")
	if !isBase64 {
		return nil, inputError(f, "data: URL is not base64-encoded")
	}
	typ, _, _ := strings.Cut(meta, ";")
	if typ == "" || !strings.Contains(typ, "/") {
		return nil, inputError(f, "data: URL has no media type")
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(data)
	}
	if err != nil {
		return nil, inputError(f, "data: URL is not valid base64")
	}
	return &genai.Blob{MIMEType: typ, Data: raw}, nil
}

// modelTurn translates an assistant message, or returns nil when it holds
// nothing to send.
func modelTurn(m *openai.ChatCompletionMessage, i int, names *map[string]string) (*genai.Content, error) {
	if m.FunctionCall != nil {
		return nil, inputError(field(i, "function_call"), "legacy function calls are not supported; use tool_calls")
	}
	text, err := messageText(m, i)
	if err != nil {
		return nil, err
	}
	parts := make([]*genai.Part, 0, 1+len(m.ToolCalls))
	if text != "" {
		parts = append(parts, &genai.Part{Text: text})
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		f := field(i, "tool_calls["+strconv.Itoa(j)+"]")
		if tc.Type != "" && tc.Type != openai.ToolTypeFunction {
			return nil, inputError(f+".type", "unsupported tool call type %q", tc.Type)
		}
		if tc.Function.Name == "" {
			return nil, inputError(f+".function.name", "is empty")
		}
		args, err := jsonObject(tc.Function.Arguments)
		if err != nil {
			return nil, inputError(f+".function.arguments", "is not a JSON object")
		}
		id := decodeToolCallID(tc.ID)
		parts = append(parts, &genai.Part{
			FunctionCall:     &genai.FunctionCall{ID: id.upstream, Name: tc.Function.Name, Args: args},
			ThoughtSignature: id.signature,
		})
		if tc.ID != "" {
			if *names == nil {
				*names = make(map[string]string, len(m.ToolCalls))
			}
			(*names)[tc.ID] = tc.Function.Name
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return &genai.Content{Role: genai.RoleModel, Parts: parts}, nil
}

// jsonObject decodes a JSON object, keeping numbers exact. An empty or
// blank string is an empty object (a call with no arguments).
func jsonObject(s string) (map[string]any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if s[0] != '{' {
		return nil, errNotObject
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if dec.More() || int(dec.InputOffset()) != len(s) {
		return nil, errNotObject
	}
	return obj, nil
}

var errNotObject = errors.New("not a JSON object")

// functionResponse translates a tool message into a function response.
// Gemini needs the function's name, which an OpenAI tool message does not
// carry: it is looked up from the earlier call with the same id (or taken
// from the message's name). The result must be a JSON object: a result
// that is one is sent as it is, anything else as {"output": text}, the
// key Gemini documents for a function's output.
func functionResponse(m *openai.ChatCompletionMessage, i int, names map[string]string) (*genai.Part, error) {
	name := names[m.ToolCallID]
	if name == "" {
		name = m.Name
	}
	if name == "" {
		if m.ToolCallID == "" {
			return nil, inputError(field(i, "tool_call_id"), "is empty")
		}
		return nil, inputError(field(i, "tool_call_id"), "%q matches no earlier tool call", clip(m.ToolCallID, 80))
	}
	text, err := messageText(m, i)
	if err != nil {
		return nil, err
	}
	resp, err := jsonObject(text)
	if err != nil || resp == nil {
		resp = map[string]any{"output": text}
	}
	return &genai.Part{FunctionResponse: &genai.FunctionResponse{
		ID:       decodeToolCallID(m.ToolCallID).upstream,
		Name:     name,
		Response: resp,
	}}, nil
}

// setSampling translates the sampling and length fields.
func setSampling(cfg *genai.GenerateContentConfig, r *openai.ChatCompletionRequest) error {
	for _, f := range []struct {
		name string
		v    float32
		dst  **float32
	}{
		{"temperature", r.Temperature, &cfg.Temperature},
		{"top_p", r.TopP, &cfg.TopP},
		{"presence_penalty", r.PresencePenalty, &cfg.PresencePenalty},
		{"frequency_penalty", r.FrequencyPenalty, &cfg.FrequencyPenalty},
	} {
		if f.v == 0 {
			continue // go-openai cannot send a zero either
		}
		if math.IsNaN(float64(f.v)) || math.IsInf(float64(f.v), 0) {
			return inputError(f.name, "is not a finite number")
		}
		*f.dst = genai.Ptr(f.v)
	}
	maxTokens, name := r.MaxTokens, "max_tokens"
	if r.MaxCompletionTokens != 0 {
		maxTokens, name = r.MaxCompletionTokens, "max_completion_tokens"
	}
	if maxTokens < 0 || maxTokens > math.MaxInt32 {
		return inputError(name, "%d is out of range", maxTokens)
	}
	cfg.MaxOutputTokens = int32(maxTokens)
	if r.N < 0 || r.N > math.MaxInt32 {
		return inputError("n", "%d is out of range", r.N)
	}
	if r.N > 1 {
		cfg.CandidateCount = int32(r.N)
	}
	if r.Seed != nil {
		if *r.Seed < math.MinInt32 || *r.Seed > math.MaxInt32 {
			return inputError("seed", "%d is outside Gemini's 32-bit range", *r.Seed)
		}
		cfg.Seed = genai.Ptr(int32(*r.Seed))
	}
	if len(r.Stop) > 0 {
		cfg.StopSequences = append([]string(nil), r.Stop...)
	}
	switch r.ReasoningEffort {
	case "":
	case "minimal":
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingLevel: genai.ThinkingLevelMinimal}
	case "low":
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingLevel: genai.ThinkingLevelLow}
	case "medium":
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingLevel: genai.ThinkingLevelMedium}
	case "high":
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingLevel: genai.ThinkingLevelHigh}
	default:
		return inputError("reasoning_effort", "%q is not minimal, low, medium or high", r.ReasoningEffort)
	}
	return nil
}

// setTools translates tools into function declarations, passing each
// caller's JSON schema as it is (ParametersJsonSchema, not genai's
// OpenAPI-subset Schema), and tool_choice into the function calling mode.
func setTools(cfg *genai.GenerateContentConfig, r *openai.ChatCompletionRequest) error {
	declared := make(map[string]bool, len(r.Tools))
	if len(r.Tools) > 0 {
		decls := make([]*genai.FunctionDeclaration, 0, len(r.Tools))
		for i := range r.Tools {
			t := &r.Tools[i]
			f := "tools[" + strconv.Itoa(i) + "]"
			if t.Type != openai.ToolTypeFunction {
				return inputError(f+".type", "only function tools are supported, not %q", t.Type)
			}
			if t.Function == nil || t.Function.Name == "" {
				return inputError(f+".function.name", "is empty")
			}
			d := &genai.FunctionDeclaration{Name: t.Function.Name, Description: t.Function.Description}
			if t.Function.Parameters != nil {
				raw, err := rawJSON(t.Function.Parameters)
				if err != nil {
					return inputError(f+".function.parameters", "does not encode as JSON: %v", err)
				}
				if !bytes.Equal(raw, []byte("null")) {
					d.ParametersJsonSchema = raw
				}
			}
			decls = append(decls, d)
			declared[d.Name] = true
		}
		cfg.Tools = []*genai.Tool{{FunctionDeclarations: decls}}
	}
	mode, name, err := toolChoice(r.ToolChoice)
	if err != nil {
		return err
	}
	if mode == "" {
		return nil
	}
	if name != "" && !declared[name] {
		return inputError("tool_choice", "names function %q, which is not among the tools", name)
	}
	fc := &genai.FunctionCallingConfig{Mode: mode}
	if name != "" {
		fc.AllowedFunctionNames = []string{name}
	}
	cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: fc}
	return nil
}

// rawJSON marshals v, so that genai's own marshalling cannot fail.
func rawJSON(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok && json.Valid(raw) {
		return raw, nil
	}
	return json.Marshal(v)
}

// toolChoice reads tool_choice: "auto", "none", "required", or a named
// function ({"type": "function", "function": {"name": ...}}) in any of
// the forms go-openai callers use.
func toolChoice(tc any) (genai.FunctionCallingConfigMode, string, error) {
	var name string
	switch v := tc.(type) {
	case nil:
		return "", "", nil
	case string:
		switch v {
		case "":
			return "", "", nil
		case "auto":
			return genai.FunctionCallingConfigModeAuto, "", nil
		case "none":
			return genai.FunctionCallingConfigModeNone, "", nil
		case "required":
			return genai.FunctionCallingConfigModeAny, "", nil
		}
		return "", "", inputError("tool_choice", "%q is not auto, none, required or a function", v)
	case openai.ToolChoice:
		name = v.Function.Name
	case *openai.ToolChoice:
		if v == nil {
			return "", "", nil
		}
		name = v.Function.Name
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return "", "", inputError("tool_choice", "does not encode as JSON")
		}
		var c openai.ToolChoice
		if err := json.Unmarshal(raw, &c); err != nil || (c.Type != "" && c.Type != openai.ToolTypeFunction) {
			return "", "", inputError("tool_choice", "is not a function choice")
		}
		name = c.Function.Name
	}
	if name == "" {
		return "", "", inputError("tool_choice.function.name", "is empty")
	}
	return genai.FunctionCallingConfigModeAny, name, nil
}

// setResponseFormat translates JSON mode and structured outputs.
func setResponseFormat(cfg *genai.GenerateContentConfig, rf *openai.ChatCompletionResponseFormat) error {
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "", openai.ChatCompletionResponseFormatTypeText:
	case openai.ChatCompletionResponseFormatTypeJSONObject:
		cfg.ResponseMIMEType = "application/json"
	case openai.ChatCompletionResponseFormatTypeJSONSchema:
		if rf.JSONSchema == nil || rf.JSONSchema.Schema == nil {
			return inputError("response_format.json_schema.schema", "is missing")
		}
		raw, err := rf.JSONSchema.Schema.MarshalJSON()
		if err != nil || !json.Valid(raw) {
			return inputError("response_format.json_schema.schema", "does not encode as JSON")
		}
		cfg.ResponseMIMEType = "application/json"
		cfg.ResponseJsonSchema = json.RawMessage(raw)
	default:
		return inputError("response_format.type", "unsupported type %q", rf.Type)
	}
	return nil
}
