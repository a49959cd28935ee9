package anger

import (
	"math"
	"strings"
	"sync"

	"github.com/jonreiter/govader"
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
type lexicon struct {
	words   map[string]float64
	booster map[string]float64
	negate  map[string]bool
}

var loadLexicon = sync.OnceValue(func() *lexicon {
	sia := govader.NewSentimentIntensityAnalyzer()
	l := &lexicon{
		words:   sia.Lexicon,
		booster: sia.Constants.BoosterDict,
		negate:  make(map[string]bool),
	}
	for _, w := range sia.Constants.NegateList {
		l.negate[w] = true
	}
	return l
})

func (l *lexicon) negates(w string) bool {
	return l.negate[w] || strings.Contains(w, "n't")
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
		v := l.words[w.text]
		if v == 0 || l.booster[w.text] != 0 {
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
			if l.words[prev] != 0 {
				continue // a sentiment word of its own, scored in its turn
			}
			if b := l.booster[prev]; b != 0 {
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
