package suggest_test

import (
	"strings"
	"testing"

	"github.com/llmroute/llmroute/internal/suggest"
)

func TestClosest(t *testing.T) {
	known := []string{"weight", "priority", "retry_config", "p99_ms", "p50_ms"}
	tests := []struct{ in, want string }{
		{"wieght", "weight"},
		{"priorty", "priority"},
		{"retry_confg", "retry_config"},
		{"p99", "p99_ms"},
		{"zzz", ""},
		{"ab", ""},
		{strings.Repeat("x", 1000), ""},
	}
	for _, tt := range tests {
		if got := suggest.Closest(tt.in, known); got != tt.want {
			t.Errorf("Closest(%.20q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
