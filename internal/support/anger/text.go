package anger

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"supportpipe/internal/support/runes"
)

// A word is one token of a message: a lower-cased word, or a single "!",
// "?" or emoji, which carry tone on their own.
type word struct {
	text string
	caps bool // written in capitals, at least two letters ("NOW", not "I")
}

// MaxTextRunes is how much of a message Score reads: its first 20,000
// characters (runes). A customer's tone is set well before that (a long
// email is a few thousand characters), while a pasted log or a hostile
// megabyte would cost time in proportion to its length and hold up the
// messages queued behind it. The tagger reads as much
// (tagging.MaxTextRunes).
const MaxTextRunes = 20_000

// clip cuts text after MaxTextRunes characters.
func clip(text string) string {
	text, _ = runes.Prefix(text, MaxTextRunes)
	return text
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
	for i, r := range text {
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
			words = append(words, word{text: symbol(text, i, r)})
		default:
			flush()
		}
	}
	flush()
	return words
}

// symbol returns the one-rune word r at text[i:] without allocating, since
// a message may be nothing but "!!!!" or emoji. An invalid byte reads as
// U+FFFD (a symbol), as string(r) would spell it.
func symbol(text string, i int, r rune) string {
	if r == utf8.RuneError {
		return "\uFFFD"
	}
	return text[i : i+utf8.RuneLen(r)]
}
