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
)

// A Rule assigns the tag Name to a message that contains at least one of the
// Any phrases and none of the None phrases. A phrase is one or more words;
// its words must appear in order in one clause, with at most one other
// content word between two of them ("charged twice" matches "charged my card
// twice").
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
	stems []string
}

// New compiles rules into a Tagger. Every rule needs a unique non-empty name
// and at least one Any phrase, and every phrase must keep at least one word
// after normalisation (a phrase of stopwords alone would match nothing).
func New(rules []Rule) (*Tagger, error) {
	t := &Tagger{phrases: make(map[string][]phrase), vocab: newVocabulary()}
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
				toks := tokenize(text)
				if len(toks) == 0 {
					errs = append(errs, fmt.Errorf("rule %q: phrase %q has no words to match", name, text))
					continue
				}
				p := phrase{rule: i, veto: veto}
				for _, tok := range toks {
					t.vocab.add(tok)
					p.stems = append(p.stems, tok.stem)
				}
				t.phrases[p.stems[0]] = append(t.phrases[p.stems[0]], p)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// MaxTextRunes is how much of a message Tags reads: its first 20,000
// characters (runes). What a customer needs and how soon is said well before
// that (a long email is a few thousand characters), while a pasted log or a
// hostile megabyte would cost every stage time in proportion to its length
// and hold up the messages queued behind it. Folding stops at as many runes
// (see fold). The anger detector reads as much (anger.MaxTextRunes).
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
			case !matchAt(toks, i, p.stems):
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

// matchAt reports whether the phrase stems occur in toks starting at i, in
// order, in one clause, with at most one unrelated word between neighbours.
func matchAt(toks []token, i int, stems []string) bool {
	at := i
	for _, s := range stems[1:] {
		next := -1
		for j := at + 1; j <= at+2 && j < len(toks); j++ {
			if toks[j].clause != toks[i].clause {
				break
			}
			if toks[j].stem == s {
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

// negationFillers may stand between a negator and the keyword it negates:
// "not really urgent", "don't need a refund", "no need to hurry". Any other
// word ends the negation's scope, so "didn't receive my refund" still is
// about a refund.
var negationFillers = stems(
	"need", "needed", "want", "ask", "asking", "request", "requesting",
	"require", "looking", "really", "particularly", "too", "very", "super",
	"seem", "think", "have", "longer", "actually", "terribly", "necessarily",
	"exactly", "anything",
)

func stems(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[stem(w)] = true
	}
	return m
}

// negated reports whether the keyword at toks[i] is in the scope of a
// negation: a negator at most four words before it in the same clause with
// only fillers in between.
func negated(toks []token, i int) bool {
	fillers := 0
	for j := i - 1; j >= 0 && i-j <= 4 && toks[j].clause == toks[i].clause; j-- {
		s := toks[j].stem
		if negators[s] {
			if s == "not" && j > 0 && modals[toks[j-1].stem] {
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
