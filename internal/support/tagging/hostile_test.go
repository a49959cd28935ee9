package tagging

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/words"
)

// mib is the largest body a webhook may have.
const mib = 1 << 20

// fill repeats s to about n bytes, whole copies only.
func fill(s string, n int) string {
	return strings.Repeat(s, max(1, n/len(s)))
}

// letters returns n random lower-case letters: one long word that no rule
// word starts or ends.
func letters(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	copy(b, "qqq")
	copy(b[n-3:], "qqq")
	return string(b)
}

// hostile are the worst messages we know of, and their tags.
var hostile = []struct {
	name string
	text func(n int) string
	want []string
}{
	{name: "one long word", text: letters},
	{name: "one long word ending in a rule word", text: func(n int) string { return strings.Repeat("x", n) + "refund" }},
	{name: "one repeated letter", text: func(n int) string { return fill("a", n) }},
	{name: "exclamation marks", text: func(n int) string { return fill("!", n) }},
	{name: "emoji", text: func(n int) string { return fill("😡", n) }},
	{name: "letters under combining marks", text: func(n int) string { return fill("e\u0301\u0302\u0303", n) }},
	{name: "combining marks alone", text: func(n int) string { return fill("\u0301", n) }},
	{name: "mixed scripts", text: func(n int) string { return fill("aб中ع😡", n) }},
	{name: "a ligature that decomposes to 18 runes", text: func(n int) string { return fill("\ufdfa", n) }},
	{name: "digits", text: func(n int) string { return fill("0123456789", n) }},
	{name: "digits and letters alternating", text: func(n int) string { return fill("a1", n) }},
	{name: "many short words", text: func(n int) string { return fill("ab ", n) }},
	{name: "many keywords", text: func(n int) string { return fill("refund ", n) }, want: []string{"refund"}},
	{name: "many run-together words", text: func(n int) string { return fill("deliveryaddress ", n) }, want: []string{"shipping"}},
	{name: "many typos", text: func(n int) string { return fill("pasword ", n) }, want: []string{"account"}},
	{name: "many contractions", text: func(n int) string { return fill("don't ", n) }},
	{name: "many denials", text: func(n int) string { return fill("payment I didn't do ", n) }, want: []string{"billing", "urgent"}},
	{name: "many negations in one clause", text: func(n int) string { return fill("not never no ", n) }},
	{name: "many alternatives of a wide phrase", text: func(n int) string { return fill("someone card ", n) }},
	{name: "apostrophes", text: func(n int) string { return fill("'", n) }},
	{name: "a word ending in ies", text: func(n int) string { return fill("ies", n) }},
	{name: "invalid UTF-8", text: func(n int) string { return fill("\xff\xfe", n) }},
	{name: "sentences", text: func(n int) string {
		return fill("I was charged twice for my order and it still hasn't arrived! I want a refund. ", n)
	}, want: []string{"billing", "refund", "shipping", "urgent"}},
}

func TestHostileMessages(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tagger.Tags(tt.text(mib)))
		})
	}
}

// The work of tagging a message, counted in allocations and bytes, grows in
// proportion to its length: four times the text, about four times the work,
// where a quadratic stage would take sixteen. The cap is bypassed, so that
// it cannot hide a stage that is not linear.
func TestWorkIsLinear(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	const n = 16 << 10
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			small, large := tt.text(n), tt.text(4*n)
			allocs, bytes := allocated(func() { tagger.tags(small) })
			allocs4, bytes4 := allocated(func() { tagger.tags(large) })
			assert.LessOrEqual(t, allocs4, 6*allocs+16, "allocations")
			assert.LessOrEqual(t, bytes4, 6*bytes+4096, "bytes allocated")
		})
	}
}

// allocated counts the allocations of one call of f, and their bytes, with
// other goroutines held off as in testing.AllocsPerRun.
func allocated(f func()) (allocs, bytes uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f() // warm up: sync.Once, lazily built tables
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

func TestTagsReadsTheFirstMaxTextRunes(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	// Two-byte letters, so that the cap is seen to count characters.
	filler := func(n int) string { return strings.Repeat("ü ", n/2) + strings.Repeat("ü", n%2) }
	const keyword = " refund"
	before := filler(MaxTextRunes-utf8.RuneCountInString(keyword)) + keyword
	require.Equal(t, MaxTextRunes, utf8.RuneCountInString(before))
	assert.Equal(t, []string{"refund"}, tagger.Tags(before), "a keyword that ends at the cap")
	assert.Nil(t, tagger.Tags(filler(MaxTextRunes)+keyword), "a keyword just after the cap")
}

// Decomposition can multiply a text's length, so the cap applies to the
// folded text too.
func TestFoldStopsAtMaxTextRunes(t *testing.T) {
	assert.Equal(t, MaxTextRunes, utf8.RuneCountInString(words.Fold(strings.Repeat("\ufdfa", MaxTextRunes), MaxTextRunes)))
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	assert.Nil(t, tagger.Tags(strings.Repeat("\ufdfa", 2000)+" refund"), "36,000 runes once folded")
}

// The bounds that keep typo matching and splitting linear are exact: a
// token at them is still corrected or split.
func TestWordLimits(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	v := tagger.vocab

	// The longest rule word with one letter too many.
	require.Len(t, "identification", v.longestWord)
	assert.Equal(t, []string{"account"}, tagger.Tags("identificxation"))
	assert.Nil(t, tagger.Tags("identificxxation"), "two slips")

	// The longest part that is a rule word: the longest stem, inflected
	// with the most that words.Stem removes.
	part := "identificationnings"
	require.Len(t, part, v.longestPart)
	require.Equal(t, "identification", words.Stem(part))
	assert.Equal(t, []string{"account"}, tagger.Tags("xyz"+part))
	assert.Equal(t, []string{"account"}, tagger.Tags(part+"xyz"))
	assert.Equal(t, []string{"account"}, tagger.Tags(strings.Repeat("x", 10_000)+part), "however long the rest")
	assert.Nil(t, tagger.Tags("xyz"+part[:len(part)-1]+"x"))
}
