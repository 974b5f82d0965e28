package anthropic

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// APIVersion is the anthropic-version header every request carries unless
// the options given to [New] set another.
//
// The SDK sends 2026-10-21, which refuses temperature, top_p and top_k
// with a 400 even at their default values. Requests written for OpenAI
// routinely carry temperature and top_p, and override_params set them per
// target, so the adapter pins the version that still accepts them.
const APIVersion = "2023-06-01"

// DefaultMaxTokens is the max_tokens sent when a request sets neither
// MaxCompletionTokens nor MaxTokens. Anthropic requires the field; OpenAI
// does not. A target's override_params (max_tokens) sets another value
// per target.
const DefaultMaxTokens = 4096

// Provider is one Anthropic account. It implements [providers.Provider],
// [providers.Streamer] and [providers.Describer].
//
// A Provider is safe for concurrent use by multiple goroutines: it holds
// the SDK client it was built with and keeps no per-call state. The zero
// value is not usable; create one with [New]. A nil or zero Provider
// returns an error from every call rather than panicking.
type Provider struct {
	client sdk.Client
	info   providers.Info
	// timeoutSet: the options set a per-attempt request timeout, which
	// Chat then leaves in place.
	timeoutSet bool
	created    bool
}

// Compile-time checks that *Provider has every capability it promises.
var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Streamer  = (*Provider)(nil)
	_ providers.Describer = (*Provider)(nil)
)

// New returns a Provider that sends requests as the SDK options describe:
// option.WithAPIKey (or another credential option), option.WithBaseURL,
// option.WithHTTPClient, and any other option of the SDK.
//
// Around the caller's options, New sets what a router needs:
//
//   - the SDK's retries are off, always: option.WithMaxRetries among opts
//     has no effect. The routing layer retries, falls back and keeps the
//     health of each target; retries inside one attempt would hide
//     failures from it and spend the caller's deadline twice.
//   - nothing is read from the environment (ANTHROPIC_API_KEY,
//     ANTHROPIC_BASE_URL, ANTHROPIC_CUSTOM_HEADERS, profiles, federation).
//     To read it as the SDK does by default, pass
//     anthropic.DefaultClientOptions()... (of the SDK package) first, and
//     no credential option of your own.
//   - the SDK's OpenTelemetry spans and trace-context headers are off, so
//     that an attempt span of the routing layer gets no duplicate child.
//     option.WithOpenTelemetryTraces(true) among opts turns them back on.
//   - the anthropic-version header is [APIVersion];
//     option.WithHeader("anthropic-version", v) among opts sends v instead
//     (a version that refuses temperature and top_p then answers 400 to a
//     request that sets them).
//   - the SDK's own per-attempt timeout and its refusal to send a
//     non-streaming request with a large max_tokens are lifted: the ctx of
//     each call bounds it. option.WithRequestTimeout among opts (given
//     directly, not inside option.Join) puts both back.
//
// Without option.WithHTTPClient, requests go through http.DefaultClient.
func New(opts ...option.RequestOption) *Provider {
	all := make([]option.RequestOption, 0, len(opts)+6)
	all = append(all,
		option.WithoutEnvironmentDefaults(),
		option.WithoutOpenTelemetry(),
		option.WithHeader("anthropic-version", APIVersion),
		// First, so that it runs before any middleware of the caller's:
		// it answers New's own probe without sending anything.
		option.WithMiddleware(probeMiddleware),
	)
	all = append(all, opts...)
	// Last, so that no option of the caller's can undo them.
	all = append(all,
		option.WithMaxRetries(0),
		option.WithMiddleware(attemptMiddleware),
	)
	p := &Provider{client: sdk.NewClient(all...), created: true}
	// CalculateNonStreamingTimeout returns the caller's request timeout
	// when there is one, and refuses this many tokens when there is not.
	if _, err := sdk.CalculateNonStreamingTimeout(math.MaxInt32, "", opts); err == nil {
		p.timeoutSet = true
	}
	p.info = p.probe()
	return p
}

// probeKey marks the context of New's probe request.
type probeKey struct{}

