package tagging

import "strings"

// stem strips English inflections so that "refunds", "refunded" and
// "refunding" meet at "refund", "charge", "charges" and "charged" at "charg",
// and "deliveries" at "delivery". It is deliberately light: derivations are
// kept apart ("payment" is not "pay"), because rules name such words
// separately anyway, and the stems only ever have to agree with themselves
// since rules go through the same function. A full Snowball stemmer costs
// about ten microseconds a word, too much for a per-message budget.
func stem(w string) string {
	if len(w) <= 3 || !isASCII(w) {
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
		w = undouble(w[:len(w)-2])
	case strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]) && len(w) > 5:
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 {
		w = w[:len(w)-1]
	}
	return w
}

// maxStemCut is the most that stem shortens a word by, as from "spottings"
// to "spot" and from "statelies" to "stat".
const maxStemCut = 5

// undouble turns "shipp" into "ship" and "logg" into "log", but leaves
// "bill", "pass" and "buzz" alone, whose double letter is part of the word.
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouylsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func hasVowel(w string) bool {
	return strings.ContainsAny(w, "aeiouy")
}
