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
		{"a negated verb before a possession", "Why isn't my refund showing up?", []string{"refund"}},
		{"a denial written into a phrase", "There is a payment I did not make", []string{"billing", "urgent"}},
		{"a denial after a negation keeps its verb", "A cash withdrawal shows up that I didn't do", []string{"urgent"}},
		{"inability is not a denial", "I can't make any payments with my card", []string{"billing"}},
		{"not able is inability too", "I am not able to make a purchase", nil},
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

// TestRealPhrasings holds questions as customers of a bank or a shop ask
// them, worded unlike the rules, one table row per way of asking.
func TestRealPhrasings(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	tests := []struct {
		tag  string
		text string
		want []string
	}{
		{"billing", "Why was my card declined at the supermarket?", []string{"billing"}},
		{"billing", "There's an extra charge on my bank statement", []string{"billing"}},
		{"billing", "When is my electricity bill due?", []string{"billing"}},
		{"billing", "How much do I owe this month?", []string{"billing"}},
		{"billing", "The exchange rate you applied to my purchase was wrong", []string{"billing"}},
		{"billing", "Do you charge anything for transfers?", []string{"billing"}},
		{"billing", "I have a duplicate transaction for one purchase", []string{"billing"}},
		{"billing", "How much does it cost to send money abroad?", []string{"billing"}},

		{"shipping", "My new card hasn't arrived yet", []string{"shipping"}},
		{"shipping", "When will my replacement card be here?", []string{"shipping"}},
		{"shipping", "Can I track the card you sent me?", []string{"shipping"}},
		{"shipping", "I'm still waiting for my order", []string{"shipping"}},
		{"shipping", "What's the status of my online order?", []string{"shipping"}},
		{"shipping", "How long does it take to get a new card?", []string{"shipping"}},

		{"refund", "How do I get a refund for an item I returned?", []string{"refund"}},
		{"refund", "Why isn't my refund showing up?", []string{"refund"}},
		{"refund", "Can I return the product I bought?", []string{"refund"}},
		{"refund", "Please give me back my money", []string{"refund"}},

		{"account", "How do I close my account?", []string{"account"}},
		{"account", "I need to verify my identity", []string{"account"}},
		{"account", "I'd like to change my personal details", []string{"account"}},
		{"account", "How old do you have to be to open an account?", []string{"account"}},
		{"account", "I forgot my passcode", []string{"account"}},
		{"account", "I no longer need my premium account, please delete it", []string{"account"}},
		{"account", "Why is there a hold on my checking account?", []string{"account", "urgent"}},

		// Money held in or moved between accounts is not about the account,
		// money arriving is not shipping, and a card application is not a
		// parcel.
		{"none", "What's the interest rate on my savings account?", nil},
		{"none", "I want to move money to my other account", nil},
		{"none", "The transfer to my friend hasn't arrived", nil},
		{"none", "What is the status of my credit card application?", nil},
		{"none", "Why can't I withdraw cash?", nil},
	}
	for _, tt := range tests {
		t.Run(tt.tag+": "+tt.text, func(t *testing.T) {
			assert.Equal(t, tt.want, tagger.Tags(tt.text))
		})
	}
}

// TestUrgentCategories checks each kind of urgency in the definition in
// rules.yaml, and what is not urgent by it.
func TestUrgentCategories(t *testing.T) {
	tagger, err := New(DefaultRules())
	require.NoError(t, err)
	tests := []struct {
		category string
		text     string
		urgent   bool
	}{
		{"fraud", "I think I've been scammed, someone emptied my account", true},
		{"fraud", "There's fraudulent activity on my card", true},
		{"payment not recognised", "I don't recognise this charge on my statement", true},
		{"payment not recognised", "There's a direct debit on my account that I never set up", true},
		{"payment not recognised", "What is this strange transaction on my card?", true},
		{"withdrawal not recognised", "A cash withdrawal shows up in the app that I didn't do", true},
		{"card used by someone else", "Someone is using my card without my permission", true},
		{"lost or stolen card", "My card was stolen", true},
		{"lost or stolen card", "I lost my wallet with all my cards in it", true},
		{"lost or stolen card", "I can't find my credit card anywhere", true},
		{"lost or stolen phone", "My phone was stolen and the banking app is on it", true},
		{"lost or stolen phone", "I lost my phone yesterday, what should I do?", true},
		{"lost or stolen credentials", "I lost my password", true},
		{"lost or stolen credentials", "Someone stole my password", true},
		{"compromised account", "My account has been hacked", true},
		{"compromised account", "I think my PIN has been compromised", true},
		{"locked account", "Why is my account frozen? I can't pay my rent", true},
		{"locked account", "I'm locked out of my online banking", true},
		{"locked account", "Please put a block on my account right now", true},
		{"safety", "The charger caught fire and burned my hand", true},
		{"legal", "If this isn't resolved I will take legal action", true},
		{"explicit", "Please sort this out asap", true},

		{"a fee", "How much is the fee for using my card abroad?", false},
		{"a forgotten password", "I forgot my password, how do I reset it?", false},
		{"a card found again", "I found my lost card, can I still use it?", false},
		{"a card in the post", "Is my card lost in the post? It's been two weeks", false},
		{"a damaged card", "My card is damaged, can I get a new one?", false},
		{"a declined withdrawal", "Why can't I withdraw cash?", false},
		{"a payment that failed", "I can't make any payments with my card", false},
		{"a name, not a theft", "Hi, this is Rob, where is my order?", false},
	}
	for _, tt := range tests {
		t.Run(tt.category+": "+tt.text, func(t *testing.T) {
			assert.Equal(t, tt.urgent, slices.Contains(tagger.Tags(tt.text), "urgent"))
		})
	}
}

func TestPhraseForms(t *testing.T) {
	tagger, err := New([]Rule{
		{Name: "risk", Any: []string{"lost/stolen card/phone", "payment ... not recognise/recognize"}},
	})
	require.NoError(t, err)
	tests := []struct {
		text string
		want []string
	}{
		{"I lost my card", []string{"risk"}},
		{"a stolen phone", []string{"risk"}},
		{"my card was lost", nil},
		{"a payment on my statement that I don't recognize", []string{"risk"}},
		{"a payment I don't recognise", []string{"risk"}},
		{"a payment on my old statement from last month I don't recognise", nil},
		{"a payment. I don't recognise it", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tagger.Tags(tt.text), tt.text)
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
		{"a stopword alternative", []Rule{{Name: "a", Any: []string{"lost the/my card"}}}, "not one word"},
		{"a two-word alternative", []Rule{{Name: "a", Any: []string{"e-mail/post address"}}}, "not one word"},
		{"starts with ...", []Rule{{Name: "a", Any: []string{"... refund"}}}, "starts with"},
		{"ends with ...", []Rule{{Name: "a", Any: []string{"refund ..."}}}, "ends with"},
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
