// Command train fits the anger model on the GoEmotions training comments
// and writes internal/support/anger/model.json, for review, and model.bin,
// the same model packed as the anger package embeds it.
//
// It first runs k-fold cross-validation on the training data alone and
// keeps the threshold with the best pooled out-of-fold F1, so that neither
// weights nor threshold ever see the dev split used for evaluation. Run it
// from the repository root:
//
//	go run ./cmd/train
//
// Training is deterministic (fixed shuffle seed and epoch count): the same
// data gives the same model.json byte for byte.
//
// With -pack it trains nothing: it packs model.json into model.bin again
// (after a hand edit, say) and govader's lexicon into vader.bin, which the
// anger package embeds so that it need not build either at start. The
// anger package's go:generate runs it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/jonreiter/govader"

	"supportpipe/internal/support/anger"
	"supportpipe/internal/support/anger/termtable"
)

func main() {
	data := flag.String("data", "../shared/data/goemotions/train.jsonl", "labelled training comments (JSON lines with text and angry)")
	out := flag.String("out", "internal/support/anger/model.json", "where to write the model (model.bin goes next to it)")
	pack := flag.Bool("pack", false, "train nothing: pack the model at -out into model.bin, and govader's lexicon into vader.bin, next to it")
	folds := flag.Int("folds", 5, "cross-validation folds for the threshold")
	cfg := anger.TrainConfig{}
	flag.IntVar(&cfg.Epochs, "epochs", 12, "passes over the data")
	flag.Float64Var(&cfg.Rate, "rate", 0.02, "AdaGrad learning rate")
	flag.Float64Var(&cfg.L2, "l2", 1e-3, "L2 regularisation of term weights")
	flag.IntVar(&cfg.MinCount, "mincount", 3, "minimum number of examples a term must occur in")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "shuffle seed")
	flag.Parse()
	log.SetFlags(0)

	if *pack {
		if err := packFiles(*out); err != nil {
			log.Fatal(err)
		}
		return
	}
	examples, err := load(*data)
	if err != nil {
		log.Fatal(err)
	}
	threshold, f1, err := crossValidate(examples, cfg, *folds)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d examples, %d-fold cross-validation: best F1 %.4f at threshold %.2f\n", len(examples), *folds, f1, threshold)

	m := anger.Train(examples, cfg)
	m.Threshold = threshold
	b, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := writeBinary(*out, m); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s and model.bin: %d terms; set anger.DefaultThreshold = %.2f\n", *out, len(m.Terms), threshold)
}

// writeBinary writes m packed as model.bin next to the JSON model at path.
func writeBinary(path string, m *anger.Model) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(path, filepath.Ext(path))+".bin", b, 0o644)
}

// packFiles writes model.bin from the JSON model at path, and vader.bin
// from govader's lexicon next to it: its words' valences, its boosters,
// then its negations (each with weight 1), as the anger package reads them.
func packFiles(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m anger.Model
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := writeBinary(path, &m); err != nil {
		return err
	}
	sia := govader.NewSentimentIntensityAnalyzer()
	negations := make(map[string]float64, len(sia.Constants.NegateList))
	for _, w := range sia.Constants.NegateList {
		negations[w] = 1
	}
	lex := termtable.Join(
		termtable.Pack(sia.Lexicon),
		termtable.Pack(sia.Constants.BoosterDict),
		termtable.Pack(negations),
	)
	return os.WriteFile(filepath.Join(filepath.Dir(path), "vader.bin"), lex, 0o644)
}

func load(path string) ([]anger.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var examples []anger.Example
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var ex anger.Example
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		examples = append(examples, ex)
	}
	return examples, sc.Err()
}

// crossValidate trains on all folds but one in turn, scores the held-out
// fold, and returns the threshold (in steps of 0.01) with the best F1 over
// all out-of-fold scores.
func crossValidate(examples []anger.Example, cfg anger.TrainConfig, k int) (threshold, f1 float64, err error) {
	fold := make([]int, len(examples))
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	for i, p := range rng.Perm(len(examples)) {
		fold[p] = i % k
	}
	scores := make([]float64, len(examples))
	for f := range k {
		var train []anger.Example
		for i, ex := range examples {
			if fold[i] != f {
				train = append(train, ex)
			}
		}
		d, err := anger.FromModel(anger.Train(train, cfg))
		if err != nil {
			return 0, 0, err
		}
		for i, ex := range examples {
			if fold[i] == f {
				scores[i] = d.Score(ex.Text)
			}
		}
	}
	for step := 1; step < 100; step++ {
		t := float64(step) / 100
		var tp, fp, fn float64
		for i, ex := range examples {
			switch pred := scores[i] >= t; {
			case pred && ex.Angry:
				tp++
			case pred:
				fp++
			case ex.Angry:
				fn++
			}
		}
		if s := 2 * tp / (2*tp + fp + fn); s > f1 {
			threshold, f1 = t, s
		}
	}
	return threshold, f1, nil
}
