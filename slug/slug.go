package slug

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Length limits of names and slugs, in bytes (both are ASCII-only).
const (
	MinNameLen = 3
	MaxNameLen = 64
	MinSlugLen = 2
	MaxSlugLen = 62
)

// maxQuoted is how much of a rejected input an error message repeats.
const maxQuoted = 80

// ValidName checks a group or virtual-model name against
// ^[a-z][a-z0-9\-_]{1,62}[a-z0-9]$, that is 3–64 characters. The error,
// if any, says what is wrong.
func ValidName(s string) error {
	switch {
	case s == "":
		return errors.New("slug: name is empty")
	case !isLower(s[0]):
		return errorf(s, "must start with a lowercase letter")
	case len(s) < MinNameLen:
		return errorf(s, "is too short: a name has %d to %d characters", MinNameLen, MaxNameLen)
	case len(s) > MaxNameLen:
		return errorf(s, "is too long (%d bytes): a name has %d to %d characters", len(s), MinNameLen, MaxNameLen)
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '-' && c != '_' {
			return badChar(s, i, "lowercase letters, digits, '-' and '_'")
		}
	}
	if c := s[len(s)-1]; !isLower(c) && !isDigit(c) {
		return errorf(s, "must end with a lowercase letter or digit")
	}
	return nil
}

// ValidSlug checks a slug against
// ^[a-zA-Z](?:[a-zA-Z0-9\-._]{0,60}[a-zA-Z0-9])$, that is 2–62 characters:
// as the pattern says, a single letter is not a slug.
func ValidSlug(s string) error {
	switch {
	case s == "":
		return errors.New("slug: slug is empty")
	case !isLetter(s[0]):
		return errorf(s, "must start with a letter")
	case len(s) < MinSlugLen:
		return errorf(s, "is too short: a slug has %d to %d characters", MinSlugLen, MaxSlugLen)
	case len(s) > MaxSlugLen:
		return errorf(s, "is too long (%d bytes): a slug has %d to %d characters", len(s), MinSlugLen, MaxSlugLen)
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' {
			return badChar(s, i, "letters, digits, '-', '.' and '_'")
		}
	}
	if c := s[len(s)-1]; !isLetter(c) && !isDigit(c) {
		return errorf(s, "must end with a letter or digit")
	}
	return nil
}

// Ref is a model reference "prefix/model". For a target it is
// Account/Model, a real model of a provider account; for a virtual model
// the Account field holds the group name.
//
// The zero value is the empty reference; its String is "/". A Ref is a
// plain value and safe to copy and share.
type Ref struct{ Account, Model string }

// String returns "account/model".
func (r Ref) String() string { return r.Account + "/" + r.Model }

// ParseRef splits s at its first '/': "openrouter/meta-llama/llama-3"
// gives {Account: "openrouter", Model: "meta-llama/llama-3"}. Both sides
// must be non-empty and s must be valid UTF-8 without whitespace or
// control characters. ParseRef does not check the sides against
// [ValidName]; whether the prefix names a known group or account is for
// the caller to decide.
func ParseRef(s string) (Ref, error) {
	slash := -1
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '/' && slash < 0 {
				slash = i
			}
			// ASCII whitespace and control characters are all <= ' ' or DEL.
			if c <= ' ' || c == 0x7f {
				return Ref{}, errorf(s, "contains %s at byte %d", describe(rune(c)), i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return Ref{}, errorf(s, "is not valid UTF-8 at byte %d", i)
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return Ref{}, errorf(s, "contains %s at byte %d", describe(r), i)
		}
		i += size
	}
	switch {
	case s == "":
		return Ref{}, errors.New(`slug: model reference is empty; want "prefix/model"`)
	case slash < 0:
		return Ref{}, errorf(s, `has no '/'; want "prefix/model"`)
	case slash == 0:
		return Ref{}, errorf(s, `has an empty prefix before '/'; want "prefix/model"`)
	case slash == len(s)-1:
		return Ref{}, errorf(s, `has an empty model after '/'; want "prefix/model"`)
	}
	return Ref{Account: s[:slash], Model: s[slash+1:]}, nil
}

func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool { return isLower(c) || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func badChar(s string, i int, allowed string) error {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return errorf(s, "contains %s at byte %d; only %s may appear inside", describe(r), i, allowed)
}

// describe names a character for an error message.
func describe(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "an invalid byte"
	case unicode.IsSpace(r):
		return "whitespace " + strconv.QuoteRune(r)
	case unicode.IsControl(r):
		return "control character " + strconv.QuoteRune(r)
	}
	return strconv.QuoteRune(r)
}

// errorf formats `slug: "<s>" <msg>`, quoting at most maxQuoted
// characters of s.
func errorf(s, format string, args ...any) error {
	return fmt.Errorf("slug: %s %s", quote(s), fmt.Sprintf(format, args...))
}

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
