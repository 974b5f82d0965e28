package bedrock_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/llmroute/llmroute/providers"
	bed "github.com/llmroute/llmroute/providers/bedrock"
	"github.com/llmroute/llmroute/providers/bedrock/bedrocktest"
)

// TestNoRetries checks that every call makes exactly one HTTP request,
// for every failure the SDK would retry, for Chat and ChatStream, however
// the configuration or an option function asks for retries.
func TestNoRetries(t *testing.T) {
	failures := map[string]handler{
		"ThrottlingException":         failWith(429, "ThrottlingException", "slow down"),
		"ModelNotReadyException":      failWith(429, "ModelNotReadyException", "warming up"),
		"InternalServerException":     failWith(500, "InternalServerException", "oops"),
		"ServiceUnavailableException": failWith(503, "ServiceUnavailableException", "busy"),
		"ModelTimeoutException":       failWith(408, "ModelTimeoutException", "slow model"),
		"plain 502":                   func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) { w.WriteHeader(502) },
		"connection closed": func(w http.ResponseWriter, r *http.Request, req bedrocktest.Request) {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		},
	}
	standard := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	configs := map[string]func(cfg *aws.Config) []func(*bedrockruntime.Options){
		"default":                 func(*aws.Config) []func(*bedrockruntime.Options) { return nil },
		"config RetryMaxAttempts": func(cfg *aws.Config) []func(*bedrockruntime.Options) { cfg.RetryMaxAttempts = 5; return nil },
		"config Retryer":          func(cfg *aws.Config) []func(*bedrockruntime.Options) { cfg.Retryer = standard; return nil },
		"config adaptive mode": func(cfg *aws.Config) []func(*bedrockruntime.Options) {
			cfg.RetryMode = aws.RetryModeAdaptive
			return nil
		},
		"option Retryer": func(*aws.Config) []func(*bedrockruntime.Options) {
			return []func(*bedrockruntime.Options){func(o *bedrockruntime.Options) { o.Retryer = standard() }}
		},
		"option RetryMaxAttempts": func(*aws.Config) []func(*bedrockruntime.Options) {
			return []func(*bedrockruntime.Options){func(o *bedrockruntime.Options) { o.RetryMaxAttempts = 5 }}
		},
	}
	for fname, h := range failures {
		for cname, configure := range configs {
			t.Run(fname+"/"+cname, func(t *testing.T) {
				srv := newServer(t, h)
				cfg := aws.Config{
					Region:      testRegion,
					Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
					HTTPClient:  srv.Client(),
				}
				opts := append([]func(*bedrockruntime.Options){func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(srv.URL) }}, configure(&cfg)...)
				p := bed.New(cfg, opts...)
				if _, err := p.Chat(t.Context(), providers.ChatRequest{Request: userRequest("Hi")}); err == nil {
					t.Fatal("Chat succeeded; want the failure")
				}
				if got := len(srv.requests()); got != 1 {
					t.Errorf("Chat sent %d requests; want 1", got)
				}
				if _, err := p.ChatStream(t.Context(), providers.ChatRequest{Request: userRequest("Hi")}); err == nil {
					t.Fatal("ChatStream succeeded; want the failure")
				}
				if got := len(srv.requests()); got != 2 {
					t.Errorf("ChatStream sent %d requests; want 1", got-1)
				}
			})
		}
	}
}
