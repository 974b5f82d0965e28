// Package httpheader holds the checks llmroute applies to HTTP header
// names and values wherever a configuration, a scenario or a caller
// supplies them, so that all of them accept the same headers, and the
// one way the adapters apply an attempt's headers to a request.
package httpheader

import "net/http"

// ValidName reports whether s is an HTTP header field name: a token
// (RFC 9110 §5.6.2).
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isToken[s[i]] {
			return false
		}
	}
	return true
}

// ValidValue reports whether s may be sent as an HTTP header value: it
// rejects CR, LF and NUL, which could split or smuggle headers.
func ValidValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if isBreak[s[i]] {
			return false
		}
	}
	return true
}

// The checks read a table per byte rather than comparing with sets of
// characters: callers' headers are checked on every routed call.
var (
	// isToken: the bytes of a token, tchar in RFC 9110 §5.6.2.
	isToken = table("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~")
	// isBreak: the bytes no header value may hold.
	isBreak = table("\r\n\x00")
)

func table(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

// Apply sets an attempt's headers on h, each replacing any values h had
// for its name, then deletes the names in remove: the order in which
// every adapter applies a target's headers_override and
// headers_to_remove.
func Apply(h, set http.Header, remove []string) {
	for k, vs := range set {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, k := range remove {
		h.Del(k)
	}
}
