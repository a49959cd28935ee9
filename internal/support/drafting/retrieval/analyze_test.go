package retrieval

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
)

func allWords(text string) []string {
	var out []string
	eachWord(text, func(w string) { out = append(out, w) })
	return out
}

func TestWords(t *testing.T) {
	assert.Equal(t, []string{"where", "my", "cafe", "order", "a"}, allWords("Where’s my CAFÉ-order #A-20931?"))
	assert.Equal(t, []string{"i", "don", "want", "purchase"}, allWords("I don't want purchase113542617735902"))
	assert.Empty(t, allWords("123 456 — !!"))
}

func TestWordsReadABoundedPrefix(t *testing.T) {
	text := strings.Repeat("refund ", MaxTextRunes) // 7 × the bound
	n := 0
	eachWord(text, func(string) { n++ })
	// The last word is cut: "re".
	assert.Equal(t, MaxTextRunes/len("refund ")+1, n, "words of the first MaxTextRunes characters only")
}

func TestTerms(t *testing.T) {
	ix := NewIndex([]drafting.Canned{
		{ShortCode: "track_refund", Content: "Your refund is on its way.", Examples: []string{"where is my reimbursement"}},
		{ShortCode: "set_up_shipping_address", Content: "Add a delivery address in your account."},
	})
	for text, want := range map[string][]string{
		// Request frame and stopwords go, inflections and synonyms meet.
		"I need help to get my money back!!": {"=get", "=refund"},
		"Reimbursements":                     {"=refund"},
		// A slip of one letter, inserted, deleted, replaced or swapped.
		"reimbursment":   {"=refund"},
		"reimbursemennt": {"=refund"},
		"reimbursememt":  {"=refund"},
		"reimbrusement":  {"=refund"},
		// Run-together words are split.
		"deliveryaddress": {"=shipping", "address"},
		"howi":            {},
		// The name after an honorific says nothing of the intent.
		"invoice from Mr. Jones please": {"=invoice"},
		"nothing":                       {"noth"},
		// Phrases win over their words: "get in touch" is contact, not get.
		"can I get in touch with customer support": {"=contact", "=customer_service"},
	} {
		assert.Equal(t, want, ix.terms(text), text)
	}
}

func TestCorrectIsUnambiguous(t *testing.T) {
	v := newVocabulary()
	for _, w := range []string{"change", "charge", "refund"} {
		v.add(w)
	}
	assert.Equal(t, "", v.correct("chage"), "one slip from change and from charge")
	assert.Equal(t, "refund", v.correct("refnud"))
	assert.Equal(t, "", v.correct("rfnd"), "two slips")
	assert.Equal(t, "", v.correct(strings.Repeat("refund", 1000)), "far longer than any known word")
}

func TestOneSlip(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"refund", "refund", false},
		{"refund", "refun", true},
		{"refund", "refunds", true},
		{"refund", "rexund", true},
		{"refund", "rfeund", true},
		{"refund", "rfeudn", false},
		{"refund", "ref", false},
		{"ab", "ba", true},
	} {
		assert.Equal(t, c.want, oneSlip(c.a, c.b), "%s %s", c.a, c.b)
		assert.Equal(t, c.want, oneSlip(c.b, c.a), "%s %s", c.b, c.a)
	}
}

func TestThesaurusRejectsAWordInTwoConcepts(t *testing.T) {
	_, err := parseThesaurus([]byte("a: [bill, invoice]\nb: [bills]\n"))
	assert.ErrorContains(t, err, `b: "bills" is already in a`)
	_, err = parseThesaurus([]byte("a: ['!!']\n"))
	assert.ErrorContains(t, err, "has no word")
	th, err := parseThesaurus([]byte("a: [money back, refund]\n"))
	require.NoError(t, err)
	assert.Equal(t, 2, th.maxPhrase)
}

// British spelling doubles the l of "cancel" before a suffix; the stemmer
// leaves it, as it cannot tell "cancell" from "bill" alone.
func TestStemKnownUndoesBritishDoubling(t *testing.T) {
	ix := NewIndex([]drafting.Canned{{ShortCode: "cancel_order", Content: "We can cancel an order until it ships."}})
	for _, w := range []string{"cancelled", "cancelling", "canceled", "cancel"} {
		assert.Equal(t, "cancel", ix.stemKnown(w), w)
	}
	// Without "cancel" in the knowledge, or for a word whose double l is
	// its own, nothing changes.
	assert.Equal(t, "bill", ix.stemKnown("billing"))
	assert.Equal(t, "cancell", NewIndex(nil).stemKnown("cancelled"))
}
