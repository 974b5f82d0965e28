package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/auth/httptransport"
	openai "github.com/sashabaranov/go-openai"
	"google.golang.org/genai"

	"github.com/llmroute/llmroute/providers"
)

// Provider is one Gemini account: the Gemini API (an API key) or Vertex AI
// (a project and location with credentials, or an express-mode API key).
// It implements [providers.Provider], [providers.Streamer],
// [providers.Embedder] and [providers.Describer].
//
// A Provider is safe for concurrent use by multiple goroutines: it holds
// only the genai client it was built with and keeps no per-call state.
// The zero value is not usable; create one with [New]. A nil or zero
// Provider returns an error from every call rather than panicking.
type Provider struct {
	models  *genai.Models
	backend genai.Backend
	baseURL string
	apiKey  string
	// extras is the caller's ClientConfig.HTTPOptions.ExtrasRequestProvider,
	// passed on every request: genai applies a client-level one only
	// through a request-level one, and calls a nil function otherwise.
	extras genai.ExtrasRequestProvider
}

// Compile-time checks that *Provider has every capability it promises.
var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Streamer  = (*Provider)(nil)
	_ providers.Embedder  = (*Provider)(nil)
	_ providers.Describer = (*Provider)(nil)
)

// Default endpoints, set explicitly so that genai never takes one from
// GOOGLE_GEMINI_BASE_URL or GOOGLE_VERTEX_BASE_URL.
const (
	geminiBaseURL = "https://generativelanguage.googleapis.com/"
	vertexGlobal  = "https://aiplatform.googleapis.com/"
)

// New returns a Provider that sends requests as cfg describes. cfg is
// copied, never modified; see the package documentation for what New
// requires of it and what it changes in the copy. ctx is used only while
// New runs (to ask Vertex credentials for their quota project).
//
// New reads nothing from the environment that cfg does not name: the
// Backend must be given or is the Gemini API, the API key, project,
// location and base URL are exactly cfg's, and Application Default
// Credentials are used only when cfg carries them (see
// genai.ClientConfig.UseDefaultCredentials). Its errors never contain the
// API key.
func New(ctx context.Context, cfg *genai.ClientConfig) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("gemini: nil ClientConfig")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cc, err := explicitConfig(*cfg)
	if err != nil {
		return nil, err
	}
	extras := cc.HTTPOptions.ExtrasRequestProvider
	cc.HTTPOptions.ExtrasRequestProvider = nil
	// The routing layer owns retries: genai's would re-send inside one
	// attempt, unseen by it.
	cc.HTTPOptions.RetryOptions = nil
	cc.HTTPOptions.Headers = cc.HTTPOptions.Headers.Clone()

	hc, err := httpClient(ctx, &cc)
	if err != nil {
		return nil, err
	}
	cc.HTTPClient = hc
	want := cc
	client, err := genai.NewClient(ctx, &cc)
	if err != nil {
		return nil, redactedConfigError(cfg.APIKey, err)
	}
	if err := checkNoEnvironment(want, client.ClientConfig()); err != nil {
		return nil, err
	}
	return &Provider{
		models:  client.Models,
		backend: cc.Backend,
		baseURL: cc.HTTPOptions.BaseURL,
		apiKey:  cc.APIKey,
		extras:  extras,
	}, nil
}

