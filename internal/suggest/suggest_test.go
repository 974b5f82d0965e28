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

// TestClosestAllowed checks that a key allowed refuses is never suggested,
// that the nearest allowed key wins, and that allowed is asked only about
// close keys.
func TestClosestAllowed(t *testing.T) {
	known := []string{"vault/secret-model", "lobby/chat", "lobby/chats", "topsecret", "top-secret"}
	hidden := map[string]bool{"vault/secret-model": true, "topsecret": true}
	tests := []struct{ in, want string }{
		{"vault/secret-modle", ""},
		{"lobby/chta", "lobby/chat"},
		{"lobby/chatz", "lobby/chat"},
		{"topsecre", "top-secret"}, // topsecret is nearer, but hidden
		{"lobby/c", "lobby/chat"},  // a prefix
		{"vault/sec", ""},          // a prefix of a hidden name only
	}
	for _, tt := range tests {
		var asked []string
		allowed := func(k string) bool {
			asked = append(asked, k)
			return !hidden[k]
		}
		if got := suggest.ClosestAllowed(tt.in, known, allowed); got != tt.want {
			t.Errorf("ClosestAllowed(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, k := range asked {
			if k != tt.want && !hidden[k] {
				t.Errorf("ClosestAllowed(%q) asked about %q, then suggested %q", tt.in, k, tt.want)
			}
		}
	}
}
