package gemini_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its servers, streams and idle connections; goleak
// proves that no stream, server or transport goroutine outlives the tests.
// The one goroutine ignored is opencensus's stats worker, which its
// package starts at init (genai imports it through cloud.google.com/go/auth)
// and which lives as long as the process, whatever the Provider does.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}
