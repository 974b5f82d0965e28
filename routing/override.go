package routing

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// promptVersionKey is the override that names a managed prompt version. It
// is sent with plain chat completions only: a request that carries tools
// (agents, MCP) brings its own prompt, and the Trace says it was held back.
const promptVersionKey = "prompt_version_fqn"

// params is a target's override_params compiled at load time into typed
// setters for each operation, plus the keys each operation's typed request
// has no field for, which go out as extra JSON body fields. Nothing here
// changes after load, so every attempt shares it read-only.
type params struct {
	temperature, topP, presencePenalty, frequencyPenalty optFloat
	maxTokens, maxCompletionTokens, n, seed, dimensions  optInt
	stop                                                 []string
	hasStop                                              bool
	user, encodingFormat                                 optString

	chatExtra, chatExtraNoPrompt, completionExtra, embeddingExtra map[string]any
}

// opt is an override that may be absent.
type opt[T any] struct {
	v  T
	ok bool
}

type (
	optFloat  = opt[float32]
	optInt    = opt[int]
	optString = opt[string]
)

// Which operations have a typed field for each known key.
var (
	chatKeys       = []string{"temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens", "max_completion_tokens", "n", "seed", "stop", "user"}
	completionKeys = []string{"temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens", "n", "seed", "stop", "user"}
	embeddingKeys  = []string{"dimensions", "encoding_format", "user"}
)

// compileParams checks and compiles override_params; errors name the key.
func compileParams(in map[string]any) (params, error) {
	var p params
	if len(in) == 0 {
		return p, nil
	}
	var err error
	for k, v := range in {
		switch k {
		case "temperature":
			p.temperature, err = toFloat(k, v)
		case "top_p":
			p.topP, err = toFloat(k, v)
		case "presence_penalty":
			p.presencePenalty, err = toFloat(k, v)
		case "frequency_penalty":
			p.frequencyPenalty, err = toFloat(k, v)
		case "max_tokens":
			p.maxTokens, err = toInt(k, v)
		case "max_completion_tokens":
			p.maxCompletionTokens, err = toInt(k, v)
		case "n":
			p.n, err = toInt(k, v)
		case "seed":
			p.seed, err = toInt(k, v)
		case "dimensions":
			p.dimensions, err = toInt(k, v)
		case "stop":
			p.stop, err = toStrings(k, v)
			p.hasStop = err == nil
		case "user":
			p.user, err = toString(k, v)
		case "encoding_format":
			p.encodingFormat, err = toString(k, v)
		case "":
			err = fmt.Errorf("empty key")
		}
		if err != nil {
			return p, err
		}
	}
	p.chatExtra = extraFor(in, chatKeys, "")
	p.chatExtraNoPrompt = extraFor(in, chatKeys, promptVersionKey)
	p.completionExtra = extraFor(in, completionKeys, "")
	p.embeddingExtra = extraFor(in, embeddingKeys, "")
	return p, nil
}

// extraFor returns the keys of in that are not typed fields of an
// operation (and not skip), or nil.
func extraFor(in map[string]any, typed []string, skip string) map[string]any {
	var out map[string]any
	for k, v := range in {
		if k == skip || slices.Contains(typed, k) {
			continue
		}
		if out == nil {
			out = make(map[string]any)
		}
		out[k] = v
	}
	return out
}

func toFloat(k string, v any) (optFloat, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		return optFloat{}, fmt.Errorf("%s: want a number, got %T", k, v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
		return optFloat{}, fmt.Errorf("%s: %v is not a finite number", k, f)
	}
	return optFloat{v: float32(f), ok: true}, nil
}

func toInt(k string, v any) (optInt, error) {
	switch x := v.(type) {
	case int:
		return optInt{v: x, ok: true}, nil
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return optInt{v: int(x), ok: true}, nil
		}
	case uint64:
		if x <= math.MaxInt32 {
			return optInt{v: int(x), ok: true}, nil
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 {
			return optInt{v: int(x), ok: true}, nil
		}
	}
	return optInt{}, fmt.Errorf("%s: want a whole number, got %v", k, v)
}

func toString(k string, v any) (optString, error) {
	s, ok := v.(string)
	if !ok {
		return optString{}, fmt.Errorf("%s: want a string, got %T", k, v)
	}
	return optString{v: s, ok: true}, nil
}

func toStrings(k string, v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []string:
		return slices.Clone(x), nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: want a string, got %T", k, i, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: want a string or a list of strings, got %T", k, v)
}

// sampling holds pointers to the sampling fields that chat and completion
// requests share, so one function sets them for both.
type sampling struct {
	temperature, topP, presencePenalty, frequencyPenalty *float32
	maxTokens, n                                         *int
	seed                                                 **int
	stop                                                 *[]string
	user                                                 *string
}

func (p *params) sampling(f sampling) {
	setOpt(f.temperature, p.temperature)
	setOpt(f.topP, p.topP)
	setOpt(f.presencePenalty, p.presencePenalty)
	setOpt(f.frequencyPenalty, p.frequencyPenalty)
	setOpt(f.maxTokens, p.maxTokens)
	setOpt(f.n, p.n)
	setOpt(f.user, p.user)
	if p.seed.ok {
		seed := p.seed.v
		*f.seed = &seed
	}
	if p.hasStop {
		*f.stop = p.stop
	}
}

// setOpt sets *dst when the override is present.
func setOpt[T any](dst *T, o opt[T]) {
	if o.ok {
		*dst = o.v
	}
}

func (p *params) chat(r *openai.ChatCompletionRequest) {
	p.sampling(sampling{&r.Temperature, &r.TopP, &r.PresencePenalty, &r.FrequencyPenalty, &r.MaxTokens, &r.N, &r.Seed, &r.Stop, &r.User})
	setOpt(&r.MaxCompletionTokens, p.maxCompletionTokens)
}

func (p *params) completion(r *openai.CompletionRequest) {
	p.sampling(sampling{&r.Temperature, &r.TopP, &r.PresencePenalty, &r.FrequencyPenalty, &r.MaxTokens, &r.N, &r.Seed, &r.Stop, &r.User})
}

func (p *params) embedding(r *openai.EmbeddingRequest) {
	setOpt(&r.Dimensions, p.dimensions)
	setOpt(&r.User, p.user)
	if p.encodingFormat.ok {
		r.EncodingFormat = openai.EmbeddingEncodingFormat(p.encodingFormat.v)
	}
}

// hasTools reports whether a chat request is an agent-style call whose
// prompt is its own.
func hasTools(r *openai.ChatCompletionRequest) bool {
	return len(r.Tools) > 0 || len(r.Functions) > 0
}

// mergeHeaders returns the headers for one attempt: the caller's, with the
// target's set on top. It allocates only when both are present.
func mergeHeaders(req, set http.Header) http.Header {
	switch {
	case len(set) == 0:
		return req
	case len(req) == 0:
		return set
	}
	// Callers may build headers as map literals with any key case; the
	// target's value must replace theirs, not travel beside it.
	h := make(http.Header, len(req)+len(set))
	for k, v := range req {
		h[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range set {
		h[k] = v
	}
	return h
}

// canonicalHeaders turns a headers_override.set map into an http.Header.
func canonicalHeaders(set map[string]string) http.Header {
	if len(set) == 0 {
		return nil
	}
	h := make(http.Header, len(set))
	for k, v := range set {
		h[http.CanonicalHeaderKey(strings.TrimSpace(k))] = []string{v}
	}
	return h
}
