package routing

import (
	"net/http"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// hasTools reports whether a chat request is an agent-style call whose
// prompt is its own.
func hasTools(r *openai.ChatCompletionRequest) bool {
	return len(r.Tools) > 0 || len(r.Functions) > 0
}

// mergeHeaders returns the headers for one attempt: the caller's, with the
// target's set on top. It allocates only when both are present. The
// common cases are inlined into the caller.
func mergeHeaders(req, set http.Header) http.Header {
	switch {
	case len(set) == 0:
		return req
	case len(req) == 0:
		return set
	}
	return merged(req, set)
}

// merged is mergeHeaders when both req and set hold headers.
func merged(req, set http.Header) http.Header {
	// Callers may build headers as map literals with any key case; the
	// target's value must replace theirs, not travel beside it.
	h := make(http.Header, len(req)+len(set))
	for k, v := range req {
		h[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range set {
		h[k] = v
	}
	return h
}

// canonicalHeaders turns a headers_override.set map into an http.Header.
func canonicalHeaders(set map[string]string) http.Header {
	if len(set) == 0 {
		return nil
	}
	h := make(http.Header, len(set))
	for k, v := range set {
		h[http.CanonicalHeaderKey(strings.TrimSpace(k))] = []string{v}
	}
	return h
}
