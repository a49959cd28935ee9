package tagging

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTags(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"plain", "Where is my package? It still hasn't arrived.", []string{"shipping"}},
		{"several tags", "I was charged twice and want my money back", []string{"billing", "refund", "urgent"}},
		{"nothing", "Do you sell gift cards?", nil},

		{"negated urgency", "This is not urgent, but where is my order?", []string{"shipping"}},
		{"contraction", "It isn't urgent at all", nil},
		{"contraction without apostrophe", "its not that urgent, dont worry", nil},
		{"curly apostrophe", "It isn\u2019t urgent", nil},
		{"negated need", "I don't need a refund, a replacement is fine", nil},
		{"negation stays in its clause", "Not now. This is urgent!", []string{"urgent"}},
		{"inability is not negation", "I can't log in to my profile", []string{"account"}},
		{"not received is still the topic", "I didn't receive my refund", []string{"refund"}},
		{"no rush vetoes", "Urgently need my invoice copy, no rush", []string{"billing"}},
		{"whenever you get a chance", "Whenever you get a chance, please send the receipt asap", []string{"billing"}},
		{"false friend", "The Urgent Care clinic address on my order is wrong", []string{"shipping"}},

		{"stemming", "REFUNDS were promised; nothing refunded so far", []string{"refund"}},
		{"inflection", "the parcels got delivered to the wrong house", []string{"shipping"}},
		{"phrase", "Is there an early termination penalty?", []string{"billing"}},
		{"phrase with a word between", "you charged my card twice", []string{"billing", "urgent"}},
		{"phrase split by a clause", "Where is it? The order, I mean", nil},
		{"where's", "where's my order??", []string{"shipping"}},
		{"typo: missing letter", "how do I close my acount", []string{"account"}},
		{"typo: swapped letters", "list your paymnet options", []string{"billing"}},
		{"typo: extra letter", "I want a reimbvursement", []string{"refund"}},
		{"substitution is not a typo", "I want to change my order", nil},
		{"a letter more at the end is another word", "my phone charger is blocked", nil},
		{"run-together words", "update my deliveryaddress", []string{"shipping"}},
		{"number glued to a word", "where is purchase113542617735902?", []string{"shipping"}},
		{"unicode folding", "Ｒｅｆｕｎｄ for my café order", []string{"refund"}},
		{"profanity ignored", "track my damn order", []string{"shipping"}},
		{"veto", "please update the email address on file", []string{"account"}},
		{"veto of one tag only", "is there an address to send my feedback to? Or an email address?", []string{"account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tagger.Tags(tt.text))
		})
	}
}

func TestCustomRules(t *testing.T) {
	tagger, err := New([]Rule{
		{Name: "returns", Any: []string{"return label", "send it back"}, None: []string{"tax return"}},
		{Name: "alpha", Any: []string{"warranty"}},
	})
	require.NoError(t, err)
	tests := []struct {
		text string
		want []string
	}{
		{"Can you email me a return label?", []string{"returns"}},
		{"I'd like to send it back", []string{"returns"}},
		{"I need the receipt for my tax return label", nil},
		{"Is the warranty valid? I'll send it back otherwise", []string{"alpha", "returns"}},
		{"where is my parcel", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tagger.Tags(tt.text), tt.text)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		err   string
	}{
		{"empty name", []Rule{{Name: " ", Any: []string{"x"}}}, "empty name"},
		{"duplicate", []Rule{{Name: "a", Any: []string{"x"}}, {Name: "a", Any: []string{"y"}}}, "duplicate"},
		{"no phrases", []Rule{{Name: "a", None: []string{"x"}}}, "no phrases"},
		{"stopwords only", []Rule{{Name: "a", Any: []string{"the", "of my"}}}, "no words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.rules)
			assert.ErrorContains(t, err, tt.err)
		})
	}
}

func TestDefaultRules(t *testing.T) {
	var names []string
	for _, r := range DefaultRules() {
		names = append(names, r.Name)
	}
	assert.ElementsMatch(t, []string{"urgent", "billing", "shipping", "refund", "account"}, names)
}

func TestStem(t *testing.T) {
	groups := [][]string{
		{"refund", "refunds", "refunded", "refunding"},
		{"charge", "charges", "charged", "charging"},
		{"ship", "ships", "shipped", "shipping"},
		{"delivery", "deliveries"},
		{"urgent", "urgently"},
		{"address", "addresses", "addressed"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			assert.Equal(t, stem(g[0]), stem(w), "%s and %s", g[0], w)
		}
	}
	assert.NotEqual(t, stem("charge"), stem("change"))
	assert.NotEqual(t, stem("payment"), stem("pay"))
	assert.Equal(t, "bill", stem("billing"))
	assert.Equal(t, "status", stem("status"))
}

// A typical chat message of about 200 characters.
const message = "Hi, I ordered a blue jacket last Tuesday (order 55120) and the tracking still says label created. " +
	"I need it by Friday for a trip, so could you check what's going on? Thanks, Sam"

func BenchmarkTags(b *testing.B) {
	tagger, err := New(DefaultRules())
	require.NoError(b, err)
	for b.Loop() {
		tagger.Tags(message)
	}
}

// TestUrgentCases checks the urgent rule on the hand-labelled messages of
// testdata/urgent.jsonl, which cmd/evaluate reports in full.
func TestUrgentCases(t *testing.T) {
	f, err := os.Open("../../../testdata/urgent.jsonl")
	require.NoError(t, err)
	defer f.Close()
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	var tp, fp, fn, n int
	dec := json.NewDecoder(f)
	for dec.More() {
		var c struct {
			Text   string `json:"text"`
			Urgent bool   `json:"urgent"`
		}
		require.NoError(t, dec.Decode(&c))
		n++
		got := slices.Contains(tagger.Tags(c.Text), "urgent")
		switch {
		case got && c.Urgent:
			tp++
		case got:
			fp++
			t.Logf("false alarm: %s", c.Text)
		case c.Urgent:
			fn++
			t.Logf("missed: %s", c.Text)
		}
	}
	require.GreaterOrEqual(t, n, 100)
	assert.GreaterOrEqual(t, float64(tp)/float64(tp+fp), 0.85, "precision")
	assert.GreaterOrEqual(t, float64(tp)/float64(tp+fn), 0.85, "recall")
}
