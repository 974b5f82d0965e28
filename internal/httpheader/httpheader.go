// Package httpheader holds the checks llmroute applies to HTTP header
// names and values wherever a configuration, a scenario or a caller
// supplies them, so that all of them accept the same headers.
package httpheader

import "strings"

// ValidName reports whether s is an HTTP header field name: a token
// (RFC 9110 §5.6.2).
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// ValidValue reports whether s may be sent as an HTTP header value: it
// rejects CR, LF and NUL, which could split or smuggle headers.
func ValidValue(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}
