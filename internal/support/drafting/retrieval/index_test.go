package retrieval

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
)

var shop = []drafting.Canned{
	{ShortCode: "track_refund", Content: "Your refund is on its way: it shows on your statement within 5 days.",
		Examples: []string{"where is my refund", "I am still waiting for my reimbursement"}},
	{ShortCode: "cancel_order", Content: "You can cancel an order from its page until it ships.",
		Examples: []string{"how do I cancel my order", "cancel purchase 123"}},
	{ShortCode: "recover_password", Content: "Click 'Forgot password' on the login page.",
		Examples: []string{"I forgot my password", "reset my PIN"}},
}

func TestSearchFindsTheResponse(t *testing.T) {
	ix := NewIndex(shop)
	for text, want := range map[string]string{
		"Hi, I'm still waiting on my compensation, was it processed?": "track_refund",
		"i want to cancel purchase 732201349959 asap":                 "cancel_order",
		"I can't remember my passwrod":                                "recover_password",
		"how can I cancel the order I placed yesterday?":              "cancel_order",
	} {
		r := ix.Search(text, 3)
		require.NotEmpty(t, r.Matches, text)
		assert.Equal(t, want, r.Matches[0].ShortCode, text)
		assert.Greater(t, r.Confidence, 0.2, text)
		for i := 1; i < len(r.Matches); i++ {
			assert.GreaterOrEqual(t, r.Matches[i-1].Similarity, r.Matches[i].Similarity, "best first")
		}
	}
}

func TestSearchWithoutMatch(t *testing.T) {
	ix := NewIndex(shop)
	for _, text := range []string{"", "thanks!", "12345", "the weather is lovely today"} {
		r := ix.Search(text, 3)
		assert.Empty(t, r.Matches, text)
		assert.Zero(t, r.Confidence, text)
	}
	assert.Empty(t, NewIndex(nil).Search("where is my refund", 3).Matches, "an empty index")
	assert.Empty(t, ix.Search("where is my refund", 0).Matches)
}

func TestConfidenceFallsWithAmbiguityAndDistance(t *testing.T) {
	ix := NewIndex(shop)
	clear := ix.Search("where is my refund", 1).Confidence
	// Between two responses: a refund and an order cancellation.
	between := ix.Search("cancel my order and where is my refund", 1).Confidence
	// Close to none: one known word among many the knowledge lacks.
	far := ix.Search("my grandmother's parrot ate the refund cheque in the garden shed", 1).Confidence
	assert.Less(t, between, clear)
	assert.Less(t, far, clear)
	assert.LessOrEqual(t, clear, 1.0)
}

func TestSearchKeepsOneEntryPerContent(t *testing.T) {
	dup := append([]drafting.Canned{}, shop...)
	dup = append(dup, drafting.Canned{ShortCode: "refund_status", Content: shop[0].Content,
		Examples: []string{"status of my refund"}})
	ix := NewIndex(dup)
	r := ix.Search("what is the status of my refund", 3)
	require.NotEmpty(t, r.Matches)
	assert.Equal(t, "refund_status", r.Matches[0].ShortCode, "the closer of the two with the same content")
	for _, m := range r.Matches[1:] {
		assert.NotEqual(t, shop[0].Content, m.Content)
	}
	// Two short codes with one reply do not split the lead between them.
	alone := NewIndex(shop).Search("what is the status of my refund", 1).Confidence
	assert.GreaterOrEqual(t, r.Confidence, alone)
}

func TestSearchWithoutExamples(t *testing.T) {
	// Chatwoot's canned responses have no example questions: their content
	// and short code decide.
	ix := NewIndex([]drafting.Canned{
		{ShortCode: "refund", Content: "Refunds reach your card within 5 business days."},
		{ShortCode: "hours", Content: "Our team answers Monday to Friday, 9:00 to 17:00."},
	})
	r := ix.Search("when will my refund reach my card?", 2)
	require.NotEmpty(t, r.Matches)
	assert.Equal(t, "refund", r.Matches[0].ShortCode)
}

func TestSearchOfHostileText(t *testing.T) {
	ix := NewIndex(shop)
	for name, text := range map[string]string{
		"one long word":        strings.Repeat("refund", 200_000),
		"long unknown words":   strings.Repeat("zqxwvjk", 150_000),
		"repeated request":     strings.Repeat("where is my refund? ", 60_000),
		"decomposing":          strings.Repeat("\ufdfa", 100_000),
		"run-together letters": strings.Repeat("ab", 500_000),
	} {
		r := ix.Search(text, 3)
		assert.LessOrEqual(t, r.Confidence, 1.0, name)
	}
	assert.Equal(t, "track_refund", ix.Search(strings.Repeat("where is my refund? ", 60_000), 1).Matches[0].ShortCode)
}

// A score is a sum of floating-point products; summed in map order, it
// changed in its last digits from one index or one search to the next, and
// a message scored exactly at min_score could be drafted once and not the
// next time.
func TestSearchIsDeterministic(t *testing.T) {
	text := "Hi, I'm still waiting on my compensation for the order I cancelled, where is my refund?"
	want := NewIndex(shop).Search(text, 3)
	for range 20 {
		assert.Equal(t, want, NewIndex(shop).Search(text, 3))
	}
}
