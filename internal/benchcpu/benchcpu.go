// Package benchcpu reports the CPU time a benchmark used per operation,
// beside the wall time testing.B reports. On a shared machine a loopback
// call's wall time moves by tens of percent with the neighbours' load; the
// CPU time the process spends on it moves far less, so ratios of CPU time
// between variants measured in one run are the steadier comparison.
//
//	for b.Loop() { ... }   // after: defer benchcpu.Start(b)()
//
// The figure is the process's user and system time (getrusage), so it
// includes every goroutine of the process: a loopback server in the same
// test binary is counted for every variant alike.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Start begins measuring b; the function it returns, called once the
// benchmark's loop is done, reports "cpu-ns/op".
func Start(b *testing.B) func() {
	b.Helper()
	before, ok := cpu()
	return func() {
		after, ok2 := cpu()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(after-before)/float64(b.N), "cpu-ns/op")
		}
	}
}

// cpu returns the process's user plus system time so far.
func cpu() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
