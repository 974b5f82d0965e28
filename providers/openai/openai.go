package openai

import (
	"context"
	"errors"
	"net/http"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Provider is one OpenAI-compatible account: OpenAI, Azure OpenAI, or any
// server that speaks the OpenAI HTTP API (vLLM, Ollama, gateways). It
// implements [providers.Provider], [providers.Completer],
// [providers.Embedder] and [providers.Streamer].
//
// A Provider is safe for concurrent use by multiple goroutines: it holds
// only the go-openai client it was built with and keeps no per-call state.
// The zero value is not usable; create one with [New]. A nil or zero
// Provider returns an error from every call rather than panicking.
type Provider struct {
	client  *goopenai.Client
	baseURL string
	apiType goopenai.APIType
}

// Compile-time checks that *Provider has every capability it promises.
var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Completer = (*Provider)(nil)
	_ providers.Embedder  = (*Provider)(nil)
	_ providers.Streamer  = (*Provider)(nil)
)

// Option configures a Provider built by [New].
type Option func(*options)

type options struct {
	httpClient goopenai.HTTPDoer
}

// WithHTTPClient sends requests through c instead of cfg.HTTPClient. A nil
// c is ignored. Give c no retries of its own: the routing layer owns
// retries, and its ctx owns timeouts.
func WithHTTPClient(c goopenai.HTTPDoer) Option {
	return func(o *options) {
		if c != nil {
			o.httpClient = c
		}
	}
}

// New returns a Provider that sends requests as cfg describes: build cfg
// with goopenai.DefaultConfig, goopenai.DefaultAzureConfig, or either with
// another BaseURL for an OpenAI-compatible server.
//
// A nil cfg.HTTPClient means a plain http.Client with no timeout: every
// call is bounded by the ctx it is given, which the routing layer sets.
// go-openai has no retries of its own, and New adds none.
func New(cfg goopenai.ClientConfig, opts ...Option) *Provider {
	o := options{httpClient: cfg.HTTPClient}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{}
	}
	cfg.HTTPClient = &doer{next: o.httpClient}
	return &Provider{
		client:  goopenai.NewClientWithConfig(cfg),
		baseURL: cfg.BaseURL,
		apiType: cfg.APIType,
	}
}

// String describes p without its credential.
func (p *Provider) String() string {
	if p == nil || p.client == nil {
		return "openai.Provider(<nil>)"
	}
	return "openai.Provider(" + string(p.apiType) + " " + p.baseURL + ")"
}

// GoString is String, so that %#v cannot print the credential either.
func (p *Provider) GoString() string { return p.String() }

// errNotCreated is returned by every method of a Provider not made by New.
var errNotCreated = errors.New("openai: Provider not created with New")

func (p *Provider) usable() bool { return p != nil && p.client != nil }

// Chat sends one chat completion request. req.Request is sent as given,
// except that Stream and StreamOptions are cleared (use [Provider.ChatStream]
// to stream); req.Call's headers and extra body fields are applied to this
// request only.
//
// Failures from the upstream are a [*providers.Error]; see the package
// documentation for how they are mapped.
func (p *Provider) Chat(ctx context.Context, req providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	if !p.usable() {
		return goopenai.ChatCompletionResponse{}, errNotCreated
	}
	st := newCallState(ctx, &req.Call)
	// go-openai refuses Stream on the non-streaming method, and OpenAI
	// refuses stream_options without stream: the method decides the mode.
	// req is this call's own copy, changed in place rather than copied
	// again.
	req.Request.Stream = false
	req.Request.StreamOptions = nil
	resp, err := p.client.CreateChatCompletion(st, req.Request)
	if err != nil {
		return resp, translate(st, err)
	}
	return resp, nil
}

// Completion sends one legacy text completion request (Stream is
// cleared). It behaves as [Provider.Chat] does.
func (p *Provider) Completion(ctx context.Context, req providers.CompletionRequest) (goopenai.CompletionResponse, error) {
	if !p.usable() {
		return goopenai.CompletionResponse{}, errNotCreated
	}
	st := newCallState(ctx, &req.Call)
	req.Request.Stream = false
	req.Request.StreamOptions = nil
	resp, err := p.client.CreateCompletion(st, req.Request)
	if err != nil {
		return resp, translate(st, err)
	}
	return resp, nil
}

// Embed sends one embeddings request. It behaves as [Provider.Chat] does.
func (p *Provider) Embed(ctx context.Context, req providers.EmbeddingRequest) (goopenai.EmbeddingResponse, error) {
	if !p.usable() {
		return goopenai.EmbeddingResponse{}, errNotCreated
	}
	st := newCallState(ctx, &req.Call)
	resp, err := p.client.CreateEmbeddings(st, req.Request)
	if err != nil {
		return resp, translate(st, err)
	}
	return resp, nil
}

// Describe says what p is and where it calls: "azure.ai.openai" for the
// Azure API types, "openai" otherwise, with the host and port of the base
// URL.
func (p *Provider) Describe() providers.Info {
	if !p.usable() {
		return providers.Info{}
	}
	info := providers.HostInfo(p.baseURL)
	info.Name = "openai"
	if p.apiType == goopenai.APITypeAzure || p.apiType == goopenai.APITypeAzureAD {
		info.Name = "azure.ai.openai"
	}
	return info
}
