package openai_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its servers and idle connections; goleak proves that
// no stream, server or transport goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
