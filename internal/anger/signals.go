package anger

import "strings"

// Signals of angry language that a general sentiment lexicon misses or
// underrates in support conversations. Each group becomes one feature of the
// model, so that a word seen rarely in training still counts with the
// weight its group earned.

// profanity is matched by prefix, so "fucking", "shitty" and "bullshit"
// need no entries of their own beyond these stems.
var profanity = []string{
	"fuck", "fck", "fuk", "fucc", "shit", "bullshit", "crap", "damn", "goddamn",
	"dammit", "bastard", "bitch", "asshole", "arsehole", "dick", "piss", "wtf",
	"stfu", "ffs", "bollocks", "bloody", "cunt", "motherf", "jackass", "dumbass",
	"screw you", "the hell",
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

// Escalations: a customer who threatens to leave (not one who merely asks
// to close an account), to reverse the payment,
// to go to court or to go public is angry whatever words they choose. These
// hardly occur in the training comments, so their weights are set (see
// priors) rather than learned.
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
		"bad review", "negative review", "1 star", "one star", "bbb", "better business bureau", "trustpilot", "yelp",
		"tell everyone", "social media", "report you", "reporting you",
		"post about this",
	}
)

// matcher finds the phrases of one signal group in a lower-cased message.
type matcher struct {
	phrases []string
	prefix  bool // also match a phrase as the start of a longer word
}

// count returns how many times phrases occur as whole words (or word
// prefixes, for a prefix matcher) in text, which must be lower-cased and
// have single spaces between words.
func (m matcher) count(text string) int {
	n := 0
	for _, p := range m.phrases {
		for i := 0; ; {
			j := strings.Index(text[i:], p)
			if j < 0 {
				break
			}
			at := i + j
			end := at + len(p)
			i = end
			if at > 0 && text[at-1] != ' ' {
				continue
			}
			if !m.prefix && end < len(text) && text[end] != ' ' {
				continue
			}
			n++
		}
	}
	return n
}
