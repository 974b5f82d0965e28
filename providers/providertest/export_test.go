package providertest

import "time"

// ShortenWaits makes the suite give up sooner, for the tests that break a
// provider on purpose and want to see the suite say so without waiting
// out its generous bounds. It is only for a test process of its own.
func ShortenWaits() {
	promptly = 300 * time.Millisecond
	hang = 5 * time.Second
	leakWait = time.Second
}
