// Package problems formats a list of configuration problems as one error,
// the way every llmroute loader reports them: all at once, one to a line.
package problems

import (
	"strconv"
	"strings"
)

// Text is the message of a list of problems under a prefix such as
// "config: ": the one problem on the same line, or a count and each
// problem on a line of its own.
func Text[E error](prefix string, es []E) string {
	if len(es) == 1 {
		return prefix + es[0].Error()
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(strconv.Itoa(len(es)))
	b.WriteString(" problems:")
	for _, e := range es {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func Unwrap[E error](es []E) []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
