package anthropic_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its servers, streams and idle connections; goleak
// proves that no stream, server or transport goroutine outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