// explicitConfig checks cfg and fills in every field genai would
// otherwise take from the environment, with genai's own defaults.
func explicitConfig(cc genai.ClientConfig) (genai.ClientConfig, error) {
	switch cc.Backend {
	case genai.BackendUnspecified:
		// genai would read GOOGLE_GENAI_USE_VERTEXAI.
		cc.Backend = genai.BackendGeminiAPI
	case genai.BackendEnterprise:
		cc.Backend = genai.BackendVertexAI
	case genai.BackendGeminiAPI, genai.BackendVertexAI:
	default:
		return cc, fmt.Errorf("gemini: ClientConfig.Backend %d is not a known backend", int(cc.Backend))
	}
	if cc.APIKey != "" && cc.Credentials != nil {
		return cc, errors.New("gemini: ClientConfig.APIKey and ClientConfig.Credentials are mutually exclusive")
	}
	if cc.Backend == genai.BackendGeminiAPI {
		switch {
		case cc.APIKey == "":
			return cc, errors.New("gemini: ClientConfig.APIKey is required for the Gemini API (it is not read from GEMINI_API_KEY or GOOGLE_API_KEY)")
		case cc.Credentials != nil:
			return cc, errors.New("gemini: ClientConfig.Credentials are for Vertex AI; the Gemini API takes an APIKey")
		case cc.Project != "" || cc.Location != "":
			return cc, errors.New("gemini: ClientConfig.Project and ClientConfig.Location are for Vertex AI, not the Gemini API")
		}
		if cc.HTTPOptions.BaseURL == "" {
			cc.HTTPOptions.BaseURL = geminiBaseURL
		}
		return cc, nil
	}

	// Vertex AI.
	switch {
	case cc.APIKey != "":
		// Express mode: the key alone names the account.
	case cc.Project == "" && cc.Location != "":
		return cc, errors.New("gemini: ClientConfig.Project is required with a Location (it is not read from GOOGLE_CLOUD_PROJECT)")
	case cc.Project != "":
		if cc.Location == "" {
			cc.Location = "global"
		}
		if cc.Credentials == nil && cc.HTTPClient == nil {
			return cc, errors.New("gemini: Vertex AI needs ClientConfig.Credentials (genai.ClientConfig.UseDefaultCredentials finds Application Default Credentials) or an HTTPClient that authenticates; they are not looked up implicitly")
		}
	case cc.HTTPOptions.BaseURL == "":
		return cc, errors.New("gemini: Vertex AI needs ClientConfig.Project (and Location), an APIKey for express mode, or HTTPOptions.BaseURL for a proxy")
	}
	if cc.HTTPOptions.BaseURL == "" {
		cc.HTTPOptions.BaseURL = vertexBaseURL(cc.Location, cc.APIKey != "")
	}
	return cc, nil
}

// vertexBaseURL is genai's default Vertex AI endpoint for a location.
func vertexBaseURL(location string, express bool) string {
	switch {
	case express || location == "global":
		return vertexGlobal
	case location == "us" || location == "eu":
		return "https://aiplatform." + location + ".rep.googleapis.com/"
	}
	return "https://" + location + "-aiplatform.googleapis.com/"
}

