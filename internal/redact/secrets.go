package redact

import "strings"

// Text replaces a credential in messages.
const Text = "[REDACTED]"

// MinSecretLen is the shortest credential worth redacting. Shorter values
// are placeholders (local servers take any key, e.g. "none"), and
// replacing them everywhere would garble messages for no privacy gain.
const MinSecretLen = 8

// Secrets holds the credentials one call has sent, for [Secrets.Redact].
// The zero value holds none. A request carries at most a few; when more
// distinct ones arrive (only odd header overrides do that), the newest
// takes the last slot.
type Secrets [4]string

// Add remembers v, unless it is shorter than [MinSecretLen] or already
// held.
func (s *Secrets) Add(v string) {
	if len(v) < MinSecretLen {
		return
	}
	for i, have := range s {
		switch have {
		case v:
			return
		case "":
			s[i] = v
			return
		}
	}
	s[len(s)-1] = v
}

// Redact returns text with every credential s holds replaced by [Text].
func (s *Secrets) Redact(text string) string {
	for _, sec := range s {
		if sec != "" && strings.Contains(text, sec) {
			text = strings.ReplaceAll(text, sec, Text)
		}
	}
	return text
}
