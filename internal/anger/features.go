package anger

import (
	"math"
	"strings"
)

// The message-level features, in the order of a feature vector. The
// support escalations come last: see priors.
const (
	fNeg = iota
	fPos
	fCompound
	fProfanity
	fComplaint
	fCaps
	fExclaim
	fExclaimRun
	fQuestion
	fLeaving
	fChargeback
	fLegal
	fPublic
	numSignals
)

// signalNames name the message-level features in model.json.
var signalNames = [numSignals]string{
	"vader_neg", "vader_pos", "vader_compound", "profanity", "complaint",
	"caps_ratio", "exclaim", "exclaim_run", "question", "threat_leave",
	"threat_chargeback", "threat_legal", "threat_public",
}

// priors are the weights of the escalation signals. The training comments
// (Reddit) almost never threaten a chargeback or a lawsuit, so the data
// cannot set these weights; training starts them here and holds them close.
// Each is strong enough to lift an otherwise neutral message over the
// threshold on its own.
var priors = map[int]float64{fLeaving: 2, fChargeback: 2.5, fLegal: 2.5, fPublic: 2}

var matchers = [numSignals]matcher{
	fProfanity:  {phrases: profanity, prefix: true},
	fComplaint:  {phrases: complaints},
	fLeaving:    {phrases: leaving},
	fChargeback: {phrases: chargeback},
	fLegal:      {phrases: legal},
	fPublic:     {phrases: public},
}

// signals computes the message-level features of words.
func signals(lex *lexicon, words []word) [numSignals]float64 {
	var f [numSignals]float64
	v := lex.score(words)
	f[fNeg], f[fPos], f[fCompound] = v.neg, v.pos, v.compound

	var b strings.Builder
	var letters, caps, exclaim, question int
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.text)
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
	text := b.String()
	for i, m := range matchers {
		if m.phrases == nil {
			continue
		}
		n := m.count(text)
		if i >= fLeaving {
			f[i] = float64(min(n, 1))
		} else {
			f[i] = math.Log1p(float64(n))
		}
	}
	if letters > 0 {
		f[fCaps] = float64(caps) / float64(letters)
	}
	f[fExclaim] = math.Log1p(float64(exclaim))
	f[fQuestion] = math.Log1p(float64(question))
	return f
}

// terms calls fn with every unigram and bigram of words. The slice passed to
// fn is reused, so that scoring allocates no strings for lookups.
func terms(words []word, fn func(term []byte)) {
	var buf []byte
	for i, w := range words {
		buf = append(buf[:0], w.text...)
		fn(buf)
		if i > 0 {
			buf = append(append(append(buf[:0], words[i-1].text...), ' '), w.text...)
			fn(buf)
		}
	}
}
