package tagging

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/words"
)

// newVocabulary derives each spelling's deletions once; the vocabulary must
// be the one that adding every use of a rule word in turn gives.
func TestVocabularyAsAddedOneByOne(t *testing.T) {
	rules := append(DefaultRules(), Rule{Name: "extra", Any: []string{
		"charges", "charge/charges card", "statuses", "accesses ... access", "shipping ... shipped",
	}})
	var toks []token
	for _, r := range rules {
		for _, p := range append(r.Any, r.None...) {
			_, err := compile(p, &toks)
			require.NoError(t, err)
		}
	}
	want := &vocabulary{
		stems: map[string]bool{}, words: map[string]string{},
		deleted: map[string]string{}, surfaces: map[string]string{},
	}
	for _, tok := range toks {
		want.stems[tok.stem] = true
		want.longestPart = max(want.longestPart, len(tok.stem)+words.MaxStemCut)
		if len(tok.word) >= minPart {
			want.surfaces[tok.word] = tok.stem
			want.longestPart = max(want.longestPart, len(tok.word))
		}
		for _, w := range []string{tok.word, tok.stem} {
			if len(w) < minFuzzy {
				continue
			}
			want.words[w] = tok.stem
			want.longestWord = max(want.longestWord, len(w))
			for i := range len(w) {
				d := w[:i] + w[i+1:]
				if s, ok := want.deleted[d]; ok && s != tok.stem {
					want.deleted[d] = ""
				} else {
					want.deleted[d] = tok.stem
				}
			}
		}
	}
	got := newVocabulary(toks)
	assert.Equal(t, want, got)
	assert.Contains(t, got.deleted, "chages")
}