// httpClient returns the HTTP client the Provider sends through: a copy of
// cfg's (never cfg's own, which the caller may share), or one that
// authenticates with cfg's Credentials as genai would build it, with this
// package's transport in front.
func httpClient(ctx context.Context, cc *genai.ClientConfig) (*http.Client, error) {
	hc := &http.Client{}
	switch {
	case cc.HTTPClient != nil:
		*hc = *cc.HTTPClient
	case cc.Credentials != nil:
		quotaProject, err := cc.Credentials.QuotaProjectID(ctx)
		if err != nil {
			return nil, fmt.Errorf("gemini: reading the credentials' quota project: %w", err)
		}
		opts := &httptransport.Options{Credentials: cc.Credentials}
		if quotaProject != "" {
			opts.Headers = http.Header{"X-Goog-User-Project": []string{quotaProject}}
		}
		authed, err := httptransport.NewClient(opts)
		if err != nil {
			return nil, fmt.Errorf("gemini: building the authenticated HTTP client: %w", err)
		}
		hc = authed
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &transport{next: next}
	return hc, nil
}

// checkNoEnvironment makes sure genai used exactly the configuration it
// was given. explicitConfig fills in everything genai would read from the
// environment, except where genai reads it regardless: a Vertex AI proxy
// (HTTPOptions.BaseURL with no key, project or location) is given
// GOOGLE_API_KEY or GEMINI_API_KEY if either is set, which would send
// that key to the proxy. The Gemini API ignores Project and Location, so
// genai filling them in there changes nothing.
func checkNoEnvironment(want, got genai.ClientConfig) error {
	var field, env string
	switch {
	case got.Backend != want.Backend:
		field, env = "Backend", "GOOGLE_GENAI_USE_VERTEXAI"
	case got.APIKey != want.APIKey:
		field, env = "APIKey", "GOOGLE_API_KEY or GEMINI_API_KEY"
	case got.HTTPOptions.BaseURL != want.HTTPOptions.BaseURL:
		field, env = "HTTPOptions.BaseURL", "GOOGLE_GEMINI_BASE_URL or GOOGLE_VERTEX_BASE_URL"
	case want.Backend == genai.BackendVertexAI && got.Project != want.Project:
		field, env = "Project", "GOOGLE_CLOUD_PROJECT"
	case want.Backend == genai.BackendVertexAI && got.Location != want.Location:
		field, env = "Location", "GOOGLE_CLOUD_LOCATION or GOOGLE_CLOUD_REGION"
	default:
		return nil
	}
	return fmt.Errorf("gemini: genai took ClientConfig.%s from the environment (%s); set the field, or unset the variable", field, env)
}

// redactedConfigError is err from genai.NewClient, whose messages print
// the whole ClientConfig, with the API key removed.
func redactedConfigError(key string, err error) error {
	p := &Provider{apiKey: key}
	return fmt.Errorf("gemini: creating the genai client: %w", p.redactErr(nil, err))
}

// errNotCreated is returned by every method of a Provider not made by New.
var errNotCreated = errors.New("gemini: Provider not created with New")

func (p *Provider) usable() bool { return p != nil && p.models != nil }

// String describes p without its credential.
func (p *Provider) String() string {
	if !p.usable() {
		return "gemini.Provider(<nil>)"
	}
	return "gemini.Provider(" + p.Describe().Name + " " + p.baseURL + ")"
}

// GoString is String, so that %#v cannot print the credential either.
func (p *Provider) GoString() string { return p.String() }

// Describe says what p is and where it calls: "gcp.gemini" for the Gemini
// API, "gcp.vertex_ai" for Vertex AI, with the host and port of the
// endpoint.
func (p *Provider) Describe() providers.Info {
	if !p.usable() {
		return providers.Info{}
	}
	info := providers.HostInfo(p.baseURL)
	info.Name = "gcp.gemini"
	if p.backend == genai.BackendVertexAI {
		info.Name = "gcp.vertex_ai"
	}
	return info
}

// httpOptions is the per-request HTTP options of every call.
func (p *Provider) httpOptions() *genai.HTTPOptions {
	if p.extras == nil {
		return nil
	}
	return &genai.HTTPOptions{ExtrasRequestProvider: p.extras}
}

// Chat sends one generateContent request: req.Request translated as the
// package documentation describes, with req.Call's headers applied to this
// request only.
//
// A request this package cannot translate is an [*InputError] and nothing
// is sent; failures from the upstream are a [*providers.Error].
func (p *Provider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	if !p.usable() {
		return openai.ChatCompletionResponse{}, errNotCreated
	}
	if ctx == nil {
		ctx = context.Background()
	}
	b, err := buildChat(&req.Request, req.Extra)
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	if err := ctx.Err(); err != nil {
		return openai.ChatCompletionResponse{}, providers.ContextError(err)
	}
	b.config.HTTPOptions = p.httpOptions()
	st := newCallState(ctx, &req.Call, false)
	resp, err := p.generate(st, b)
	if err != nil {
		return openai.ChatCompletionResponse{}, p.failure(st, err)
	}
	out, err := chatResponse(resp, b.model)
	if err != nil {
		return openai.ChatCompletionResponse{}, p.responseError(st, err)
	}
	return out, nil
}

// generate calls genai, turning a panic while it decodes the response (a
// body of the wrong shape can make genai's converters panic) into an error.
func (p *Provider) generate(st *callState, b chatBuild) (resp *genai.GenerateContentResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			if !st.sent {
				panic(v)
			}
			resp, err = nil, &decodePanic{v: v}
		}
	}()
	return p.models.GenerateContent(st, b.model, b.contents, b.config)
}

// decodePanic is a panic inside genai while it decoded a response.
type decodePanic struct{ v any }

func (e *decodePanic) Error() string {
	return fmt.Sprintf("genai panicked decoding the response: %v", e.v)
}

// failure reports an error from a genai call: an upstream failure through
// translate, or, when nothing was sent, genai's refusal of the request.
func (p *Provider) failure(st *callState, err error) error {
	var dp *decodePanic
	if errors.As(err, &dp) {
		return &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedResponse, Message: p.redact(st, dp.Error()), Err: p.redactErr(st, err)}
	}
	if !st.sent {
		if ctxErr := st.Context.Err(); ctxErr != nil {
			return providers.ContextError(ctxErr)
		}
		return fmt.Errorf("gemini: request refused before sending: %w", p.redactErr(st, err))
	}
	return p.translate(st, err)
}

// responseError reports a success response that does not hold an answer.
func (p *Provider) responseError(st *callState, err error) error {
	var me *modelError
	if errors.As(err, &me) {
		return &providers.Error{Status: providers.StatusTransport, Code: me.code, Message: p.redact(st, me.msg)}
	}
	return &providers.Error{Status: providers.StatusTransport, Code: CodeMalformedResponse, Message: p.redact(st, err.Error()), Err: p.redactErr(st, err)}
}
