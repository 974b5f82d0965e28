package httpheader_test

import (
	"testing"

	"github.com/llmroute/llmroute/internal/httpheader"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"X-Session-Id", true},
		{"api-version", true},
		{"x_custom.1~|`^!#$%&'*+", true},
		{"", false},
		{"X Session", false},
		{"X-Session:", false},
		{"Ünicode", false},
		{"a\r\nb", false},
		{"(x)", false},
	} {
		if got := httpheader.ValidName(tc.name); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidValue(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"", true},
		{"2024-10-21", true},
		{"text with spaces\tand a tab", true},
		{"a\rb", false},
		{"a\nb", false},
		{"a\x00b", false},
	} {
		if got := httpheader.ValidValue(tc.value); got != tc.want {
			t.Errorf("ValidValue(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}
