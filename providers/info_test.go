package providers_test

import (
	"context"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/llmroute/llmroute/providers"
	"github.com/llmroute/llmroute/providers/fake"
	oai "github.com/llmroute/llmroute/providers/openai"
)

// silent is a Provider that does not say what it is.
type silent struct{}

func (silent) Chat(context.Context, providers.ChatRequest) (goopenai.ChatCompletionResponse, error) {
	return goopenai.ChatCompletionResponse{}, nil
}

func TestDescribe(t *testing.T) {
	azure := goopenai.DefaultAzureConfig("k", "https://my-res.openai.azure.com")
	local := goopenai.DefaultConfig("k")
	local.BaseURL = "http://127.0.0.1:8080/v1"
	for _, tc := range []struct {
		name string
		p    providers.Provider
		want providers.Info
	}{
		{"openai", oai.New(goopenai.DefaultConfig("k")), providers.Info{Name: "openai", Address: "api.openai.com", Port: 443}},
		{"azure", oai.New(azure), providers.Info{Name: "azure.ai.openai", Address: "my-res.openai.azure.com", Port: 443}},
		{"compatible server", oai.New(local), providers.Info{Name: "openai", Address: "127.0.0.1", Port: 8080}},
		{"fake", fake.New(), providers.Info{Name: "fake"}},
		{"no Describe", silent{}, providers.Info{}},
		{"nil", nil, providers.Info{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := providers.Describe(tc.p); got != tc.want {
				t.Errorf("Describe = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHostInfo(t *testing.T) {
	for in, want := range map[string]providers.Info{
		"https://api.anthropic.com":         {Address: "api.anthropic.com", Port: 443},
		"http://localhost/v1":               {Address: "localhost", Port: 80},
		"http://[::1]:9000/v1":              {Address: "::1", Port: 9000},
		"not a url":                         {},
		"":                                  {},
		"https://bedrock.example:8443/path": {Address: "bedrock.example", Port: 8443},
	} {
		if got := providers.HostInfo(in); got != want {
			t.Errorf("HostInfo(%q) = %+v, want %+v", in, got, want)
		}
	}
}
