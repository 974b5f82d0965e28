package bedrock_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its servers, streams and idle connections; goleak
// proves that no stream reader, server or transport goroutine outlives
// the tests.
//
// AWS_BEARER_TOKEN_BEDROCK would switch the SDK from the tests' SigV4
// credentials to a bearer token, so it is cleared for the whole run
// (tests of the bearer path set it themselves).
func TestMain(m *testing.M) {
	os.Unsetenv("AWS_BEARER_TOKEN_BEDROCK")
	goleak.VerifyTestMain(m)
}
