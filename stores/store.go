package stores

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Store holds routing state that replicas of a service share. It holds
// sticky pins: a session key mapped to the target that serves
// the session, for a time that each use extends.
//
// Routing calls a Store on the path of every sticky call, so an
// implementation must answer promptly or fail promptly: a Store error
// never fails a call, it only means the call is routed without its pin.
// Implementations must be safe for concurrent use.
//
// More kinds of state will come as further interfaces that a Store may
// also implement, found with a type assertion, so that adding one breaks
// no existing implementation.
type Store interface {
	// GetPin returns the pin held for key and, when ttl > 0, makes it live
	// ttl from now: each use of a pin refreshes it. An implementation may
	// refresh with a granularity, leaving the expiry as it is when the
	// refresh would move it by no more than ttl/64 or one second,
	// whichever is less ([Memory] does; stores/redis refreshes exactly):
	// a pin in use then expires within that much of ttl after its last
	// use. A ttl <= 0 reads the pin without changing its expiry. ok is
	// false when key has no pin or its pin has expired; that is not an
	// error.
	GetPin(ctx context.Context, key string, ttl time.Duration) (pin Pin, ok bool, err error)

	// SetPin pins key to pin for ttl, replacing any pin key had. It
	// returns an error that matches [ErrInvalidTTL] (errors.Is) when
	// ttl <= 0, and [ErrNoTarget] when pin.Target is empty, and then
	// leaves key's pin as it was; [CheckPin] makes these checks.
	SetPin(ctx context.Context, key string, pin Pin, ttl time.Duration) error
}

// Errors of [Store.SetPin] for invalid input.
var (
	// ErrInvalidTTL: the pin's ttl is zero or negative.
	ErrInvalidTTL = errors.New("stores: pin ttl must be positive")
	// ErrNoTarget: the pin's Target is empty.
	ErrNoTarget = errors.New("stores: pin has no target")
)

// CheckPin returns the error [Store.SetPin] must return for pin and ttl:
// [ErrInvalidTTL] when ttl <= 0, else [ErrNoTarget] when pin.Target is
// empty, else nil. Implementations call it before writing anything.
func CheckPin(pin Pin, ttl time.Duration) error {
	switch {
	case ttl <= 0:
		return ErrInvalidTTL
	case pin.Target == "":
		return ErrNoTarget
	}
	return nil
}

// Pin is where a sticky session is routed. Its zero value is no pin.
type Pin struct {
	// Target is the target serving the session, "account/model".
	Target string
}

// Funcs is a Store made of two functions, for tests (a Store that fails,
// or stalls) and for wrapping another Store. A nil GetPinFunc finds no
// pins and a nil SetPinFunc drops them, so the zero Funcs is a Store that
// never pins anything. Funcs is as safe for concurrent use as its
// functions are.
type Funcs struct {
	GetPinFunc func(ctx context.Context, key string, ttl time.Duration) (Pin, bool, error)
	SetPinFunc func(ctx context.Context, key string, pin Pin, ttl time.Duration) error
}

var _ Store = Funcs{}

// GetPin calls f.GetPinFunc, if set.
func (f Funcs) GetPin(ctx context.Context, key string, ttl time.Duration) (Pin, bool, error) {
	if f.GetPinFunc == nil {
		return Pin{}, false, nil
	}
	return f.GetPinFunc(ctx, key, ttl)
}

// SetPin calls f.SetPinFunc, if set.
func (f Funcs) SetPin(ctx context.Context, key string, pin Pin, ttl time.Duration) error {
	if f.SetPinFunc == nil {
		return nil
	}
	return f.SetPinFunc(ctx, key, pin, ttl)
}

// MaxSessionKeyLen is the length of the longest session key that
// [SessionKey] returns in full; it shortens longer ones to a digest.
const MaxSessionKeyLen = 256

