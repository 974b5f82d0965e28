package soak_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: the
// soak's own leak check counts goroutines, this one names them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
