package bedrock

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	openai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
)

// Provider is one AWS account (credentials and region) serving chat
// through Bedrock's Converse and ConverseStream APIs. It implements
// [providers.Provider], [providers.Streamer] and [providers.Describer].
//
// A Provider is safe for concurrent use by multiple goroutines: it holds
// only the SDK client it was built with and keeps no per-call state. The
// zero value is not usable; create one with [New]. A nil or zero Provider
// returns an error from every call rather than panicking.
type Provider struct {
	client *bedrockruntime.Client
	info   providers.Info
	region string
}

// Compile-time checks that *Provider has every capability it promises.
var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Streamer  = (*Provider)(nil)
	_ providers.Describer = (*Provider)(nil)
)

// New returns a Provider that calls Bedrock Runtime as cfg says: its
// region, credentials (or Bedrock API key), HTTP client and endpoint.
// optFns adjust the SDK client's options as for
// bedrockruntime.NewFromConfig; set BaseEndpoint for a VPC endpoint or a
// test server:
//
//	p := bedrock.New(cfg, func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String("https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com") })
//
// The SDK's retries are always off: every call makes exactly one HTTP
// request, whatever cfg or optFns set (Retryer, RetryMaxAttempts,
// RetryMode), because the routing layer owns retries, with its own
// classification, delays and budget, and SDK retries inside one attempt
// would multiply them and hide failures from it. Timeouts likewise belong
// to the ctx of each call.
func New(cfg aws.Config, optFns ...func(*bedrockruntime.Options)) *Provider {
	fns := make([]func(*bedrockruntime.Options), 0, len(optFns)+1)
	fns = append(fns, optFns...)
	fns = append(fns, func(o *bedrockruntime.Options) {
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
		o.APIOptions = append(o.APIOptions, addMiddleware)
		o.HTTPClient = &doer{next: o.HTTPClient}
	})
	client := bedrockruntime.NewFromConfig(cfg, fns...)
	opts := client.Options()
	return &Provider{client: client, info: describe(opts), region: opts.Region}
}

// describe resolves the endpoint the client calls with the SDK's own
// endpoint rules (BaseEndpoint, else the regional, FIPS or dual-stack
// host), once, for Describe.
func describe(o bedrockruntime.Options) providers.Info {
	info := providers.Info{Name: "aws.bedrock"}
	if o.EndpointResolverV2 == nil {
		return info
	}
	params := bedrockruntime.EndpointParameters{
		Endpoint:     o.BaseEndpoint,
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
	}
	if o.Region != "" {
		params.Region = aws.String(o.Region)
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(context.Background(), params)
	if err != nil {
		return info
	}
	hi := providers.HostInfo((&url.URL{Scheme: ep.URI.Scheme, Host: ep.URI.Host}).String())
	info.Address, info.Port = hi.Address, hi.Port
	return info
}

// Describe says what p is and where it calls: "aws.bedrock", with the
// host and port of its endpoint (the BaseEndpoint, or the regional
// bedrock-runtime.<region>.amazonaws.com on 443).
func (p *Provider) Describe() providers.Info {
	if !p.usable() {
		return providers.Info{}
	}
	return p.info
}

// String describes p without its credentials.
func (p *Provider) String() string {
	if !p.usable() {
		return "bedrock.Provider(<nil>)"
	}
	return "bedrock.Provider(" + p.region + " " + p.info.Address + ")"
}

// GoString is String, so that %#v cannot print credentials either.
func (p *Provider) GoString() string { return p.String() }

// errNotCreated is returned by every method of a Provider not made by New.
var errNotCreated = errors.New("bedrock: Provider not created with New")

func (p *Provider) usable() bool { return p != nil && p.client != nil }

// Chat sends one Converse request: req.Request translated as the package
// documentation describes, with req.Call's headers on the HTTP request
// and its extra fields as additional model request fields. A request
// Converse cannot express is refused before sending, with a
// [*providers.Error] naming the field (Status 400, Code
// [CodeClientValidation]).
func (p *Provider) Chat(ctx context.Context, req providers.ChatRequest) (openai.ChatCompletionResponse, error) {
	if !p.usable() {
		return openai.ChatCompletionResponse{}, errNotCreated
	}
	if ctx == nil {
		return openai.ChatCompletionResponse{}, errors.New("bedrock: nil context")
	}
	in, err := buildParams(&req.Request, req.Extra)
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	cctx, st := withState(ctx, &req.Call)
	out, err := p.client.Converse(cctx, in.converse())
	if err != nil {
		return openai.ChatCompletionResponse{}, translate(ctx, st, "", err, inCall)
	}
	requestID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	return toResponse(out, req.Request.Model, st.redact(requestID), time.Now().Unix())
}
