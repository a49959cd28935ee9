package anger

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"sync"

	"supportpipe/internal/support/anger/termtable"
)

// valence holds VADER's view of a message: the share of its sentiment that
// is negative and positive, and the compound polarity in [-1, 1].
type valence struct {
	neg, pos, compound float64
}

// The constants of the VADER paper (Hutto and Gilbert, 2014), as govader
// applies them.
const (
	negationScalar = -0.74 // a negated word keeps about three quarters of its weight, flipped
	capsIncrement  = 0.733 // a word in capitals among lower-case ones
	butBefore      = 0.5   // sentiment before "but" counts half...
	butAfter       = 1.5   // ...and after it half as much again
	exclaimScale   = 0.292 // each "!", up to four
	alpha          = 15    // normalisation of the compound score
)

// lexicon is govader's word list with its booster and negation words. Its
// own PolarityScores costs over 100 µs a message (a regular expression per
// word, a string per rune), so the scorer below applies the same lexicon and
// rules to the tokens the model already has.
//
// Loading them from govader took ~20 ms of the processor's cold start
// (gunzipping and splitting 11,000 lines, compiling regular expressions), so
// vader.bin holds them packed: cmd/train -pack writes it from govader (the
// words, the boosters, then the negations with weight 1), and
// TestPackedLexicon holds it to govader's lists.
type lexicon struct {
	words   termtable.Table
	booster termtable.Table
	negate  termtable.Table
}

//go:embed vader.bin
var packedLexicon []byte

var loadLexicon = sync.OnceValue(func() *lexicon {
	t, err := termtable.OpenAll(packedLexicon)
	if err != nil || len(t) != 3 {
		panic(fmt.Sprintf("anger: bad embedded vader.bin (%d tables): %v", len(t), err))
	}
	return &lexicon{words: t[0], booster: t[1], negate: t[2]}
})

func (l *lexicon) negates(w string) bool {
	return l.negate.Get(w) != 0 || strings.Contains(w, "n't")
}

// score computes VADER's negative, positive and compound scores: lexicon
// valences, boosted or damped by the three words before them, flipped by a
// negation among them, emphasised by capitals, weighted around "but", and
// amplified by exclamation marks.
func (l *lexicon) score(words []word) valence {
	var (
		allCaps = true
		sents   = make([]float64, 0, len(words))
		butAt   = -1
		exclaim = 0
	)
	for _, w := range words {
		if isWord(w.text) && !w.caps {
			allCaps = false
		}
	}
	for i, w := range words {
		switch w.text {
		case "!":
			exclaim++
			continue
		case "?":
			continue
		case "but":
			if butAt < 0 {
				butAt = len(sents)
			}
		}
		v := l.words.Get(w.text)
		if v == 0 || l.booster.Get(w.text) != 0 {
			sents = append(sents, 0)
			continue
		}
		if w.caps && !allCaps {
			v += math.Copysign(capsIncrement, v)
		}
		for k, scale := range [...]float64{1, 0.95, 0.9} {
			j := i - k - 1
			if j < 0 {
				break
			}
			prev := words[j].text
			if l.words.Get(prev) != 0 {
				continue // a sentiment word of its own, scored in its turn
			}
			if b := l.booster.Get(prev); b != 0 {
				b = math.Copysign(b, v) * scale
				if words[j].caps && !allCaps {
					b += math.Copysign(capsIncrement, v)
				}
				v += b
			}
			if l.negates(prev) {
				v *= negationScalar
			}
		}
		sents = append(sents, v)
	}
	if butAt >= 0 {
		for i := range sents {
			switch {
			case i < butAt:
				sents[i] *= butBefore
			case i > butAt:
				sents[i] *= butAfter
			}
		}
	}
	var sum, pos, neg, neu float64
	for _, s := range sents {
		sum += s
		switch {
		case s > 0:
			pos += s + 1
		case s < 0:
			neg += s - 1
		default:
			neu++
		}
	}
	if len(sents) == 0 {
		return valence{}
	}
	emph := float64(min(exclaim, 4)) * exclaimScale
	switch {
	case sum > 0:
		sum += emph
	case sum < 0:
		sum -= emph
	}
	switch {
	case pos > -neg:
		pos += emph
	case pos < -neg:
		neg -= emph
	}
	total := pos - neg + neu
	if total == 0 {
		return valence{}
	}
	return valence{
		neg:      -neg / total,
		pos:      pos / total,
		compound: max(-1, min(1, sum/math.Sqrt(sum*sum+alpha))),
	}
}

func isWord(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			return true
		}
	}
	return false
}
