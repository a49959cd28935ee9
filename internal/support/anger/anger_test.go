package anger

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/jonreiter/govader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/anger/termtable"
)

func TestScore(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	tests := []struct {
		mood, text string
		angry      bool
	}{
		{"angry", "This is ridiculous, you people are useless", true},
		{"angry", "Worst service ever. Absolutely unacceptable!!", true},
		{"angry", "I'm so fed up with your stupid excuses", true},
		{"angry", "i want to cancel my fucking order", true},
		{"angry", "How dare you charge me again, I hate this company", true},
		{"calm", "Hi, could you tell me when my order will arrive? Thanks!", false},
		{"calm", "Could you please update my billing address?", false},
		{"calm", "Thank you so much, the replacement arrived and works perfectly.", false},
		{"calm", "Do you ship to Canada?", false},
		{"sad", "I'm so sad, my grandmother passed away and the flowers didn't arrive in time.", false},
		{"sad", "I'm disappointed the colour is different from the picture.", false},
		{"sad", "I miss my old phone, this one just isn't the same", false},
	}
	for _, tt := range tests {
		t.Run(tt.mood+": "+tt.text, func(t *testing.T) {
			s := d.Score(tt.text)
			assert.GreaterOrEqual(t, s, 0.0)
			assert.LessOrEqual(t, s, 1.0)
			assert.Equal(t, tt.angry, s >= DefaultThreshold, "score %.3f", s)
		})
	}
}

// Escalations are rare in the training comments but unmistakable in
// support: each lifts a message that is otherwise matter-of-fact.
func TestEscalations(t *testing.T) {
	d, err := New()
	require.NoError(t, err)
	base := "My order arrived without the charger."
	require.Less(t, d.Score(base), DefaultThreshold)
	for _, s := range []string{
		" I will file a chargeback with my bank.",
		" My lawyer will be in touch.",
		" I'm leaving a 1 star review on Trustpilot.",
		" Fix it or I'll close my account.",
	} {
		assert.GreaterOrEqual(t, d.Score(base+s), DefaultThreshold, s)
	}
}

// reviewedModel is model.json, which the binary does not embed.
func reviewedModel(t *testing.T) *Model {
	b, err := os.ReadFile("model.json")
	require.NoError(t, err)
	var m Model
	require.NoError(t, json.Unmarshal(b, &m))
	return &m
}

func TestEmbeddedThreshold(t *testing.T) {
	m := reviewedModel(t)
	assert.Equal(t, m.Threshold, DefaultThreshold, "run go run ./cmd/train and copy its threshold")
	assert.NotEmpty(t, m.Terms)
}

// The fast valence scorer must stay close to govader's own PolarityScores,
// whose lexicon and rules it applies.
func TestValenceFollowsVADER(t *testing.T) {
	sia := govader.NewSentimentIntensityAnalyzer()
	lex := loadLexicon()
	for _, s := range []string{
		"I hate this, it is terrible",
		"The product is not bad at all",
		"This is GREAT",
		"Really awful service!!!",
		"I love the colour but the size is wrong",
		"The parcel arrived on Tuesday",
		"I am extremely angry and very disappointed",
	} {
		want := sia.PolarityScores(s)
		got := lex.score(split(s))
		assert.InDelta(t, want.Compound, got.compound, 0.05, "compound of %q", s)
		assert.InDelta(t, want.Negative, got.neg, 0.05, "neg of %q", s)
	}
}

func TestTrain(t *testing.T) {
	var examples []Example
	for range 50 {
		examples = append(examples,
			Example{Text: "this is awful and I am furious", Angry: true},
			Example{Text: "what a lovely parcel, thank you", Angry: false},
			Example{Text: "the parcel arrived today", Angry: false},
		)
	}
	cfg := TrainConfig{Epochs: 3, Rate: 0.1, L2: 1e-3, MinCount: 2, Seed: 7}
	m := Train(examples, cfg)
	assert.Equal(t, m, Train(examples, cfg), "training is deterministic")
	assert.Positive(t, m.Terms["furious"])
	assert.Negative(t, m.Terms["lovely"])
	assert.InDelta(t, priors[fLegal], m.Signals["threat_legal"], 1e-9, "an unseen escalation keeps its prior")

	d, err := FromModel(m)
	require.NoError(t, err)
	assert.Greater(t, d.Score("I am furious"), 0.5)
	assert.Less(t, d.Score("thank you, lovely"), 0.5)

	m.Signals["no such signal"] = 1
	_, err = FromModel(m)
	assert.Error(t, err)
}

