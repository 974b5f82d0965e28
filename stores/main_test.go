package stores_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Memory starts no goroutines; none may be left behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
