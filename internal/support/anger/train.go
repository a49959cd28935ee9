package anger

import (
	"math"
	"math/rand/v2"
	"slices"
)

// An Example is a labelled message for Train.
type Example struct {
	Text  string
	Angry bool
}

// TrainConfig sets the hyperparameters of Train. Training is deterministic:
// the same examples and config give the same model.
type TrainConfig struct {
	Epochs   int     // passes over the examples
	Rate     float64 // AdaGrad learning rate
	L2       float64 // regularisation of the term weights, per update
	MinCount int     // a term seen in fewer examples gets no weight
	Seed     uint64  // of the shuffle before each epoch
}

// priorStrength is how hard training holds the escalation signals at their
// priors: far harder than it holds terms at zero.
const priorStrength = 0.05

// Train fits a logistic regression to examples by AdaGrad, with L2
// regularisation of the term weights towards zero and of the escalation
// signals towards their priors.
func Train(examples []Example, cfg TrainConfig) *Model {
	lex := loadLexicon()

	// Terms that occur in at least MinCount examples form the vocabulary.
	df := make(map[string]int)
	type row struct {
		signals [numSignals]float64
		terms   []int
		y       float64
	}
	rows := make([]row, len(examples))
	termsOf := make([][]string, len(examples))
	for i, ex := range examples {
		words := split(clip(ex.Text)) // as Score reads it
		seen := make(map[string]bool)
		terms(words, func(t []byte) {
			s := string(t)
			termsOf[i] = append(termsOf[i], s)
			if !seen[s] {
				seen[s] = true
				df[s]++
			}
		})
		rows[i].signals = signals(lex, words)
		if ex.Angry {
			rows[i].y = 1
		}
	}
	var vocab []string
	for t, n := range df {
		if n >= cfg.MinCount {
			vocab = append(vocab, t)
		}
	}
	slices.Sort(vocab)
	index := make(map[string]int, len(vocab))
	for i, t := range vocab {
		index[t] = i
	}
	for i := range rows {
		for _, t := range termsOf[i] {
			if j, ok := index[t]; ok {
				rows[i].terms = append(rows[i].terms, j)
			}
		}
	}

	var (
		bias, bias2 float64
		sw, sw2     [numSignals]float64
		tw          = make([]float64, len(vocab))
		tw2         = make([]float64, len(vocab))
	)
	for i, p := range priors {
		sw[i] = p
	}
	step := func(g float64, acc *float64) float64 {
		*acc += g * g
		return cfg.Rate * g / (math.Sqrt(*acc) + 1e-8)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed))
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			r := &rows[k]
			z := bias
			for i, x := range r.signals {
				z += sw[i] * x
			}
			for _, j := range r.terms {
				z += tw[j]
			}
			g := 1/(1+math.Exp(-z)) - r.y
			bias -= step(g, &bias2)
			for i, x := range r.signals {
				gi := g * x
				if p, ok := priors[i]; ok {
					gi += priorStrength * (sw[i] - p)
				}
				if gi != 0 {
					sw[i] -= step(gi, &sw2[i])
				}
				if slices.Contains(angrier, i) {
					sw[i] = max(sw[i], 0)
				}
			}
			for _, j := range r.terms {
				tw[j] -= step(g+cfg.L2*tw[j], &tw2[j])
			}
		}
	}

	m := &Model{Bias: round(bias), Signals: make(map[string]float64), Terms: make(map[string]float64)}
	for i, w := range sw {
		m.Signals[signalNames[i]] = round(w)
	}
	for i, w := range tw {
		if w := round(w); w != 0 {
			m.Terms[vocab[i]] = w
		}
	}
	return m
}

// round keeps four decimals, plenty for a weight and a third the size in
// model.json of a full float64.
func round(w float64) float64 {
	return math.Round(w*1e4) / 1e4
}
