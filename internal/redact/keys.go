package redact

import "strings"

// isKeyByte reports whether c may appear in an API key.
func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Keys replaces every key in text shaped as prefix followed by at least
// minTail key characters (letters, digits, '-' and '_') with
// prefix+[Text], in case a server echoes a key the call never sent. With
// wordStart, a key counts only where it does not continue a word ("ask-…"
// is not an "sk-" key).
func Keys(text, prefix string, minTail int, wordStart bool) string {
	i := strings.Index(text, prefix)
	if i < 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for i >= 0 {
		start := last + i
		end := start + len(prefix)
		for end < len(text) && isKeyByte(text[end]) {
			end++
		}
		b.WriteString(text[last:start])
		if (!wordStart || start == 0 || !isKeyByte(text[start-1])) && end-start-len(prefix) >= minTail {
			b.WriteString(prefix + Text)
		} else {
			b.WriteString(text[start:end])
		}
		last = end
		i = strings.Index(text[last:], prefix)
	}
	b.WriteString(text[last:])
	return b.String()
}
