package strategy_test

import (
	"slices"
	"testing"

	"github.com/llmroute/llmroute/strategy"
)

func TestSetIndices(t *testing.T) {
	for _, want := range [][]int{nil, {0}, {63}, {1, 5, 9}, {0, 1, 2, 62, 63}} {
		var s strategy.Set
		for _, i := range want {
			s |= strategy.Of(i)
		}
		if got := slices.Collect(s.Indices()); !slices.Equal(got, want) {
			t.Errorf("Indices of %v = %v, want %v", want, got, want)
		}
	}
	// Stopping early stops the walk.
	s := strategy.Of(1) | strategy.Of(2) | strategy.Of(3)
	var seen []int
	for i := range s.Indices() {
		seen = append(seen, i)
		if i == 2 {
			break
		}
	}
	if !slices.Equal(seen, []int{1, 2}) {
		t.Errorf("a walk stopped at 2 saw %v", seen)
	}
	if n := testing.AllocsPerRun(100, func() {
		for range s.Indices() {
		}
	}); n != 0 {
		t.Errorf("Indices allocates %v times a walk, want 0", n)
	}
}
