// Package tagging labels support messages with topics (billing, shipping,
// refund, account) and urgency using keyword rules that a support team can
// read and edit, rather than a trained model they could not correct.
//
// Rules and messages go through the same normalisation (Unicode folding,
// case, punctuation, stopwords, light stemming), so a rule written as
// "refund" also matches "Refunds", "refunded" and "REFUNDING". A keyword
// preceded by a negation within its clause ("not urgent", "don't need a
// refund") does not count.
package tagging

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"supportpipe/internal/support/words"
)

// A Rule assigns the tag Name to a message that contains at least one of the
// Any phrases and none of the None phrases. A phrase is one or more words;
// its words must appear in order in one clause, with at most one other
// content word between two of them ("charged twice" matches "charged my card
// twice"). Two more forms keep a rule short and its phrases general:
//   - a word may list alternatives separated by "/", each a single word:
//     "lost/stolen card/phone" matches "lost my card" and "stolen phone";
//   - "..." between two words lets up to four other words stand between
//     them: "payment ... not recognise" matches "a payment on my statement
//     that I don't recognise".
type Rule struct {
	Name string   `yaml:"name" json:"name"`
	Any  []string `yaml:"any" json:"any"`
	None []string `yaml:"none" json:"none"`
}

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules returns the built-in rules for the tags urgent, billing,
// shipping, refund and account. They live in rules.yaml so that they can be
// reviewed, and copied as a starting point for custom rules, as plain text.
func DefaultRules() []Rule {
	var rules []Rule
	if err := yaml.Unmarshal(defaultRules, &rules); err != nil {
		panic("tagging: bad embedded rules.yaml: " + err.Error())
	}
	return rules
}

// A Tagger assigns tags to messages. It is safe for concurrent use.
type Tagger struct {
	names   []string
	phrases map[string][]phrase // keyed by the stem of the phrase's first word
	vocab   *vocabulary
}

type phrase struct {
	rule  int
	veto  bool
	words []element
}

// An element is one word of a phrase: the stems it may be, and how many
// other words may stand between it and the word before.
type element struct {
	stems []string
	gap   int
}

// Gaps between the words of a phrase: a phrase's words are usually said
// together, while "..." joins the parts of a sentence ("a payment on my
// statement that I don't recognise") without reaching across it, which the
// clause already bounds.
const (
	nearGap = 1
	wideGap = 4
)

