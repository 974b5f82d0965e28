package benchcpu_test

import (
	"testing"

	"github.com/llmroute/llmroute/internal/benchcpu"
)

// sink keeps the busy loop from being optimised away.
var sink int

func BenchmarkBusy(b *testing.B) {
	defer benchcpu.Start(b)()
	for b.Loop() {
		for i := range 10000 {
			sink += i
		}
	}
}

func TestReportsCPUPerOp(t *testing.T) {
	r := testing.Benchmark(BenchmarkBusy)
	cpu, ok := r.Extra["cpu-ns/op"]
	if !ok {
		t.Fatal("no cpu-ns/op reported")
	}
	// A busy loop on one goroutine uses at most about as much CPU as
	// wall time (a little more with the runtime's own work; less when the
	// machine's other work delays it).
	wall := float64(r.NsPerOp())
	if cpu <= 0 || cpu > wall*3 {
		t.Errorf("cpu-ns/op %.0f for %.0f ns/op of wall time, want some, and not more than the wall time allows", cpu, wall)
	}
}
