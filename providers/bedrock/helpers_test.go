package bedrock_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	bed "github.com/llmroute/llmroute/providers/bedrock"
)

// Sentinel credentials: neither may ever appear in an error. The access
// key id travels in every request's Authorization header; the secret key
// never leaves the process.
const (
	testKeyID  = "AKIASENTINEL0KEY1234"
	testSecret = "SENTINELsecretKEY/abcdefghijklmnopqrstuv+0"
	testRegion = "us-east-1"
)

var testCreds = aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

// newProvider returns a Provider for the Bedrock-wire server at url,
// signing with the sentinel credentials.
func newProvider(t testing.TB, url string, client *http.Client, optFns ...func(*bedrockruntime.Options)) *bed.Provider {
	t.Helper()
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:  client,
	}
	fns := append([]func(*bedrockruntime.Options){func(o *bedrockruntime.Options) { o.BaseEndpoint = aws.String(url) }}, optFns...)
	return bed.New(cfg, fns...)
}
