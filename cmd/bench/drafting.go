package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/retrieval"
	"supportpipe/internal/support/tagging"
)

// kbEntries is the size of the knowledge base the drafting row searches:
// more canned responses than a support team keeps, so that the figure
// bounds theirs.
const kbEntries = 1000

// draftingResult is the drafting row: the retrieval provider's time per
// message, and the tagger's on the same messages as the baseline.
type draftingResult struct {
	messages, rounds int
	p50, p99         time.Duration
	draft, tag       time.Duration // totals over every message and round
	longest          time.Duration // the median time of a message of the most characters read
	build            time.Duration // indexing the knowledge base, as each refresh of Chatwoot's list does
}

func (r draftingResult) ratio() float64 { return float64(r.draft) / float64(r.tag) }

// draftingCost times the retrieval provider over a knowledge base of
// kbEntries variations of dir/kb.jsonl on each message of dir/dev.jsonl,
// tagging each message just before, and then on messages of
// retrieval.MaxTextRunes characters.
func draftingCost(dir string, rounds int) (draftingResult, error) {
	base, err := drafting.LoadKnowledge(filepath.Join(dir, "kb.jsonl"))
	if err != nil {
		return draftingResult{}, err
	}
	if len(base) == 0 {
		return draftingResult{}, fmt.Errorf("%s: no canned responses", filepath.Join(dir, "kb.jsonl"))
	}
	texts, err := messages(filepath.Join(dir, "dev.jsonl"))
	if err != nil {
		return draftingResult{}, err
	}
	tagger, err := tagging.New(tagging.DefaultRules())
	if err != nil {
		return draftingResult{}, err
	}
	kb := syntheticKB(base, kbEntries)
	start := time.Now()
	catalog := retrieval.NewCatalog(kb, nil, retrieval.CatalogOptions{})
	r := draftingResult{messages: len(texts), rounds: rounds, build: time.Since(start)}
	p := &retrieval.Provider{Catalog: catalog, MinScore: drafting.DefaultMinScore}
	ctx := context.Background()
	// One round unmeasured, so that neither side pays for first use.
	for _, t := range texts {
		tagger.Tags(t)
		if _, err := p.Draft(ctx, drafting.Request{Text: t}); err != nil {
			return r, err
		}
	}
	samples := make([]time.Duration, 0, len(texts)*rounds)
	for range rounds {
		for _, t := range texts {
			start := time.Now()
			tagger.Tags(t)
			tagged := time.Now()
			_, err := p.Draft(ctx, drafting.Request{Text: t})
			drafted := time.Now()
			if err != nil {
				return r, err
			}
			r.tag += tagged.Sub(start)
			r.draft += drafted.Sub(tagged)
			samples = append(samples, drafted.Sub(tagged))
		}
	}
	slices.Sort(samples)
	r.p50, r.p99 = samples[len(samples)/2], samples[len(samples)*99/100]
	// The longest a message can be to retrieval: its first MaxTextRunes
	// characters, here of ordinary requests one after another.
	var long strings.Builder
	for i := 0; long.Len() < retrieval.MaxTextRunes; i++ {
		long.WriteString(texts[i%len(texts)])
		long.WriteString(". ")
	}
	var longs []time.Duration
	for range 21 {
		start := time.Now()
		if _, err := p.Draft(ctx, drafting.Request{Text: long.String()}); err != nil {
			return r, err
		}
		longs = append(longs, time.Since(start))
	}
	slices.Sort(longs)
	r.longest = longs[len(longs)/2]
	return r, nil
}

// messages reads the text of each JSON line of path.
func messages(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var row struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, row.Text)
	}
	if len(out) == 0 && sc.Err() == nil {
		return nil, fmt.Errorf("%s: no messages", path)
	}
	return out, sc.Err()
}

// Variations that make one canned response into several: the words a team
// uses interchangeably, and a closing sentence of its own.
var (
	rewordings = [][2]string{{"order", "purchase"}, {"account", "profile"}, {"refund", "reimbursement"},
		{"contact", "reach"}, {"please", "kindly"}, {"help", "assist"}, {"check", "look at"}}
	closings = []string{"Our team replies within one business day.", "You can also reach us by live chat.",
		"Thank you for shopping with us.", "We are here to help, seven days a week.", "Reply to this message if anything is unclear."}
)

// syntheticKB makes n canned responses of base: copy c of an entry has its
// own short code, the c-th rewording and closing, and its examples rotated
// and reworded.
func syntheticKB(base []drafting.Canned, n int) []drafting.Canned {
	out := make([]drafting.Canned, n)
	for i := range out {
		b, c := base[i%len(base)], i/len(base)
		w := rewordings[c%len(rewordings)]
		reword := strings.NewReplacer(w[0], w[1])
		out[i] = drafting.Canned{
			ShortCode: fmt.Sprintf("%s_%d", b.ShortCode, c),
			Content:   reword.Replace(b.Content) + " " + closings[c%len(closings)],
		}
		for j := range b.Examples {
			out[i].Examples = append(out[i].Examples, reword.Replace(b.Examples[(j+c)%len(b.Examples)]))
		}
	}
	return out
}
