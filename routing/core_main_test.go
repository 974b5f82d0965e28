package routing_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: no
// call, stream or test server may leave one behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
