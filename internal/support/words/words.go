// Package words is the text normalisation that the tagger and retrieval
// share: folding Unicode to plain letters, and a light English stemmer.
package words

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold decomposes s and drops combining marks so "café" matches "cafe",
// and maps typographic apostrophes to the ASCII one. It stops after n
// runes, because decomposition can multiply a text's length: U+FDFA alone
// becomes 18 runes. The callers read the first n characters of a text (the
// tagger's and retrieval's MaxTextRunes) and fold them with the same n; an
// ASCII s, which folding does not lengthen, is returned as it is.
func Fold(s string, n int) string {
	if IsASCII(s) {
		return s
	}
	var (
		b  strings.Builder
		it norm.Iter
		i  int
	)
	b.Grow(len(s))
	it.InitString(norm.NFKD, s)
	for !it.Done() {
		for _, r := range string(it.Next()) {
			if i == n {
				return b.String()
			}
			switch {
			case unicode.Is(unicode.Mn, r):
				continue
			case r == '\u2019' || r == '\u2018' || r == '\u02bc':
				b.WriteByte('\'')
			default:
				b.WriteRune(r)
			}
			i++
		}
	}
	return b.String()
}

// IsASCII reports whether s is all ASCII.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Stem strips English inflections so that "refunds", "refunded" and
// "refunding" meet at "refund", "charge", "charges" and "charged" at "charg",
// and "deliveries" at "delivery". It is deliberately light: derivations are
// kept apart ("payment" is not "pay"), because rules name such words
// separately anyway, and the stems only ever have to agree with themselves
// since what is matched and what it is matched against go through the same
// function. A full Snowball stemmer costs about ten microseconds a word, too
// much for a per-message budget.
func Stem(w string) string { return stem(w, 3) }

// StemLight is Stem, except that a stem of three letters keeps its double
// letter: "added" and "adding" give "add" rather than "ad", "erred" gives
// "err" rather than "er" ("logged" gives "log" with both). Retrieval uses
// it: its thesaurus has "add" (a way to provide something), which "added"
// and "adding" only meet as "add", and its thesaurus and threshold were
// tuned with StemLight; with Stem its figures move (the share of
// out-of-scope questions drafted at a min_score of 0.05 and 0.15). The
// tagger uses Stem, as its rules were written with it.
func StemLight(w string) string { return stem(w, 4) }

// stem is Stem and StemLight: a double letter at the end of a stem of at
// least minDouble letters is undone.
func stem(w string, minDouble int) string {
	if len(w) <= 3 || !IsASCII(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "ied") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "eed"):
	case strings.HasSuffix(w, "ed") && hasVowel(w[:len(w)-2]) && len(w) > 4:
		w = undouble(w[:len(w)-2], minDouble)
	case strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]) && len(w) > 5:
		w = undouble(w[:len(w)-3], minDouble)
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 {
		w = w[:len(w)-1]
	}
	return w
}

// MaxStemCut is the most that Stem (and so StemLight) shortens a word by, as from "spottings"
// to "spot" and from "statelies" to "stat".
const MaxStemCut = 5

// undouble turns "shipp" into "ship" and "logg" into "log", but leaves
// "bill", "pass" and "buzz" alone, whose double letter is part of the word,
// and a w shorter than minDouble.
func undouble(w string, minDouble int) string {
	n := len(w)
	if n >= minDouble && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouylsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func hasVowel(w string) bool {
	return strings.ContainsAny(w, "aeiouy")
}
