package bedrock_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/google/go-cmp/cmp"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
)

// TestDescribe: the GenAI provider name and the endpoint's host and port,
// as the SDK's endpoint rules resolve them.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name   string
		region string
		opt    func(*bedrockruntime.Options)
		want   providers.Info
	}{
		{"regional", "us-west-2", nil, providers.Info{Name: "aws.bedrock", Address: "bedrock-runtime.us-west-2.amazonaws.com", Port: 443}},
		{"FIPS", "us-east-1", func(o *bedrockruntime.Options) { o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled },
			providers.Info{Name: "aws.bedrock", Address: "bedrock-runtime-fips.us-east-1.amazonaws.com", Port: 443}},
		{"VPC endpoint", "eu-central-1", func(o *bedrockruntime.Options) {
			o.BaseEndpoint = aws.String("https://vpce-0abc-123.bedrock-runtime.eu-central-1.vpce.amazonaws.com")
		}, providers.Info{Name: "aws.bedrock", Address: "vpce-0abc-123.bedrock-runtime.eu-central-1.vpce.amazonaws.com", Port: 443}},
		{"local server", "us-east-1", func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:8123") },
			providers.Info{Name: "aws.bedrock", Address: "127.0.0.1", Port: 8123}},
		{"no region", "", nil, providers.Info{Name: "aws.bedrock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := aws.Config{Region: tt.region, Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")}
			var opts []func(*bedrockruntime.Options)
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			p := bed.New(cfg, opts...)
			if diff := cmp.Diff(p.Describe(), tt.want); diff != "" {
				t.Errorf("Describe (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(providers.Describe(p), tt.want); diff != "" {
				t.Errorf("providers.Describe (-got +want):\n%s", diff)
			}
		})
	}
}
