package retrieval

import (
	"unicode"

	"supportpipe/internal/support/runes"
	"supportpipe/internal/support/tagging"
	"supportpipe/internal/support/words"
)

// MaxTextRunes is how much of a message retrieval reads, as much as the
// tagger: what a customer asks is said well before 20,000 characters, and a
// hostile megabyte must cost no more than that.
const MaxTextRunes = tagging.MaxTextRunes

// stopwords carry no intent: pronouns, articles, and the frame of a request
// ("I need help to…", "how can I…", "is it possible to…"), which every
// canned response's examples share. Question words that do carry intent
// ("when" for a delivery time) are concepts of the thesaurus instead.
var stopwords = set(
	"a", "an", "the", "my", "mine", "your", "yours", "ur", "yur", "our", "their", "his", "her",
	"its", "this", "that", "these", "those", "of", "me", "i", "im", "ive", "id", "you", "u",
	"ya", "we", "us", "it", "to", "for", "am", "are", "be", "been", "being", "was", "were",
	"do", "does", "did", "please", "pls", "plz", "and", "or", "with", "just", "hi", "hello",
	"hey", "thanks", "thank", "there", "at", "as", "so", "some", "any", "is", "on", "by",
	"about", "can", "could", "would", "should", "will", "shall", "may", "might", "must",
	"how", "what", "where", "which", "who", "why", "whom", "help", "helping", "assistance",
	"assist", "want", "wanna", "need", "needs", "like", "know", "tell", "got", "have", "has",
	"had", "try", "trying", "not", "no", "don", "gonna", "going", "able", "possible", "way",
	"information", "info", "question", "questions", "several", "few", "one", "ask", "asking",
	"if", "then", "than", "too", "also", "very", "really", "okay", "ok", "yes", "in", "from",
	// Profanity and fillers that customers drop into a request without
	// changing what it is about.
	"fuck", "fucking", "fuckin", "damn", "damned", "goddamn", "bloody", "freaking", "frigging",
	"effing", "shitty", "crappy",
)

// honorifics start a person's name.
var honorifics = set("mr", "mrs", "ms", "miss", "dr")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// eachWord calls fn with each word of the first MaxTextRunes characters of
// text: folded to plain lower-case letters, a clitic cut off ("order's",
// "don't" give "order", "don"), numbers dropped (order numbers and amounts
// say nothing of the intent).
func eachWord(text string, fn func(string)) {
	text, _ = runes.Prefix(text, MaxTextRunes)
	var w []rune
	clitic := false
	flush := func() {
		if len(w) > 0 {
			fn(string(w))
		}
		w, clitic = w[:0], false
	}
	for _, r := range words.Fold(text, MaxTextRunes) {
		switch {
		case unicode.IsLetter(r):
			if !clitic {
				w = append(w, unicode.ToLower(r))
			}
		case r == '\'' && len(w) > 0:
			clitic = true
		default:
			// Digits end a word too: "purchase113542617735902".
			flush()
		}
	}
	flush()
}

// terms returns the terms of text in order: its words, corrected when a
// slip away from a known word or split when two run together, with the
// thesaurus's phrases and words replaced by their concepts, stopwords
// dropped and the rest stemmed.
func (ix *Index) terms(text string) []string {
	var stems, surface []string
	eachWord(text, func(w string) {
		if len(w) >= minFuzzy && !ix.vocab.known(w) {
			if c := ix.vocab.correct(w); c != "" {
				w = c
			} else if a, b, ok := ix.vocab.split(w); ok {
				surface = append(surface, a)
				stems = append(stems, words.StemLight(a))
				w = b
			}
		}
		surface = append(surface, w)
		stems = append(stems, ix.stemKnown(w))
	})
	out := make([]string, 0, len(stems))
	for i := 0; i < len(stems); i++ {
		if honorifics[surface[i]] {
			i++ // and the name after it: who a bill is from is not what is asked
			continue
		}
		if n, concept := ix.th.phraseAt(stems[i:]); n > 0 {
			out = append(out, concept)
			i += n - 1
			continue
		}
		if stopwords[surface[i]] {
			continue
		}
		if concept, ok := ix.th.words[stems[i]]; ok {
			out = append(out, concept)
			continue
		}
		out = append(out, stems[i])
	}
	return out
}

// A feature is a term of a text, or a pair of neighbouring terms, and how
// often it occurs.
type feature struct {
	term string
	n    float64
	pair bool
}

// stemKnown is words.StemLight, with British spelling's doubled l undone
// ("cancelled", "cancelling" give "cancel", as "canceled" does) when the
// knowledge has the word with one l: the stemmer alone cannot tell
// "cancell" from "bill".
func (ix *Index) stemKnown(w string) string {
	s := words.StemLight(w)
	if n := len(s); n >= 5 && s[n-1] == 'l' && s[n-2] == 'l' && ix.vocab.stems[s[:n-1]] {
		return s[:n-1]
	}
	return s
}

// features counts the terms of text and the pairs of neighbouring terms,
// a pair weighing weightPair, in the order they first occur: scores are
// sums over them, and floating-point sums in one order are the same on
// every run.
func (ix *Index) features(text string) []feature {
	ts := ix.terms(text)
	at := make(map[string]int, 2*len(ts))
	f := make([]feature, 0, 2*len(ts))
	add := func(term string, n float64, pair bool) {
		if i, ok := at[term]; ok {
			f[i].n += n
			return
		}
		at[term] = len(f)
		f = append(f, feature{term: term, n: n, pair: pair})
	}
	for i, t := range ts {
		add(t, 1, false)
		if i > 0 {
			add(ts[i-1]+" "+t, weightPair, true)
		}
	}
	return f
}
