// Package runes cuts text by characters. Every stage that reads customer
// text reads a bounded prefix of it, so that no message costs more than a
// fixed amount of work however long it is.
package runes

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
