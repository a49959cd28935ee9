// Package anger scores how angry a support message sounds, so that the
// pipeline can route an upset customer to a person before the conversation
// escalates further.
//
// The score is a logistic regression over the words and word pairs of the
// message and a few message-level signals: VADER's sentiment (through the
// govader lexicon), profanity, shouting in capitals, runs of exclamation
// marks, exasperated words ("unacceptable", "worst"), and threats to leave,
// to charge back, to sue or to post a bad review. The weights are trained by
// cmd/train on human-labelled comments and embedded in the binary, so
// scoring needs no files and no network.
package anger

import (
	_ "embed"
	"errors"
	"fmt"
	"math"

	"supportpipe/internal/support/anger/termtable"
)

// DefaultThreshold is the score from which a message counts as angry. It is
// the threshold with the best F1 in 5-fold cross-validation on the training
// data, as printed by cmd/train and stored in model.json.
const DefaultThreshold = 0.23

// A Model holds the weights of a trained Detector, as stored in model.json.
type Model struct {
	Bias float64 `json:"bias"`
	// Threshold is the cross-validated threshold for this model; the
	// embedded model's is DefaultThreshold.
	Threshold float64            `json:"threshold"`
	Signals   map[string]float64 `json:"signals"`
	Terms     map[string]float64 `json:"terms"`
}

// model.json is the model as cmd/train writes it, for review; model.bin is
// the same model packed (MarshalBinary), which cmd/train writes with it and
// the binary embeds. Its tables are used where they lie: building a map of
// the JSON's 40,000 terms took a third of the processor's cold start.
// TestPackedModel holds the two files to the same weights.
//
//go:generate go run supportpipe/cmd/train -pack -out model.json
//go:embed model.bin
var packedModel []byte

// MarshalBinary packs m as New loads it: three tables (termtable.Join) of
// the bias and threshold (keys "bias" and "threshold"), the signals' and
// the terms' weights.
func (m *Model) MarshalBinary() ([]byte, error) {
	return termtable.Join(
		termtable.Pack(map[string]float64{"bias": m.Bias, "threshold": m.Threshold}),
		termtable.Pack(m.Signals),
		termtable.Pack(m.Terms),
	), nil
}

// A Detector scores messages. It is safe for concurrent use.
type Detector struct {
	bias    float64
	signals [numSignals]float64
	terms   termtable.Table
	lex     *lexicon
}

// New returns a Detector with the embedded weights.
func New() (*Detector, error) {
	d, err := unpack(packedModel)
	if err != nil {
		return nil, fmt.Errorf("anger: embedded model: %w", err)
	}
	return d, nil
}

// FromModel returns a Detector with the weights of m.
func FromModel(m *Model) (*Detector, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	d, err := unpack(b)
	if err != nil {
		return nil, fmt.Errorf("anger: %w", err)
	}
	return d, nil
}

// unpack returns a Detector with the packed model b, which it uses in place.
func unpack(b []byte) (*Detector, error) {
	tables, err := termtable.OpenAll(b)
	if err != nil {
		return nil, err
	}
	if len(tables) != 3 {
		return nil, errors.New("not a packed model")
	}
	d := &Detector{bias: tables[0].Get("bias"), terms: tables[2], lex: loadLexicon()}
	for name, w := range tables[1].All() {
		i := signalIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("unknown signal %q in model", name)
		}
		d.signals[i] = w
	}
	return d, nil
}

func signalIndex(name string) int {
	for i, n := range signalNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Score returns the probability, in [0, 1], that the first MaxTextRunes
// characters of text are angry. Compare it with DefaultThreshold, or with a
// threshold of your own where a missed angry customer costs more, or less,
// than a false alarm.
func (d *Detector) Score(text string) float64 {
	return d.score(split(clip(text)))
}

func (d *Detector) score(words []word) float64 {
	z := d.bias
	f := signals(d.lex, words)
	for i, x := range f {
		z += d.signals[i] * x
	}
	terms(words, func(t []byte) { z += d.terms.GetBytes(t) })
	return 1 / (1 + math.Exp(-z))
}
