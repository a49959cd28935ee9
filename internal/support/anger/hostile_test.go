package anger

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mib is the largest body a webhook may have.
const mib = 1 << 20

// fill repeats s to about n bytes, whole copies only.
func fill(s string, n int) string {
	return strings.Repeat(s, max(1, n/len(s)))
}

// hostile are the worst messages we know of, and whether they read as
// angry. A linear model adds up its terms' weights, so a long message of
// one repeated term is as angry as that term.
var hostile = []struct {
	name  string
	text  func(n int) string
	angry bool
}{
	{name: "one long word", text: func(n int) string {
		rng := rand.New(rand.NewPCG(1, 2))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}},
	{name: "one long word in capitals", text: func(n int) string { return fill("A", n) }},
	{name: "one repeated letter", text: func(n int) string { return fill("a", n) }},
	{name: "exclamation marks", text: func(n int) string { return fill("!", n) }, angry: true},
	{name: "question marks", text: func(n int) string { return fill("?", n) }},
	{name: "emoji", text: func(n int) string { return fill("😡", n) }, angry: true},
	{name: "letters under combining marks", text: func(n int) string { return fill("e\u0301\u0302\u0303", n) }},
	{name: "mixed scripts", text: func(n int) string { return fill("aб中ع😡", n) }, angry: true},
	{name: "digits", text: func(n int) string { return fill("0123456789", n) }},
	{name: "many short words", text: func(n int) string { return fill("ab ", n) }},
	{name: "apostrophes", text: func(n int) string { return fill("'", n) }},
	{name: "negations", text: func(n int) string { return fill("not ", n) }},
	{name: "boosters", text: func(n int) string { return fill("very ", n) }},
	{name: "invalid UTF-8", text: func(n int) string { return fill("\xff\xfe", n) }},
	{name: "profanity", text: func(n int) string { return fill("FUCKING HATE ", n) }, angry: true},
	{name: "calm sentences", text: func(n int) string {
		return fill("Hi, could you tell me when my order will arrive? Thanks! ", n)
	}},
}

func TestHostileMessages(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			s := d.Score(tt.text(mib))
			assert.True(t, s >= 0 && s <= 1, "score %v", s)
			assert.Equal(t, tt.angry, s >= DefaultThreshold, "score %.3f", s)
		})
	}
}

// The work of scoring a message, counted in allocations and bytes, grows in
// proportion to its length: four times the text, about four times the work,
// where a quadratic stage would take sixteen. The cap is bypassed, so that
// it cannot hide a stage that is not linear.
func TestWorkIsLinear(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	const n = 16 << 10
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			small, large := tt.text(n), tt.text(4*n)
			allocs, bytes := allocated(func() { d.score(split(small)) })
			allocs4, bytes4 := allocated(func() { d.score(split(large)) })
			assert.LessOrEqual(t, allocs4, 6*allocs+16, "allocations")
			assert.LessOrEqual(t, bytes4, 6*bytes+4096, "bytes allocated")
		})
	}
}

// A message of symbols alone allocates nothing per symbol: only the slices
// that hold its words grow.
func TestSymbolsDoNotAllocate(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	const n = 16 << 10
	for _, s := range []string{"!", "?", "😡", "\xff"} {
		allocs, _ := allocated(func() { d.score(split(fill(s, n))) })
		allocs4, _ := allocated(func() { d.score(split(fill(s, 4*n))) })
		assert.LessOrEqual(t, allocs4, allocs+8, "%+q", s)
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

func TestSplitSymbols(t *testing.T) {
	var got []string
	for _, w := range split("No\xff!😡?\uFFFDok") {
		got = append(got, w.text)
	}
	assert.Equal(t, []string{"no", "\uFFFD", "!", "😡", "?", "\uFFFD", "ok"}, got)
}

func TestScoreReadsTheFirstMaxTextRunes(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	// Two-byte letters, so that the cap is seen to count characters.
	filler := func(n int) string { return strings.Repeat("ü ", n/2) + strings.Repeat("ü", n%2) }
	const threat = " I will call my lawyer"
	before := filler(MaxTextRunes-utf8.RuneCountInString(threat)) + threat
	require.Equal(t, MaxTextRunes, utf8.RuneCountInString(before))
	assert.GreaterOrEqual(t, d.Score(before), DefaultThreshold, "a threat that ends at the cap")
	calm := filler(MaxTextRunes)
	require.Less(t, d.Score(calm), DefaultThreshold)
	assert.Equal(t, d.Score(calm), d.Score(calm+threat), "a threat just after the cap")
}
