package words

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/unicode/norm"
)

// Decomposition can multiply a text's length, so Fold stops at n runes of
// the folded text.
func TestFoldStopsAtN(t *testing.T) {
	const n = 20_000
	assert.Equal(t, n, utf8.RuneCountInString(Fold(strings.Repeat("\ufdfa", n), n)))
	assert.Equal(t, "cafe", Fold("café au lait", 4))
	assert.Equal(t, "cafe au lait", Fold("cafe au lait", 4), "ASCII, which folding does not lengthen, as it is")
}

// Fold reads the text a segment at a time to stop at the cap; what it
// returns must be what decomposing the whole text returns.
func TestFoldIsNFKDWithoutMarks(t *testing.T) {
	whole := func(s string) string {
		var b strings.Builder
		for _, r := range norm.NFKD.String(s) {
			switch {
			case unicode.Is(unicode.Mn, r):
			case r == '\u2019' || r == '\u2018' || r == '\u02bc':
				b.WriteByte('\'')
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	fold := func(s string) string { return Fold(s, 20_000) }
	for r := rune(0x80); r <= 0xFFFF; r++ {
		if s := "a" + string(r) + "\u0301b"; fold(s) != whole(s) {
			assert.Equal(t, whole(s), fold(s), "%U", r)
		}
	}
	for _, s := range []string{
		"e" + strings.Repeat("\u0316\u0301", 100) + "x", // marks to reorder, past the stream-safe limit of 30
		"\ufdfa\ufb01\u2460\uff32\u1e9b\u0323",
		"\uac00\ud7a3 hangul",
	} {
		assert.Equal(t, whole(s), fold(s), "%+q", s)
	}
}

func TestStem(t *testing.T) {
	groups := [][]string{
		{"refund", "refunds", "refunded", "refunding"},
		{"charge", "charges", "charged", "charging"},
		{"ship", "ships", "shipped", "shipping"},
		{"delivery", "deliveries"},
		{"urgent", "urgently"},
		{"address", "addresses", "addressed"},
		{"log", "logged", "logging"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			assert.Equal(t, Stem(g[0]), Stem(w), "%s and %s", g[0], w)
		}
	}
	assert.NotEqual(t, Stem("charge"), Stem("change"))
	assert.NotEqual(t, Stem("payment"), Stem("pay"))
	assert.Equal(t, "bill", Stem("billing"))
	assert.Equal(t, "status", Stem("status"))
	assert.Equal(t, "ad", Stem("added"))
	assert.Equal(t, "er", Stem("erred"))
}

func TestStemLight(t *testing.T) {
	for w, want := range map[string]string{
		"refunds": "refund", "refunded": "refund", "refunding": "refund",
		"deliveries": "delivery", "shipping": "ship", "adding": "add", "add": "add",
		"bills": "bill", "addresses": "address", "status": "status",
		"added": "add", "erred": "err", "logged": "log",
	} {
		assert.Equal(t, want, StemLight(w), w)
	}
}

// The tagger's split only tries parts up to a length that relies on Stem
// never removing more than MaxStemCut letters. Every ending of up to six
// letters from the ones Stem looks at, after a few stems, is tried.
func TestMaxStemCut(t *testing.T) {
	const alphabet = "adegilnsty"
	worst, worstLight := 0, 0
	var try func(ending []byte)
	try = func(ending []byte) {
		for _, base := range []string{"b", "st", "ab", "bab", "baab"} {
			w := base + string(ending)
			worst = max(worst, len(w)-len(Stem(w)))
			worstLight = max(worstLight, len(w)-len(StemLight(w)))
		}
		if len(ending) == 6 {
			return
		}
		for i := range len(alphabet) {
			try(append(ending, alphabet[i]))
		}
	}
	try(nil)
	assert.Equal(t, MaxStemCut, worst)
	assert.LessOrEqual(t, worstLight, MaxStemCut)
	assert.Equal(t, "spot", Stem("spottings"))
	assert.Equal(t, "stat", Stem("statelies"))
}
