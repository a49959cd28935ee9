package retrieval

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"supportpipe/internal/support/words"

	"go.yaml.in/yaml/v3"
)

//go:embed thesaurus.yaml
var thesaurusYAML []byte

// conceptMark starts a concept's term, so that no word's stem is taken for one.
const conceptMark = "="

// A thesaurus maps words and phrases onto concepts.
type thesaurus struct {
	words     map[string]string // a word's stem → its concept term
	phrases   map[string]string // the stems of a phrase, space-separated → its concept term
	maxPhrase int               // words in the longest phrase
	surfaces  []string          // every word it names, for the typo vocabulary
}

// defaultThesaurus is parsed once; the embedded file is part of the build,
// so a fault in it is a programming error.
var defaultThesaurus = func() *thesaurus {
	t, err := parseThesaurus(thesaurusYAML)
	if err != nil {
		panic("retrieval: bad embedded thesaurus.yaml: " + err.Error())
	}
	return t
}()

func parseThesaurus(b []byte) (*thesaurus, error) {
	var groups map[string][]string
	if err := yaml.Unmarshal(b, &groups); err != nil {
		return nil, err
	}
	t := &thesaurus{words: map[string]string{}, phrases: map[string]string{}}
	names := make([]string, 0, len(groups))
	for name := range groups {
		names = append(names, name)
	}
	sort.Strings(names) // so that a conflict is reported the same way each time
	for _, name := range names {
		term := conceptMark + name
		for _, member := range groups[name] {
			var stems []string
			eachWord(member, func(w string) {
				stems = append(stems, words.StemLight(w))
				t.surfaces = append(t.surfaces, w)
			})
			var m map[string]string
			key := strings.Join(stems, " ")
			switch len(stems) {
			case 0:
				return nil, fmt.Errorf("%s: %q has no word", name, member)
			case 1:
				m = t.words
			default:
				m, t.maxPhrase = t.phrases, max(t.maxPhrase, len(stems))
			}
			if prev, ok := m[key]; ok && prev != term {
				return nil, fmt.Errorf("%s: %q is already in %s", name, member, strings.TrimPrefix(prev, conceptMark))
			}
			m[key] = term
		}
	}
	return t, nil
}

// phraseAt returns the length and concept of the longest phrase that stems
// starts with; 0 if none does.
func (t *thesaurus) phraseAt(stems []string) (int, string) {
	for n := min(t.maxPhrase, len(stems)); n >= 2; n-- {
		if c, ok := t.phrases[strings.Join(stems[:n], " ")]; ok {
			return n, c
		}
	}
	return 0, ""
}
