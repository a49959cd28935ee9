package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/retrieval"
)

// Targets of the drafting figure, on messages the knowledge base was not
// built from: among the messages it answers, the share answered with the
// canned response of their intent, and the share it answers.
const (
	minDraftPrecision = 0.90
	minDraftCoverage  = 0.80
)

// Halves of the labelled messages. The retrieval provider's thesaurus and
// threshold were tuned on the tuning half only; the held-out half measures
// them, as acceptance measures on messages of the same intents that neither
// saw.
const (
	halfTuning  = "tuning half"
	halfHeldOut = "held-out half"
	halfAll     = "all"
)

// half assigns a message to a half by its text, so that the split is the
// same on every run and for every copy of a message.
func half(text string) string {
	if sha256.Sum256([]byte(text))[31]&1 == 0 {
		return halfTuning
	}
	return halfHeldOut
}

// draftCounts tallies the retrieval provider's answers to labelled messages.
type draftCounts struct{ rows, answered, correct int }

func (c draftCounts) precision() float64 { return ratio(c.correct, c.answered) }
func (c draftCounts) coverage() float64  { return ratio(c.answered, c.rows) }

// draftReport is the drafting figure.
type draftReport struct {
	kb      string
	entries int
	// leaked counts the messages left out because they are examples of
	// the knowledge base: answering them measures nothing.
	leaked   int
	halves   map[string]draftCounts
	minScore float64
}

// evaluateDrafting runs the retrieval provider, with its default threshold
// and the knowledge base at kb, on the labelled messages at bitext, whose
// intent names the canned response that answers them.
func evaluateDrafting(kb, bitext string) (*draftReport, error) {
	entries, err := drafting.LoadKnowledge(kb)
	if err != nil {
		return nil, err
	}
	r := &draftReport{kb: kb, entries: len(entries), halves: map[string]draftCounts{}, minScore: drafting.DefaultMinScore}
	examples := map[string]bool{}
	for _, e := range entries {
		for _, x := range e.Examples {
			examples[key(x)] = true
		}
	}
	p := &retrieval.Provider{Catalog: retrieval.NewCatalog(entries, nil, retrieval.CatalogOptions{}), MinScore: r.minScore}
	ctx := context.Background()
	var draftErr error
	err = readLines(bitext, func(row struct {
		Text   string `json:"text"`
		Intent string `json:"intent"`
	}) {
		if examples[key(row.Text)] {
			r.leaked++
			return
		}
		s, err := p.Draft(ctx, drafting.Request{Text: row.Text})
		if err != nil {
			draftErr = err
			return
		}
		for _, h := range []string{half(row.Text), halfAll} {
			c := r.halves[h]
			c.rows++
			if !s.Abstained() {
				c.answered++
				if s.Source == row.Intent {
					c.correct++
				}
			}
			r.halves[h] = c
		}
	})
	if err == nil {
		err = draftErr
	}
	return r, err
}

// key compares messages as a reader would: case and spacing aside.
func key(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func (r *draftReport) missed() []string {
	h := r.halves[halfHeldOut]
	var m []string
	if h.precision() < minDraftPrecision {
		m = append(m, fmt.Sprintf("drafting precision on the held-out half %.3f < %.2f", h.precision(), minDraftPrecision))
	}
	if h.coverage() < minDraftCoverage {
		m = append(m, fmt.Sprintf("drafting coverage on the held-out half %.3f < %.2f", h.coverage(), minDraftCoverage))
	}
	return m
}

func (r *draftReport) print(w io.Writer, bitext string) {
	fmt.Fprintf(w, "Drafting (retrieval, min_score %.2f) with %s (%d canned responses) on %s\n", r.minScore, r.kb, r.entries, bitext)
	fmt.Fprintf(w, "(%d messages that are examples of the knowledge base left out)\n", r.leaked)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "messages\tprecision\tcoverage\tanswered\tright\trows\t\n")
	for _, h := range []string{halfTuning, halfHeldOut, halfAll} {
		c := r.halves[h]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%d\t%d\t%d\t\n", h, c.precision(), c.coverage(), c.answered, c.correct, c.rows)
	}
	tw.Flush()
	fmt.Fprintf(w, "targets on the held-out half (tuned on the other): precision ≥ %.2f at coverage ≥ %.2f\n",
		minDraftPrecision, minDraftCoverage)
}
