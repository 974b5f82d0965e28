// Package yamlpath holds the small helpers llmroute's YAML readers (the
// manifest and the simulator's scenario) share to name a field by its
// path and to describe a value in an error message.
package yamlpath

import (
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// Join appends a mapping key to a field path: "a.b" + "c" is "a.b.c".
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a field path: "a" and 2 give "a[2]".
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// Describe names what a node holds, for "want X, got Y" messages, quoting
// at most 40 characters of user input.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "the string " + strconv.Quote(clip(n.Value))
		case "!!null":
			return "null"
		case "!!int", "!!float", "!!bool":
			return clip(n.Value)
		}
		return "a value tagged " + clip(n.Tag)
	}
	return "an unexpected node"
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
