package tagging

import (
	"strings"

	"supportpipe/internal/support/words"
)

// Customers type fast: "acount", "paymnet", "deliveryaddress". A vocabulary
// of the words that the rules use corrects such tokens before matching. It
// only ever maps a token onto a rule word, so it cannot invent a topic from
// an ordinary word, and it corrects only what a single slip of the finger
// explains: one missing or extra letter, or two swapped neighbours. Letter
// substitutions are left alone on purpose: they turn real words into other
// real words ("change" and "charge") far more often than typos do.

// minFuzzy is the shortest rule word that typo matching applies to; below it
// too many real words are one slip apart ("ship" and "shop", "fee" and "feel").
const minFuzzy = 6

// minPart is the shortest rule word that can be split off a run-together
// token ("premiumaccount", "withpayment"). Four-letter rule words split
// ordinary words far more often than run-together ones: "available" into
// "avail" and "able", "mistake" into "mis" and "take".
const minPart = 5

type vocabulary struct {
	stems    map[string]bool   // stems of all rule words
	words    map[string]string // rule words of at least minFuzzy letters, to their stem
	deleted  map[string]string // a rule word or stem less one letter, to the stem; "" if ambiguous
	surfaces map[string]string // rule words of at least minPart letters, to their stem

	// A token more than one letter longer than every key of words is no
	// slip away from any of them, and no part longer than longestPart can
	// be a rule word (see isRuleWord). Without these bounds, correcting and
	// splitting a token would try every position of it, each at the cost of
	// hashing the whole token: a 150,000-letter word took seconds.
	longestWord, longestPart int
}

// newVocabulary builds the vocabulary of the rule words toks, in the order
// the rules use them. It is most of what building a Tagger costs, which the
// processor does at start: the built-in rules use 637 distinct words 1,446
// times, and a word of minFuzzy letters or more puts one entry per letter
// in deleted. So each spelling's deletions are derived once, all in one
// allocation; adding every use of a word with its deletions, each a string
// of its own, took twice as long.
func newVocabulary(toks []token) *vocabulary {
	// A rule word is used about twice on average (1,446 uses of 637 words):
	// maps sized for every use cost more to clear than growing them does.
	distinct := len(toks)/2 + 1
	v := &vocabulary{
		stems:    make(map[string]bool, distinct),
		words:    make(map[string]string, distinct),
		surfaces: make(map[string]string, distinct),
	}
	// A word of a rule and a stem it stands for: deleted depends on which
	// of these there are, not on how often or in what order they come.
	type spelling struct{ word, stem string }
	seen := make(map[spelling]bool, distinct)
	var spellings []spelling
	letters := 0
	for _, t := range toks {
		v.stems[t.stem] = true
		v.longestPart = max(v.longestPart, len(t.stem)+words.MaxStemCut)
		if len(t.word) >= minPart {
			v.surfaces[t.word] = t.stem
			v.longestPart = max(v.longestPart, len(t.word))
		}
		for _, w := range [...]string{t.word, t.stem} {
			if len(w) < minFuzzy {
				continue
			}
			// The last rule word spelled w gives its stem, as when
			// words were added one at a time.
			v.words[w] = t.stem
			v.longestWord = max(v.longestWord, len(w))
			if s := (spelling{w, t.stem}); !seen[s] {
				seen[s] = true
				spellings = append(spellings, s)
				letters += len(w)
			}
		}
	}
	v.deleted = make(map[string]string, letters)
	for _, s := range spellings {
		n := len(s.word) - 1
		var b strings.Builder
		b.Grow(len(s.word) * n)
		for i := range len(s.word) {
			b.WriteString(s.word[:i])
			b.WriteString(s.word[i+1:])
		}
		all := b.String()
		for i := range len(s.word) {
			d := all[i*n : (i+1)*n]
			if prev, ok := v.deleted[d]; ok && prev != s.stem {
				v.deleted[d] = "" // two stems: ambiguous
			} else {
				v.deleted[d] = s.stem
			}
		}
	}
	return v
}

