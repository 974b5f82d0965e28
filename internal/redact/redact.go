// Package redact keeps credentials out of the errors the provider
// adapters return. An adapter knows which texts show a credential (its
// redact function); this package walks the errors an error wraps and, when
// one of them shows a credential, puts a stand-in in the error's place.
package redact

import (
	"errors"
	"strconv"
)

// maxDepth bounds how many errors are followed along one chain of
// single-error wrapping, so a cyclic Unwrap cannot hang the caller.
const maxDepth = 32

// Any reports whether shows holds for err or for any error it wraps,
// through both Unwrap() error and Unwrap() []error.
func Any(err error, shows func(error) bool) bool {
	for depth := 0; err != nil && depth < maxDepth; depth++ {
		if shows(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if inner != nil && Any(inner, shows) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// Shows reports whether redact changes the text of err or of any error
// it wraps.
func Shows(err error, redact func(string) string) bool {
	return Any(err, func(e error) bool {
		msg := e.Error()
		return redact(msg) != msg
	})
}

// Err returns err, or, when redact changes the text of err or of any
// error it wraps, [Replace](err, redact(err.Error())).
func Err(err error, redact func(string) string) error {
	if err == nil || !Shows(err, redact) {
		return err
	}
	return Replace(err, redact(err.Error()))
}

// Replace returns an error whose text is msg and which matches errors.Is
// as orig does, but never unwraps to orig: errors.As, %+v and %#v cannot
// reach orig's text.
func Replace(orig error, msg string) error {
	return &redactedError{msg: msg, orig: orig}
}

// redactedError is an error whose text showed a credential. It keeps the
// original only for errors.Is, and never hands it out.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

// GoString prints only the redacted text, so %#v cannot show the original.
func (e *redactedError) GoString() string {
	return "redactedError{" + strconv.Quote(e.msg) + "}"
}

// Is reports whether the original error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }
