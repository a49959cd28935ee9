package anger

import "strings"

// Signals of angry language that a general sentiment lexicon misses or
// underrates in support conversations. Each group becomes one feature of the
// model, so that a word seen rarely in training still counts with the
// weight its group earned.

// profanity is matched by prefix, so "fucking" and "shitty" need no entries
// of their own. Phrases of several words match whole.
var profanity = []string{
	"fuck", "fck", "fuk", "fucc", "shit", "bullshit", "crap", "damn", "goddamn",
	"dammit", "bastard", "bitch", "asshole", "arsehole", "dick", "piss", "wtf",
	"stfu", "ffs", "bollocks", "bloody", "cunt", "motherf", "jackass", "dumbass",
	"screw you", "the hell", "pissed off",
}

// complaints are the words of an exasperated customer.
var complaints = []string{
	"worst", "ridiculous", "unacceptable", "pathetic", "disgusting", "useless",
	"incompetent", "joke", "scam", "rip off", "ripoff", "ripped off", "terrible",
	"horrible", "awful", "fed up", "sick of", "sick and tired", "furious",
	"livid", "outraged", "outrageous", "angry", "annoyed", "annoying",
	"pissed", "infuriating", "frustrated", "frustrating", "how dare", "shame on",
	"disgrace", "appalling", "absurd", "insane", "stupid", "idiot", "moron",
	"liar", "lying", "lied", "thieves", "stealing", "hate", "never again",
	"waste of", "wasted", "enough is enough", "seriously",
	"what the hell", "are you kidding", "unbelievable",
}

// Escalations: a customer who threatens to leave (rather than just asking to
// close an account), to reverse the payment, to go to court or to go public
// is angry whatever words they choose. These hardly occur in the training
// comments, so their weights are set (see priors) rather than learned.
var (
	leaving = []string{
		"i'll cancel", "i will cancel", "i'm cancelling", "i'm canceling",
		"going to cancel", "i'll close my account", "i will close my account",
		"i'm closing my account", "cancel everything", "never order", "never buy",
		"never shop", "last time i order", "taking my business",
		"take my business", "lost a customer", "lost a loyal customer",
		"going to a competitor", "switching to a competitor",
	}
	chargeback = []string{
		"chargeback", "charge back", "dispute the charge", "dispute with my bank",
		"dispute it with", "call my bank", "contact my bank", "calling my bank",
		"dispute with my card", "reverse the charge", "reverse the payment",
	}
	legal = []string{
		"sue", "suing", "lawyer", "attorney", "legal action", "take you to court",
		"small claims", "trading standards", "consumer protection",
		"ombudsman", "solicitor",
	}
	public = []string{
		"bad review", "negative review", "1 star", "one star", "bbb",
		"better business bureau", "trustpilot", "yelp", "tell everyone",
		"social media", "report you", "reporting you", "post about this",
	}
)

// A phrase is one phrase of a signal group, split into words as messages
// are.
type phrase struct {
	group int
	words []string
}

// phraseIndex finds the phrases of all signal groups in one pass over the
// words of a message.
type phraseIndex struct {
	byFirst  map[string][]phrase // phrases whose first word must match whole
	prefixes []phrase            // one-word phrases that may start a longer word ("fuck" in "fucking")
}

func newPhraseIndex(groups map[int][]string, prefix map[int]bool) *phraseIndex {
	x := &phraseIndex{byFirst: make(map[string][]phrase)}
	for g, list := range groups {
		for _, p := range list {
			ph := phrase{group: g}
			for _, w := range split(p) {
				ph.words = append(ph.words, w.text)
			}
			if prefix[g] && len(ph.words) == 1 {
				x.prefixes = append(x.prefixes, ph)
			} else {
				x.byFirst[ph.words[0]] = append(x.byFirst[ph.words[0]], ph)
			}
		}
	}
	return x
}

// count adds to counts[g] the number of matches of group g's phrases.
func (x *phraseIndex) count(words []word, counts *[numSignals]int) {
	for i, w := range words {
		for _, p := range x.prefixes {
			if strings.HasPrefix(w.text, p.words[0]) {
				counts[p.group]++
			}
		}
		for _, p := range x.byFirst[w.text] {
			if p.matchAt(words, i) {
				counts[p.group]++
			}
		}
	}
}

func (p phrase) matchAt(words []word, i int) bool {
	if i+len(p.words) > len(words) {
		return false
	}
	for k, pw := range p.words {
		if words[i+k].text != pw {
			return false
		}
	}
	return true
}