// errProbed ends the probe request before it is sent.
var errProbed = errors.New("anthropic: probe")

// probeMiddleware answers the probe request New makes to learn where the
// client sends its calls; every other request passes through.
func probeMiddleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	if u, ok := req.Context().Value(probeKey{}).(**url.URL); ok {
		*u = req.URL
		return nil, errProbed
	}
	return next(req)
}

// probe returns the Info of the URL the client sends messages to, as the
// options built it. Nothing is sent.
func (p *Provider) probe() providers.Info {
	var u *url.URL
	ctx := context.WithValue(context.Background(), probeKey{}, &u)
	_ = p.client.Execute(ctx, http.MethodPost, "v1/messages", nil, nil, option.WithMaxRetries(0))
	if u == nil {
		return providers.Info{Name: providerName}
	}
	info := providers.HostInfo(u.Scheme + "://" + u.Host)
	info.Name = providerName
	return info
}

// providerName is the OpenTelemetry GenAI provider name of Anthropic.
const providerName = "anthropic"

// Describe says what p is and where it calls: "anthropic", with the host
// and port of the base URL the options set (api.anthropic.com:443 by
// default).
func (p *Provider) Describe() providers.Info {
	if !p.usable() {
		return providers.Info{}
	}
	return p.info
}

// String describes p without its credential.
func (p *Provider) String() string {
	if !p.usable() {
		return "anthropic.Provider(<nil>)"
	}
	return "anthropic.Provider(" + p.info.Address + ")"
}

// GoString is String, so that %#v cannot print the credential either.
func (p *Provider) GoString() string { return p.String() }

// errNotCreated is returned by every method of a Provider not made by New.
var errNotCreated = errors.New("anthropic: Provider not created with New")

func (p *Provider) usable() bool { return p != nil && p.created }

// Chat sends one Messages API request translated from req.Request and
// returns Anthropic's answer as a chat completion. req.Call's headers and
// extra body fields apply to this request only.
//
// A request the adapter cannot translate faithfully is refused before
// anything is sent (see the package documentation); upstream failures are
// a [*providers.Error].
func (p *Provider) Chat(ctx context.Context, req providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	var zero goopenai.ChatCompletionResponse
	if !p.usable() {
		return zero, errNotCreated
	}
	if ctx == nil {
		ctx = context.Background()
	}
	params, err := buildParams(&req.Request, req.Extra)
	if err != nil {
		return zero, err
	}
	st := newCallState(ctx)
	var raw *http.Response
	opts := p.callOptions(&req.Call, option.WithResponseInto(&raw))
	if !p.timeoutSet {
		opts = append(opts,
			option.WithRequestTimeout(noTimeout),
			option.WithHeaderDel("X-Stainless-Timeout"),
		)
	}
	msg, err := p.client.Messages.New(st.ctx, params, opts...)
	if err != nil {
		return zero, st.translate(err)
	}
	resp, err := st.response(msg)
	if err != nil {
		return zero, err
	}
	if raw != nil {
		resp.SetHeader(raw.Header)
	}
	return resp, nil
}

// noTimeout is the per-attempt timeout Chat gives the SDK when the caller
// set none: long enough never to fire, so that the ctx alone bounds the
// attempt, and set at all so that the SDK does not refuse a large
// max_tokens in a non-streaming request.
const noTimeout = time.Duration(math.MaxInt64)

// callOptions returns the request options of one attempt: its headers
// and the given extras.
func (p *Provider) callOptions(c *providers.Call, extra ...option.RequestOption) []option.RequestOption {
	n := len(extra) + len(c.RemoveHeader) + 2
	for _, vs := range c.Header {
		n += len(vs)
	}
	opts := make([]option.RequestOption, 0, n)
	opts = append(opts, extra...)
	for k, vs := range c.Header {
		for i, v := range vs {
			if i == 0 {
				opts = append(opts, option.WithHeader(k, v))
			} else {
				opts = append(opts, option.WithHeaderAdd(k, v))
			}
		}
	}
	for _, k := range c.RemoveHeader {
		opts = append(opts, option.WithHeaderDel(k))
	}
	return opts
}
