package redis_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every client the tests make is closed at cleanup, and the Store starts
// no goroutines of its own, so none may be left at the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
