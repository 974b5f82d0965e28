package yamlpath_test

import (
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/llmroute/llmroute/internal/yamlpath"
)

func TestPaths(t *testing.T) {
	if got := yamlpath.Join("", "a"); got != "a" {
		t.Errorf(`Join("", "a") = %q`, got)
	}
	if got := yamlpath.Index(yamlpath.Join("a", "b"), 2); got != "a.b[2]" {
		t.Errorf("Index(Join) = %q, want a.b[2]", got)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"{a: 1}", "a mapping"},
		{"[1]", "a list"},
		{"hot", `the string "hot"`},
		{"~", "null"},
		{"12", "12"},
		{"true", "true"},
		{"!!binary aGk=", "a value tagged !!binary"},
		{strings.Repeat("x", 100), `the string "` + strings.Repeat("x", 40) + `…"`},
	}
	for _, tt := range tests {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tt.yaml), &doc); err != nil {
			t.Fatal(err)
		}
		n := doc.Content[0]
		if got := yamlpath.Describe(n); got != tt.want {
			t.Errorf("Describe(%.20q) = %q, want %q", tt.yaml, got, tt.want)
		}
		if got, want := yamlpath.IsNull(n), tt.want == "null"; got != want {
			t.Errorf("IsNull(%.20q) = %v, want %v", tt.yaml, got, want)
		}
	}
}
