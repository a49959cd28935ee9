package retrieval

import "supportpipe/internal/support/words"

// Customers type fast: "reimbursment", "acount", "deliveryaddress". A
// vocabulary of the words the knowledge and the thesaurus use corrects such
// a word before matching, when a single slip explains it (a letter missing,
// extra or wrong, or two neighbours swapped) and only one known word is
// that close, or splits it into two known words.

// minFuzzy is the shortest word that typo matching applies to; below it too
// many real words are one slip apart.
const minFuzzy = 4

// minPart is the shortest known word a run-together word may be split into
// (a stopword may be shorter: "howi", "needassistance").
const minPart = 3

type vocabulary struct {
	words map[string]bool
	stems map[string]bool
	// near maps each known word of at least minFuzzy letters, and each of
	// its forms with one letter deleted, to the words it came from: two
	// words are a slip apart only if they share a key (symmetric deletion).
	near map[string][]string
	// longest is the longest known word: a word more than a letter longer
	// is no slip away from any, and no part longer can be a known word.
	// Without the bound, a 100,000-letter word would be hashed at each of
	// its positions.
	longest int
}

func newVocabulary() *vocabulary {
	return &vocabulary{words: map[string]bool{}, stems: map[string]bool{}, near: map[string][]string{}}
}

func (v *vocabulary) add(w string) {
	if v.words[w] || !words.IsASCII(w) {
		return
	}
	v.words[w] = true
	v.stems[words.StemLight(w)] = true
	v.longest = max(v.longest, len(w))
	if len(w) < minFuzzy {
		return
	}
	v.near[w] = append(v.near[w], w)
	buf := make([]byte, 0, len(w))
	for i := range len(w) {
		d := string(append(append(buf[:0], w[:i]...), w[i+1:]...))
		v.near[d] = appendNew(v.near[d], w)
	}
}

func appendNew(ws []string, w string) []string {
	for _, x := range ws {
		if x == w {
			return ws
		}
	}
	return append(ws, w)
}

// known reports whether w, or its stem, is a word of the vocabulary.
func (v *vocabulary) known(w string) bool {
	return v.words[w] || stopwords[w] || v.stems[words.StemLight(w)]
}

// correct returns the known word that w is one slip away from, or "" if
// there is none, or several of different stems.
func (v *vocabulary) correct(w string) string {
	if len(w) < minFuzzy || len(w) > v.longest+1 || !words.IsASCII(w) {
		return ""
	}
	found := ""
	ambiguous := false
	try := func(key string) {
		for _, c := range v.near[key] {
			if ambiguous || !oneSlip(w, c) {
				continue
			}
			switch {
			case found == "":
				found = c
			case words.StemLight(found) != words.StemLight(c):
				ambiguous = true
			}
		}
	}
	try(w)
	buf := make([]byte, 0, len(w))
	for i := range len(w) {
		try(string(append(append(buf[:0], w[:i]...), w[i+1:]...)))
	}
	if ambiguous {
		return ""
	}
	return found
}

// oneSlip reports whether a and b differ by one letter inserted, deleted or
// replaced, or by two neighbours swapped.
func oneSlip(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	switch len(b) - len(a) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return false // equal
		}
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}

// split cuts a run-together word into two known words ("deliveryaddress",
// "howi"), choosing the cut whose shorter part is longest; ok is false when
// no cut gives two.
func (v *vocabulary) split(w string) (string, string, bool) {
	if len(w) > 2*v.longest || !words.IsASCII(w) {
		return "", "", false
	}
	best := 0
	for k := 1; k < len(w); k++ {
		a, b := w[:k], w[k:]
		if min(len(a), len(b)) > min(best, len(w)-best) && v.part(a) && v.part(b) {
			best = k
		}
	}
	if best == 0 {
		return "", "", false
	}
	return w[:best], w[best:], true
}

func (v *vocabulary) part(w string) bool {
	return stopwords[w] || (len(w) >= minPart && v.words[w])
}
