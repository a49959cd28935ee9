package tagging

import (
	"strings"
	"unicode"

	"supportpipe/internal/support/runes"
	"supportpipe/internal/support/words"
)

// A token is one content word of a message after normalisation.
type token struct {
	stem   string // the form rules are matched on
	word   string // lower-cased surface form, for typo matching
	clause int    // index of the clause; phrases and negation never span two
	owned  bool   // right after a possessive: "my refund"
}

// stopwords carry no topic and are dropped so that "status of my order"
// reduces to "status order". Particles such as "in", "up" and "out" are kept
// ("log in", "sign up", "locked out"), and so is "is" ("where is my order",
// "site is down").
var stopwords = set(
	"a", "an", "the", "my", "mine", "your", "ur", "yur", "our", "their", "his",
	"her", "its", "this", "that", "these", "those", "of", "me", "i", "im", "ive",
	"you", "u", "ya", "we", "us", "it", "to", "for", "am", "are",
	"be", "been", "being", "was", "were", "do", "does", "did", "please", "pls",
	"plz", "and", "or", "with", "just", "hi", "hello", "hey", "thanks", "thank",
	"there", "at", "as", "so", "some", "any",
)

// afterNegation are stopwords kept right after a negation, where they carry
// what is denied: "a payment I didn't do", "it isn't mine", "that wasn't me".
var afterNegation = set("do", "did", "does", "me", "mine")

// possessives are the stopwords that make the next word a thing someone has:
// in "isn't my refund showing" and "I no longer need my premium account" the
// negation is the verb's, not the refund's or the account's. Demonstratives
// are left out: "not that urgent" negates urgency.
var possessives = set("my", "your", "ur", "yur", "our", "their", "his", "her", "its", "the")

// intensifiers are profanity and fillers that customers drop into a request
// ("cancel my damn order") without changing what it is about.
var intensifiers = set(
	"fuck", "fucking", "fuckin", "fucken", "effing", "freaking", "frigging",
	"damn", "damned", "goddamn", "goddamned", "bloody", "shitty", "crappy",
)

// isAbbreviated lists words whose "'s" stands for "is" rather than a possessive.
var isAbbreviated = set("it", "that", "what", "where", "there", "here", "who", "how", "when")

// contractions spelled without an apostrophe, common in chat, that hide a "not".
var contractions = map[string]string{
	"dont": "do", "doesnt": "does", "didnt": "did", "isnt": "is", "arent": "are",
	"wasnt": "was", "werent": "were", "cant": "can", "cannot": "can",
	"couldnt": "could", "wont": "will", "wouldnt": "would", "shouldnt": "should",
	"havent": "have", "hasnt": "has", "hadnt": "had", "aint": "is",
	"neednt": "need", "mustnt": "must",
}

// clauseBreakers end a clause: negation and phrases do not reach across them.
var clauseBreakers = set("but", "however", "although", "though", "except")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// tokenize lower-cases text, folds Unicode to plain letters, splits it into
// words and clauses, expands negative contractions into a separate "not",
// drops numbers, stopwords and intensifiers, and stems what is left.
func tokenize(text string) []token {
	var (
		toks   []token
		clause int
		word   strings.Builder
	)
	owned := false
	emit := func(w string) {
		if w == "" || intensifiers[w] {
			return
		}
		if stopwords[w] && !(afterNegation[w] && afterNegator(toks, clause)) {
			owned = possessives[w]
			return
		}
		if clauseBreakers[w] {
			clause++
			return
		}
		toks = append(toks, token{stem: words.Stem(w), word: w, clause: clause, owned: owned})
		owned = false
	}
	flush := func() {
		w := word.String()
		word.Reset()
		if w == "" || isDigits(w) {
			return
		}
		if base, ok := strings.CutSuffix(w, "n't"); ok {
			emit(notBase(base))
			emit("not")
			return
		}
		if base, ok := contractions[w]; ok {
			emit(base)
			emit("not")
			return
		}
		if base, clitic, ok := strings.Cut(w, "'"); ok {
			// "order's", "we're", "I'll": the clitic adds nothing, except
			// the "is" of "where's" and "it's", which phrases may need.
			emit(base)
			if clitic == "s" && isAbbreviated[base] {
				emit("is")
			}
			return
		}
		emit(w)
	}
	prevDigit := false
	for _, r := range words.Fold(text, MaxTextRunes) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// Split "purchase113542617735902" into word and number.
			d := unicode.IsDigit(r)
			if word.Len() > 0 && d != prevDigit {
				flush()
			}
			prevDigit = d
			word.WriteRune(unicode.ToLower(r))
		case r == '\'' && word.Len() > 0:
			word.WriteRune(r)
		default:
			flush()
			if strings.ContainsRune(".,;:!?()[]\n", r) {
				clause++
			}
		}
	}
	flush()
	return toks
}

// afterNegator reports whether the last of toks is a negator in clause.
func afterNegator(toks []token, clause int) bool {
	n := len(toks)
	return n > 0 && toks[n-1].clause == clause && negators[toks[n-1].stem]
}

// notBase undoes the irregular stems of "n't" contractions.
func notBase(w string) string {
	switch w {
	case "ca":
		return "can"
	case "wo":
		return "will"
	case "sha":
		return "shall"
	}
	return w
}

// clip cuts text after MaxTextRunes characters.
func clip(text string) string {
	text, _ = runes.Prefix(text, MaxTextRunes)
	return text
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
