package metadata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Header is the HTTP header whose value [Parse] reads.
const Header = "x-tfy-metadata"

// Limits enforced by [Parse]. Lengths count characters (runes), not bytes.
const (
	MaxKeys     = 64
	MaxKeyLen   = 128
	MaxValueLen = 128
)

// MD is request metadata: keys and values are compared exactly.
//
// A nil or empty MD has no pairs; it matches an empty want and nothing
// else. An MD is a map: reading it from many goroutines is safe, writing
// is not, so an MD placed in a context or returned by [Merge] must be
// treated as read-only.
type MD map[string]string

type contextKey struct{}

// NewContext returns a copy of ctx carrying md. The map is stored, not
// copied: the caller must not modify md afterwards, since other
// goroutines handling the request may read it.
func NewContext(ctx context.Context, md MD) context.Context {
	return context.WithValue(ctx, contextKey{}, md)
}

// FromContext returns the metadata stored in ctx by [NewContext], and
// whether there was any. The result must not be modified.
func FromContext(ctx context.Context) (MD, bool) {
	md, ok := ctx.Value(contextKey{}).(MD)
	return md, ok
}

// Parse reads the x-tfy-metadata header value, a JSON object whose values
// are all strings, such as {"tier":"enterprise","tfy_gateway_region":"US"}.
//
// It fails on empty or blank input, anything other than a single JSON
// object, a non-string value, a duplicate or empty key, more than
// [MaxKeys] keys, a key longer than [MaxKeyLen] or a value longer than
// [MaxValueLen] characters. Errors name the offending key. An empty
// object "{}" gives an empty, non-nil MD.
//
// Invalid UTF-8 inside JSON strings is replaced by U+FFFD, as
// encoding/json does.
func Parse(header string) (MD, error) {
	if strings.TrimSpace(header) == "" {
		return nil, errors.New("metadata: header is empty; want a JSON object of strings")
	}
	dec := json.NewDecoder(strings.NewReader(header))
	dec.UseNumber() // a number is rejected anyway; don't spend time converting it
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("metadata: header is %s, want a JSON object of strings", kind(tok))
	}
	md := make(MD)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		key, ok := tok.(string)
		if !ok { // the decoder yields only string keys; guard anyway, never panic on input
			return nil, fmt.Errorf("metadata: object key is %s, want a string", kind(tok))
		}
		if len(md) == MaxKeys {
			return nil, fmt.Errorf("metadata: too many keys: at most %d allowed", MaxKeys)
		}
		switch n := utf8.RuneCountInString(key); {
		case n == 0:
			return nil, errors.New("metadata: empty key")
		case n > MaxKeyLen:
			return nil, fmt.Errorf("metadata: key %s is too long: %d characters, at most %d", quote(key), n, MaxKeyLen)
		}
		if _, dup := md[key]; dup {
			return nil, fmt.Errorf("metadata: key %s appears twice", quote(key))
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		val, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("metadata: value of key %s is %s, want a string", quote(key), kind(tok))
		}
		if n := utf8.RuneCountInString(val); n > MaxValueLen {
			return nil, fmt.Errorf("metadata: value of key %s is too long: %d characters, at most %d", quote(key), n, MaxValueLen)
		}
		md[key] = val
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("metadata: unexpected data after the JSON object")
	}
	return md, nil
}

// Merge returns base overlaid by over: every pair of over, plus the pairs
// of base whose keys over lacks. When either is empty it returns the other
// itself without allocating, so the result may share storage with an
// argument and must be treated as read-only.
func Merge(base, over MD) MD {
	switch {
	case len(over) == 0:
		return base
	case len(base) == 0:
		return over
	}
	md := make(MD, len(base)+len(over))
	for k, v := range base {
		md[k] = v
	}
	for k, v := range over {
		md[k] = v
	}
	return md
}

// Matches reports whether every pair in want is present in md with an
// equal value. Every md matches an empty want. It does not allocate.
func (md MD) Matches(want MD) bool {
	for k, w := range want {
		if v, ok := md[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// Unmet returns, sorted, the keys of want that md lacks or holds with a
// different value; nil when md matches want.
func (md MD) Unmet(want MD) []string {
	var keys []string
	for k, w := range want {
		if v, ok := md[k]; !ok || v != w {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// kind names the JSON value a token starts, for error messages.
func kind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

func syntaxError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("metadata: header is not valid JSON: unexpected end of input")
	}
	return fmt.Errorf("metadata: header is not valid JSON: %w", err)
}

// maxQuoted is how much of a key an error message repeats.
const maxQuoted = 80

func quote(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}