// SessionKey returns the sticky-session key of a call to the virtual
// model named model whose session identifiers have the given values, in
// the order the virtual model lists its identifiers.
//
// Distinct inputs give distinct keys: the model and each value are joined
// with '|', after escaping '\' as `\\` and '|' as `\|` inside each of
// them, so ("a|b", "c") and ("a", "b|c") cannot meet. A key that needs no
// escaping stays readable: SessionKey("team/chat", []string{"abc"}) is
// "team/chat|abc".
//
// Session identifiers come from callers, so their length is bounded
// here, where it costs memory in every Store: when the key would be
// longer than [MaxSessionKeyLen] bytes, its values are replaced by `\#`
// and the hex SHA-256 digest of the whole key, so that it is the escaped
// model and 67 bytes (196 bytes at most for a valid group/model name).
// `\#` cannot occur in an escaped value, so such a key meets no other key
// unless SHA-256 collides.
//
// Give the model's canonical group/model name, not a slug, so that both
// spellings of a model share their sessions.
func SessionKey(model string, values []string) string {
	var buf [MaxSessionKeyLen]byte
	return string(appendSessionKey(buf[:0], model, values))
}

// appendSessionKey appends SessionKey(model, values) to dst. A key fits
// in MaxSessionKeyLen bytes, so a caller appending to a buffer of that
// capacity on its stack builds it without allocating (a longer key, before
// its digest, allocates).
func appendSessionKey(dst []byte, model string, values []string) []byte {
	n, esc := sessionKeySize(model, values)
	return appendSizedKey(dst, model, values, n, esc)
}

// sessionKeySize returns the length of SessionKey(model, values) before
// any shortening, and how many of its bytes are escapes.
func sessionKeySize(model string, values []string) (n, esc int) {
	n = len(model) + len(values)
	esc = escapes(model)
	for _, v := range values {
		n += len(v)
		esc += escapes(v)
	}
	return n + esc, esc
}

// appendSizedKey is appendSessionKey given sessionKeySize's answers.
func appendSizedKey(dst []byte, model string, values []string, n, esc int) []byte {
	if n > MaxSessionKeyLen {
		sum := sha256.Sum256(appendKey(make([]byte, 0, n), model, values, esc))
		dst = appendEscaped(dst, model)
		dst = append(dst, `|\#`...)
		return hex.AppendEncode(dst, sum[:])
	}
	return appendKey(dst, model, values, esc)
}

// appendKey appends model and values joined with '|', each escaped when
// esc (their count of bytes to escape) is not 0.
func appendKey(dst []byte, model string, values []string, esc int) []byte {
	if esc == 0 {
		// The common case: nothing to escape, so no byte-by-byte copy.
		dst = append(dst, model...)
		for _, v := range values {
			dst = append(dst, '|')
			dst = append(dst, v...)
		}
		return dst
	}
	dst = appendEscaped(dst, model)
	for _, v := range values {
		dst = append(dst, '|')
		dst = appendEscaped(dst, v)
	}
	return dst
}

// escapes counts the bytes of s that SessionKey escapes.
func escapes(s string) int {
	if !mayEscape(s) {
		return 0
	}
	if len(s) > 64 {
		return strings.Count(s, `\`) + strings.Count(s, "|")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '|' {
			n++
		}
	}
	return n
}

func appendEscaped(dst []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, `\|`)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, '\\', s[i])
		s = s[i+1:]
	}
}

// mayEscape reports whether s holds a byte SessionKey escapes, '\\' or
// '|', looking at eight bytes at a time: those two are the only bytes b
// with b|0x20 == '|', and a word has a zero byte exactly when
// (v-0x01…01) &^ v & 0x80…80 is not zero. Most keys escape nothing,
// and this is the whole cost of finding that out.
func mayEscape(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for len(s) >= 8 {
		t := s[:8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		v := (w | 0x2020202020202020) ^ 0x7c7c7c7c7c7c7c7c
		if (v-ones)&^v&highs != 0 {
			return true
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '|' {
			return true
		}
	}
	return false
}
