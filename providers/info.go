package providers

import (
	"errors"
	"net/url"
	"strconv"
)

// ErrStreamClosed is what a Stream's Recv returns once Close has been
// called, matched with errors.Is. Every adapter and the fake return it (or
// an error wrapping it), and the routing layer's Stream returns the same
// value, so one check serves a caller at either layer.
var ErrStreamClosed = errors.New("providers: stream closed")

// Info says what a provider is and where it sends its calls, in the terms of
// the OpenTelemetry GenAI conventions, for traces and metrics.
type Info struct {
	// Name is the GenAI provider name: "openai", "azure.ai.openai",
	// "anthropic", "gcp.gemini", "gcp.vertex_ai", "aws.bedrock", or
	// another lowercase name for a provider the conventions do not list.
	Name string
	// Address is the host the provider calls, without scheme or port;
	// empty when unknown.
	Address string
	// Port is the port the provider calls, or 0 when unknown.
	Port int
}

// Describer is a Provider that says what it is and where it calls. It is
// optional: a Provider without it is reported with an empty Info.
type Describer interface {
	Describe() Info
}

// Describe returns p's Info, or the zero Info when p does not say.
func Describe(p Provider) Info {
	if d, ok := p.(Describer); ok {
		return d.Describe()
	}
	return Info{}
}

// HostInfo returns the Info address and port of a base URL such as
// "https://api.openai.com/v1", with the scheme's default port when the URL
// names none. Name is left empty for the adapter to fill in; a URL that
// does not parse gives the zero Info.
func HostInfo(baseURL string) Info {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return Info{}
	}
	info := Info{Address: u.Hostname()}
	if p := u.Port(); p != "" {
		info.Port, _ = strconv.Atoi(p)
	} else if u.Scheme == "https" {
		info.Port = 443
	} else if u.Scheme == "http" {
		info.Port = 80
	}
	return info
}

// ErrInvalidRequest marks a request an adapter refused before sending
// anything because the caller wrote something it cannot send: a body that
// cannot be encoded, a parameter the provider's API has no place for, a
// message it cannot translate. Wrap it (fmt.Errorf("%w: ...",
// ErrInvalidRequest)) and name what is wrong. The routing layer stops the
// call at once with its own ErrInvalidRequest and counts nothing against
// the target: no other target would take the request either.
var ErrInvalidRequest = errors.New("providers: invalid request")
