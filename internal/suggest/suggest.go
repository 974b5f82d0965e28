// Package suggest finds the known key a user most likely meant when a
// configuration file has a key llmroute does not know, so load errors can
// say "did you mean ...?".
package suggest

import (
	"slices"
	"strings"
)

// Closest returns the key of known nearest to k: within an edit distance
// of 2, or else (for k of 3 or more characters) the first known key that
// starts with k, as when a unit is left off ("p99" for "p99_ms"). It
// returns "" when nothing is close.
func Closest(k string, known []string) string {
	return ClosestAllowed(k, known, nil)
}

// ClosestAllowed is Closest among the keys that allowed accepts (every key
// when allowed is nil), for names some callers may not see. allowed is
// asked only about close keys, nearest first, and only until one is
// accepted, so it may be costly.
func ClosestAllowed(k string, known []string, allowed func(string) bool) string {
	type near struct {
		key  string
		dist int
	}
	var close []near
	for _, c := range known {
		if dist := distance(k, c); dist < 3 {
			close = append(close, near{c, dist})
		}
	}
	slices.SortStableFunc(close, func(a, b near) int { return a.dist - b.dist })
	for _, n := range close {
		if allowed == nil || allowed(n.key) {
			return n.key
		}
	}
	if len(k) >= 3 {
		for _, c := range known {
			if strings.HasPrefix(c, k) && (allowed == nil || allowed(c)) {
				return c
			}
		}
	}
	return ""
}

// distance is the Levenshtein distance of two short keys; keys longer
// than 64 bytes are never close, which keeps hostile input cheap.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
