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
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
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

//go:embed model.json
var embedded []byte

var loadEmbedded = sync.OnceValues(func() (*Model, error) {
	if m, ok := parseTrained(embedded); ok {
		return m, nil
	}
	var m Model
	if err := json.Unmarshal(embedded, &m); err != nil {
		return nil, fmt.Errorf("anger: embedded model: %w", err)
	}
	return &m, nil
})

// parseTrained reads model.json in the exact layout cmd/train writes (one
// `"term": weight,` per line in the terms object) about four times faster
// than encoding/json decodes its 40,000-entry map, which is most of the
// processor's cold start. Anything unexpected returns ok=false and the
// caller falls back to encoding/json.
func parseTrained(b []byte) (*Model, bool) {
	head, terms, found := bytes.Cut(b, []byte("\n\t\"terms\": {\n"))
	if !found {
		return nil, false
	}
	var m Model
	head = bytes.TrimRight(head, " \t\n,")
	if err := json.Unmarshal(append(append([]byte(nil), head...), []byte("\n}")...), &m); err != nil {
		return nil, false
	}
	body, rest, found := bytes.Cut(terms, []byte("\n\t}"))
	if !found || len(bytes.TrimSpace(rest)) != 1 { // only the closing brace may follow
		return nil, false
	}
	m.Terms = make(map[string]float64, bytes.Count(body, []byte("\n"))+1)
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		line = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte(",")))
		i := bytes.LastIndex(line, []byte("\": "))
		if len(line) < 2 || line[0] != '"' || i < 0 {
			return nil, false
		}
		key := string(line[1:i])
		if strings.ContainsRune(key, '\\') {
			var err error
			if key, err = strconv.Unquote(string(line[:i+1])); err != nil {
				return nil, false
			}
		}
		w, err := strconv.ParseFloat(string(line[i+3:]), 64)
		if err != nil {
			return nil, false
		}
		m.Terms[key] = w
	}
	return &m, true
}

// A Detector scores messages. It is safe for concurrent use.
type Detector struct {
	bias    float64
	signals [numSignals]float64
	terms   map[string]float64
	lex     *lexicon
}

// New returns a Detector with the embedded weights.
func New() (*Detector, error) {
	m, err := loadEmbedded()
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

// FromModel returns a Detector with the weights of m.
func FromModel(m *Model) (*Detector, error) {
	d := &Detector{bias: m.Bias, terms: m.Terms, lex: loadLexicon()}
	for name, w := range m.Signals {
		i := signalIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("anger: unknown signal %q in model", name)
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
	terms(words, func(t []byte) { z += d.terms[string(t)] })
	return 1 / (1 + math.Exp(-z))
}