func TestSignals(t *testing.T) {
	f := signals(loadLexicon(), split("WHY IS MY ORDER STILL NOT HERE?!! The WORST. I'll sue"))
	assert.Equal(t, 1.0, f[fShouting])
	assert.Equal(t, 1.0, f[fExclaimRun])
	assert.Equal(t, math.Log1p(1), f[fComplaint])
	assert.Equal(t, 1.0, f[fLegal])
	assert.Zero(t, f[fPublic])

	f = signals(loadLexicon(), split("I'll call my bank for a chargeback and post a 1 star review"))
	assert.Equal(t, 1.0, f[fChargeback], "several phrases of a group count once")
	assert.Equal(t, 1.0, f[fPublic])
	assert.Zero(t, f[fShouting])

	f = signals(loadLexicon(), split("Hello there, I'll be shelling out for the suede shoes"))
	assert.Zero(t, f[fProfanity], "prefixes match at word starts only")
	assert.Zero(t, f[fLegal], "whole words only")
	assert.Zero(t, f[fShouting])
}

// A typical chat message of about 200 characters.
const message = "Hi, I ordered a blue jacket last Tuesday (order 55120) and the tracking still says label created. " +
	"I need it by Friday for a trip, so could you check what's going on? Thanks, Sam"

func BenchmarkScore(b *testing.B) {
	d, err := New()
	require.NoError(b, err)
	for b.Loop() {
		d.Score(message)
	}
}

// The embedded model.bin is model.json packed: the same bias, signals and
// terms, each weight to the bit, and no other term.
func TestPackedModel(t *testing.T) {
	m := reviewedModel(t)
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(b, packedModel), "model.bin is not model.json packed: go generate ./internal/support/anger")

	tables, err := termtable.OpenAll(packedModel)
	require.NoError(t, err)
	require.Len(t, tables, 3)
	assert.Equal(t, math.Float64bits(m.Bias), math.Float64bits(tables[0].Get("bias")))
	assert.Equal(t, math.Float64bits(m.Threshold), math.Float64bits(tables[0].Get("threshold")))
	d, err := New()
	require.NoError(t, err)
	assert.Equal(t, math.Float64bits(m.Bias), math.Float64bits(d.bias))
	require.Len(t, m.Signals, numSignals)
	for i, name := range signalNames {
		assert.Equal(t, math.Float64bits(m.Signals[name]), math.Float64bits(d.signals[i]), name)
	}
	assert.Equal(t, len(m.Terms), d.terms.Len())
	for k, w := range m.Terms {
		if math.Float64bits(w) != math.Float64bits(d.terms.Get(k)) {
			t.Errorf("term %q: %v in model.json, %v in model.bin", k, w, d.terms.Get(k))
		}
	}
}

// The embedded vader.bin holds govader's lexicon, boosters and negations.
func TestPackedLexicon(t *testing.T) {
	sia := govader.NewSentimentIntensityAnalyzer()
	lex := loadLexicon()
	negations := map[string]float64{}
	for _, w := range sia.Constants.NegateList {
		negations[w] = 1
	}
	for _, tt := range []struct {
		name string
		want map[string]float64
		got  termtable.Table
	}{
		{"words", sia.Lexicon, lex.words},
		{"boosters", sia.Constants.BoosterDict, lex.booster},
		{"negations", negations, lex.negate},
	} {
		got := map[string]float64{}
		for k, v := range tt.got.All() {
			got[k] = v
		}
		assert.Equal(t, tt.want, got, "%s: vader.bin is not govader's: go generate ./internal/support/anger", tt.name)
	}
}
