package gemini

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
)

// Embed sends one embeddings request: each input string is one content,
// embedded in one batchEmbedContents call on the Gemini API (Vertex AI
// uses its own methods; genai picks them).
//
// dimensions becomes the output dimensionality. The encoding format may be
// "float" or "base64": go-openai's EmbeddingResponse holds float vectors
// either way (its own client decodes a base64 answer into them), so both
// give the same response. Token-array input is refused: Gemini embeds
// text. The Gemini API reports no token usage for embeddings, so Usage is
// zero there; Vertex AI's per-input token counts are summed into it. On
// Vertex AI, Gemini embedding models after gemini-embedding-001 take one
// input per call (genai's embedContent method): several inputs for them
// are refused with an *InputError rather than split into several
// requests.
// Call.Extra (and the request's ExtraBody) may set task_type, title and
// auto_truncate.
func (p *Provider) Embed(ctx context.Context, req providers.EmbeddingRequest) (openai.EmbeddingResponse, error) {
	if !p.usable() {
		return openai.EmbeddingResponse{}, errNotCreated
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r := &req.Request
	model := string(r.Model)
	contents, cfg, err := buildEmbed(r, req.Extra)
	if err != nil {
		return openai.EmbeddingResponse{}, err
	}
	if p.backend == genai.BackendVertexAI && len(contents) > 1 && vertexEmbedsOneByOne(model) {
		return openai.EmbeddingResponse{}, inputError("input", "Vertex AI embeds one input per call with %s (its embedContent method); send the inputs one by one", model)
	}
	if err := ctx.Err(); err != nil {
		return openai.EmbeddingResponse{}, providers.ContextError(err)
	}
	cfg.HTTPOptions = p.httpOptions()
	st := newCallState(ctx, &req.Call, false)
	resp, err := p.embed(st, model, contents, cfg)
	if err != nil {
		return openai.EmbeddingResponse{}, p.failure(st, err)
	}
	if resp == nil || len(resp.Embeddings) != len(contents) {
		got := 0
		if resp != nil {
			got = len(resp.Embeddings)
		}
		return openai.EmbeddingResponse{}, p.responseError(st, fmt.Errorf("gemini: %d embeddings for %d inputs", got, len(contents)))
	}
	out := openai.EmbeddingResponse{
		Object: "list",
		Model:  r.Model,
		Data:   make([]openai.Embedding, len(resp.Embeddings)),
	}
	for i, e := range resp.Embeddings {
		if e == nil {
			return openai.EmbeddingResponse{}, p.responseError(st, fmt.Errorf("gemini: embedding %d is null", i))
		}
		out.Data[i] = openai.Embedding{Object: "embedding", Embedding: e.Values, Index: i}
		if e.Statistics != nil {
			out.Usage.PromptTokens += int(e.Statistics.TokenCount)
		}
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	return out, nil
}

// vertexEmbedsOneByOne reports whether genai embeds with Vertex AI's
// embedContent method for model, which takes one input per call: Gemini
// embedding models other than gemini-embedding-001, and open models served
// as MaaS. (genai's own rule; other models use the predict method, which
// takes a batch.)
func vertexEmbedsOneByOne(model string) bool {
	return strings.Contains(model, "gemini") && model != "gemini-embedding-001" || strings.Contains(model, "maas")
}

// embed calls genai, as generate does.
func (p *Provider) embed(st *callState, model string, contents []*genai.Content, cfg *genai.EmbedContentConfig) (resp *genai.EmbedContentResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			if !st.sent {
				panic(v)
			}
			resp, err = nil, &decodePanic{v: v}
		}
	}()
	return p.models.EmbedContent(st, model, contents, cfg)
}

// buildEmbed translates an embeddings request.
func buildEmbed(r *openai.EmbeddingRequest, extra map[string]any) ([]*genai.Content, *genai.EmbedContentConfig, error) {
	if err := checkModel(string(r.Model)); err != nil {
		return nil, nil, err
	}
	inputs, err := embedInputs(r.Input)
	if err != nil {
		return nil, nil, err
	}
	switch r.EncodingFormat {
	case "", openai.EmbeddingEncodingFormatFloat, openai.EmbeddingEncodingFormatBase64:
	default:
		return nil, nil, inputError("encoding_format", "%q is not float or base64", r.EncodingFormat)
	}
	cfg := &genai.EmbedContentConfig{}
	if r.Dimensions < 0 || r.Dimensions > math.MaxInt32 {
		return nil, nil, inputError("dimensions", "%d is out of range", r.Dimensions)
	}
	if r.Dimensions > 0 {
		cfg.OutputDimensionality = genai.Ptr(int32(r.Dimensions))
	}
	if len(r.ExtraBody) > 0 {
		merged := make(map[string]any, len(r.ExtraBody)+len(extra))
		for k, v := range r.ExtraBody {
			merged[k] = v
		}
		for k, v := range extra {
			merged[k] = v
		}
		extra = merged
	}
	if err := applyEmbedExtra(cfg, extra); err != nil {
		return nil, nil, err
	}
	contents := make([]*genai.Content, len(inputs))
	for i, text := range inputs {
		contents[i] = &genai.Content{Role: genai.RoleUser, Parts: []*genai.Part{{Text: text}}}
	}
	return contents, cfg, nil
}

// embedInputs reads an embeddings input: a string, or a list of strings.
func embedInputs(in any) ([]string, error) {
	var inputs []string
	switch v := in.(type) {
	case string:
		inputs = []string{v}
	case []string:
		inputs = v
	case []any:
		inputs = make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, tokenInput("input[" + strconv.Itoa(i) + "]")
			}
			inputs[i] = s
		}
	case nil:
		return nil, inputError("input", "is empty")
	case []int, []int32, []int64, []float64, [][]int, [][]int32, [][]int64, [][]float64:
		return nil, tokenInput("input")
	default:
		return nil, inputError("input", "must be a string or a list of strings, not %T", in)
	}
	if len(inputs) == 0 {
		return nil, inputError("input", "is empty")
	}
	for i, s := range inputs {
		if s == "" {
			return nil, inputError("input["+strconv.Itoa(i)+"]", "is empty")
		}
	}
	return inputs, nil
}

func tokenInput(f string) error {
	return inputError(f, "token arrays are not supported: Gemini embeds text")
}