// resolve corrects the tokens that match no rule word and splits
// run-together ones, and returns the updated tokens. The parts of a split
// token are not looked at again.
func (v *vocabulary) resolve(toks []token) []token {
	// A new slice rather than inserting the parts in place, which moved
	// every later token: quadratic in a message of many run-together words.
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if v.stems[t.stem] {
			out = append(out, t)
			continue
		}
		s := v.correct(t.word)
		if s == "" && t.stem != t.word {
			s = v.correct(t.stem)
		}
		if s != "" {
			t.stem = s
			out = append(out, t)
			continue
		}
		if a, b, ok := v.split(t.word); ok {
			ta, tb := t, t
			ta.word, ta.stem = a, words.Stem(a)
			tb.word, tb.stem = b, words.Stem(b)
			out = append(out, ta, tb)
			continue
		}
		out = append(out, t)
	}
	return out
}

// correct returns the stem of the rule word that w is one slip away from, or
// "" if there is none or more than one.
func (v *vocabulary) correct(w string) string {
	if len(w) < minFuzzy-1 || len(w) > v.longestWord+1 || !words.IsASCII(w) {
		return ""
	}
	// A letter missing from w.
	if s := v.deleted[w]; s != "" {
		return s
	}
	if len(w) < minFuzzy {
		return ""
	}
	var found string
	note := func(s string) bool {
		if found != "" && found != s {
			found = ""
			return false
		}
		found = s
		return true
	}
	buf := make([]byte, 0, len(w))
	for i := range len(w) {
		// A letter too many in w; not at either end, where an extra letter
		// usually makes another word ("charger", "blocked").
		if i > 0 && i < len(w)-1 {
			buf = append(append(buf[:0], w[:i]...), w[i+1:]...)
			if s, ok := v.words[string(buf)]; ok && !note(s) {
				return ""
			}
		}
		// Two neighbours swapped.
		if i+1 < len(w) && w[i] != w[i+1] {
			buf = append(buf[:0], w...)
			buf[i], buf[i+1] = buf[i+1], buf[i]
			if s, ok := v.words[string(buf)]; ok && !note(s) {
				return ""
			}
		}
	}
	return found
}

// split finds the longest rule word at the start or end of a run-together
// token and returns the two parts. The rest must look like a word of its
// own, not an ending that makes the rule word another word ("charger",
// "shipping"'s "ping").
func (v *vocabulary) split(w string) (string, string, bool) {
	if len(w) < minPart+2 || !words.IsASCII(w) {
		return "", "", false
	}
	best, longest := 0, minPart-1
	for k := 1; k < len(w); k++ {
		if k > v.longestPart && len(w)-k > v.longestPart {
			// Cuts in the middle leave two parts too long to be rule words.
			k = len(w) - v.longestPart
		}
		a, b := w[:k], w[k:]
		if len(b) > longest && isWordPart(a) && v.isRuleWord(b) {
			best, longest = k, len(b)
		}
		if len(a) > longest && isWordPart(b) && v.isRuleWord(a) && !endings[b] {
			best, longest = k, len(a)
		}
	}
	if best == 0 {
		return "", "", false
	}
	return w[:best], w[best:], true
}

// endings are suffixes that turn a word into another one.
var endings = set("ers", "ing", "able", "ment", "ation", "ations", "ful", "ion", "ions", "ity", "est", "less", "ness")

// isWordPart reports whether the rest of a run-together token can be a word
// of its own: a stopword, or three letters or more.
func isWordPart(s string) bool {
	return len(s) >= 3 || stopwords[s] || s == "is"
}

// isRuleWord reports whether w is a rule word or an inflection of one. Only
// a word no longer than longestPart can be: a longer one is neither a
// surface nor, as words.Stem shortens words by at most words.MaxStemCut, a
// rule stem.
func (v *vocabulary) isRuleWord(w string) bool {
	if len(w) > v.longestPart {
		return false
	}
	if _, ok := v.surfaces[w]; ok {
		return true
	}
	s := words.Stem(w)
	return len(s) >= minPart && v.stems[s]
}
