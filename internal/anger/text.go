package anger

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A word is one token of a message: a lower-cased word, or a single "!",
// "?" or emoji, which carry tone on their own.
type word struct {
	text string
	caps bool // written in capitals, at least two letters ("NOW", not "I")
}

// split tokenises text for both the valence scorer and the linear model.
// Apostrophes inside words are kept, because "don't" and "can't" negate.
func split(text string) []word {
	var (
		words []word
		b     []byte
		upper int
		lower int
	)
	flush := func() {
		if len(b) > 0 {
			w := strings.Trim(string(b), "'")
			if w != "" {
				words = append(words, word{text: w, caps: upper >= 2 && lower == 0})
			}
		}
		b, upper, lower = b[:0], 0, 0
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '\u2019':
			if r == '\u2019' {
				r = '\''
			}
			if unicode.IsUpper(r) {
				upper++
			} else if unicode.IsLower(r) {
				lower++
			}
			b = utf8.AppendRune(b, unicode.ToLower(r))
		case r == '!' || r == '?' || unicode.Is(unicode.So, r):
			flush()
			words = append(words, word{text: string(r)})
		default:
			flush()
		}
	}
	flush()
	return words
}
