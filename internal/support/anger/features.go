package anger

import (
	"math"
	"sync"
)

// The message-level features, in the order of a feature vector. The
// support escalations come last: see priors.
const (
	fNeg = iota
	fPos
	fCompound
	fProfanity
	fComplaint
	fShouting
	fExclaim
	fExclaimRun
	fQuestion
	fShoutNeg
	fExclaimNeg
	fLeaving
	fChargeback
	fLegal
	fPublic
	numSignals
)

// signalNames name the message-level features in model.json.
var signalNames = [numSignals]string{
	"vader_neg", "vader_pos", "vader_compound", "profanity", "complaint",
	"shouting", "exclaim", "exclaim_run", "question", "shouting_negative",
	"exclaiming_negative", "threat_leave",
	"threat_chargeback", "threat_legal", "threat_public",
}

// priors are the weights of the escalation signals. The training comments
// (Reddit) almost never threaten a chargeback or a lawsuit, so the data
// cannot set these weights; training starts them here and holds them close.
// Each is strong enough to lift an otherwise neutral message over the
// threshold on its own.
var priors = map[int]float64{fLeaving: 2.5, fChargeback: 3, fLegal: 3, fPublic: 2.5}

// angrier lists the signals that can only make a message angrier; training
// keeps their weights at zero or above, so that the quirks of the training
// comments cannot turn, say, profanity into a sign of calm.
var angrier = []int{fNeg, fProfanity, fComplaint, fShouting, fShoutNeg, fExclaimNeg, fLeaving, fChargeback, fLegal, fPublic}

var phrases = sync.OnceValue(func() *phraseIndex {
	return newPhraseIndex(map[int][]string{
		fProfanity:  profanity,
		fComplaint:  complaints,
		fLeaving:    leaving,
		fChargeback: chargeback,
		fLegal:      legal,
		fPublic:     public,
	}, map[int]bool{fProfanity: true})
})

// signals computes the message-level features of words.
func signals(lex *lexicon, words []word) [numSignals]float64 {
	var f [numSignals]float64
	v := lex.score(words)
	f[fNeg], f[fPos], f[fCompound] = v.neg, v.pos, v.compound

	var letters, caps, exclaim, question int
	for i, w := range words {
		switch {
		case w.text == "!":
			exclaim++
			if i > 0 && words[i-1].text == "!" {
				f[fExclaimRun] = 1
			}
		case w.text == "?":
			question++
		case isWord(w.text):
			letters++
			if w.caps && len(w.text) >= 3 {
				caps++
			}
		}
	}
	var n [numSignals]int
	phrases().count(words, &n)
	f[fProfanity] = math.Log1p(float64(n[fProfanity]))
	f[fComplaint] = math.Log1p(float64(n[fComplaint]))
	for _, i := range []int{fLeaving, fChargeback, fLegal, fPublic} {
		f[i] = float64(min(n[i], 1))
	}
	// A capitalised word or two is an acronym or emphasis; a message mostly
	// in capitals is shouting.
	if caps >= 3 && 2*caps >= letters {
		f[fShouting] = 1
	}
	f[fExclaim] = math.Log1p(float64(exclaim))
	f[fQuestion] = math.Log1p(float64(question))
	// Capitals and "!!" are excitement as often as anger; with negative
	// sentiment they are not.
	negative := max(0, -v.compound)
	f[fShoutNeg] = f[fShouting] * negative
	f[fExclaimNeg] = f[fExclaimRun] * negative
	return f
}

const prefixLen = 4

// terms calls fn with every unigram and bigram of words. The slice passed to
// fn is reused, so that scoring allocates no strings for lookups.
func terms(words []word, fn func(term []byte)) {
	var buf []byte
	for i, w := range words {
		buf = append(buf[:0], w.text...)
		fn(buf)
		if len(w.text) > prefixLen && isWord(w.text) {
			buf = append(append(buf[:0], '~'), w.text[:prefixLen]...)
			fn(buf)
		}
		if i > 0 {
			buf = append(append(append(buf[:0], words[i-1].text...), ' '), w.text...)
			fn(buf)
		}
	}
}