// New compiles rules into a Tagger. Every rule needs a unique non-empty name
// and at least one Any phrase, and every phrase must keep at least one word
// after normalisation (a phrase of stopwords alone would match nothing).
func New(rules []Rule) (*Tagger, error) {
	t := &Tagger{phrases: make(map[string][]phrase)}
	n := 0
	for _, r := range rules {
		n += len(r.Any) + len(r.None)
	}
	words := make([]token, 0, 4*n) // phrases have about four words
	seen := make(map[string]bool)
	var errs []error
	for i, r := range rules {
		name := strings.TrimSpace(r.Name)
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("rule %d: empty name", i))
		case seen[name]:
			errs = append(errs, fmt.Errorf("rule %q: duplicate name", name))
		}
		seen[name] = true
		if len(r.Any) == 0 {
			errs = append(errs, fmt.Errorf("rule %q: no phrases in any", name))
		}
		t.names = append(t.names, name)
		for _, veto := range []bool{false, true} {
			list := r.Any
			if veto {
				list = r.None
			}
			for _, text := range list {
				elems, err := compile(text, &words)
				if err != nil {
					errs = append(errs, fmt.Errorf("rule %q: %w", name, err))
					continue
				}
				p := phrase{rule: i, veto: veto, words: elems}
				for _, s := range elems[0].stems {
					t.phrases[s] = append(t.phrases[s], p)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.vocab = newVocabulary(words)
	return t, nil
}

// compile turns the text of a phrase into its elements and appends their
// words to vocab.
func compile(text string, vocab *[]token) ([]element, error) {
	var words []element
	gap := nearGap
	for _, field := range strings.Fields(text) {
		if field == "..." {
			if len(words) == 0 {
				return nil, fmt.Errorf("phrase %q starts with ...", text)
			}
			gap = wideGap
			continue
		}
		if !strings.Contains(field, "/") {
			for _, tok := range phraseTokens(field) {
				*vocab = append(*vocab, tok)
				words = append(words, element{stems: []string{tok.stem}, gap: gap})
				gap = nearGap
			}
			continue
		}
		e := element{gap: gap}
		for _, alt := range strings.Split(field, "/") {
			toks := phraseTokens(alt)
			if len(toks) != 1 {
				return nil, fmt.Errorf("phrase %q: alternative %q is not one word to match", text, alt)
			}
			*vocab = append(*vocab, toks[0])
			if !slices.Contains(e.stems, toks[0].stem) {
				e.stems = append(e.stems, toks[0].stem)
			}
		}
		words = append(words, e)
		gap = nearGap
	}
	switch {
	case len(words) == 0:
		return nil, fmt.Errorf("phrase %q has no words to match", text)
	case gap != nearGap:
		return nil, fmt.Errorf("phrase %q ends with ...", text)
	}
	return words, nil
}

// phraseTokens tokenizes a word of a phrase. A stopword that messages keep
// after a negation ("didn't do", "isn't mine") stays a word to match.
func phraseTokens(w string) []token {
	if w := strings.ToLower(w); afterNegation[w] {
		return []token{{stem: words.Stem(w), word: w}}
	}
	return tokenize(w)
}

// MaxTextRunes is how much of a message Tags reads: its first 20,000
// characters (runes). What a customer needs and how soon is said well before
// that (a long email is a few thousand characters), while a pasted log or a
// hostile megabyte would cost every stage time in proportion to its length
// and hold up the messages queued behind it. Folding stops at as many runes
// (see words.Fold). The anger detector reads as much (anger.MaxTextRunes).
const MaxTextRunes = 20_000

// Tags returns the sorted names of the rules that match the first
// MaxTextRunes characters of text.
func (t *Tagger) Tags(text string) []string {
	return t.tags(clip(text))
}

func (t *Tagger) tags(text string) []string {
	toks := t.vocab.resolve(tokenize(text))
	const hit, veto = 1, 2
	state := make([]uint8, len(t.names))
	for i := range toks {
		for _, p := range t.phrases[toks[i].stem] {
			switch {
			case !matchAt(toks, i, p.words):
			case inability(toks, i):
			case p.veto:
				state[p.rule] |= veto
			case !negated(toks, i):
				state[p.rule] |= hit
			}
		}
	}
	var tags []string
	for i, s := range state {
		if s == hit {
			tags = append(tags, t.names[i])
		}
	}
	slices.Sort(tags)
	return tags
}

// matchAt reports whether the words of a phrase occur in toks starting at
// i, in order, in one clause, each within its gap of the one before; the
// first word is known to match. Each word is taken at its nearest match.
func matchAt(toks []token, i int, words []element) bool {
	at := i
	for _, w := range words[1:] {
		next := -1
		for j := at + 1; j <= at+1+w.gap && j < len(toks); j++ {
			if toks[j].clause != toks[i].clause {
				break
			}
			if slices.Contains(w.stems, toks[j].stem) {
				next = j
				break
			}
		}
		if next < 0 {
			return false
		}
		at = next
	}
	return true
}

// negators start a negation; "no" only does so before a filler ("no need to
// rush"), because "no refund yet" and "no tracking info" are still about
// refunds and tracking.
var negators = map[string]bool{"not": true, "never": true, "no": true}

// Inability is not negation: "I can't log in" is about logging in.
var modals = map[string]bool{"can": true, "could": true}

// inability reports whether toks[i] is a negator that says something could
// not be done ("can't make payments", "not able to withdraw") rather than
// denying it ("a payment I didn't make"): a phrase starting with a negation
// is a denial, and one about inability starts with "can" or "unable".
func inability(toks []token, i int) bool {
	if !negators[toks[i].stem] {
		return false
	}
	before := i > 0 && toks[i-1].clause == toks[i].clause && modals[toks[i-1].stem]
	after := i+1 < len(toks) && toks[i+1].clause == toks[i].clause && toks[i+1].word == "able"
	return before || after
}

// negationFillers may stand between a negator and the keyword it negates:
// "not really urgent", "don't need a refund", "no need to hurry". Any other
// word ends the negation's scope, so "didn't receive my refund" still is
// about a refund. "have" is no filler: "I don't have a gold account" is
// about the account.
var negationFillers = stems(
	"need", "needed", "want", "ask", "asking", "request", "requesting",
	"require", "looking", "really", "particularly", "too", "very", "super",
	"seem", "think", "longer", "actually", "terribly", "necessarily",
	"exactly", "anything",
)

func stems(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[words.Stem(w)] = true
	}
	return m
}

// negated reports whether the keyword at toks[i] is in the scope of a
// negation: a negator at most four words before it in the same clause with
// only fillers in between. A thing someone has is not negated, the verb
// before it is: "why isn't my refund showing" is about a refund.
func negated(toks []token, i int) bool {
	fillers := 0
	for j := i - 1; j >= 0 && i-j <= 4 && toks[j].clause == toks[i].clause; j-- {
		s := toks[j].stem
		if negators[s] {
			if s == "not" && j > 0 && modals[toks[j-1].stem] || toks[i].owned {
				return false
			}
			return s != "no" || fillers > 0
		}
		if !negationFillers[s] {
			return false
		}
		fillers++
	}
	return false
}
