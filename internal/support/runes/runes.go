// Package runes cuts text without splitting a character. Every stage that
// reads customer text reads a bounded prefix of it (Prefix), so that no
// message costs more than a fixed amount of work however long it is; an
// endpoint's error text carried in an error is bounded in bytes (Truncate).
package runes

import "unicode/utf8"

// Prefix returns the first n characters of s, and whether s was longer. An
// invalid byte counts as one character, as when ranging over the string; a
// character is never split.
func Prefix(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false // never more characters than bytes
	}
	for i := range s {
		if n == 0 {
			return s[:i], true
		}
		n--
	}
	return s, false
}

// Truncate cuts s to at most n bytes, marking the cut with "…", for a
// message bounded in bytes (an endpoint's error text carried in an error):
// a character that would straddle the bound is left out whole.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
