package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/retrieval"
)

var (
	bitextDir = filepath.Join("..", "..", "..", "shared", "data", "bitext")
	oodDir    = filepath.Join("..", "..", "testdata", "outofdomain")
)

// TestDraftingTargets runs make eval's drafting figure on the shared data.
func TestDraftingTargets(t *testing.T) {
	if _, err := os.Stat(bitextDir); err != nil {
		t.Skipf("shared data not found at %s (expected beside the repository checkout): %v", bitextDir, err)
	}
	r, err := evaluateDrafting(filepath.Join(bitextDir, "kb.jsonl"), filepath.Join(bitextDir, "dev.jsonl"), oodDir, "test")
	require.NoError(t, err)
	assert.Empty(t, r.missed())
	assert.Positive(t, r.leaked, "the knowledge base's examples come from dev.jsonl and are left out")
	for _, kind := range kbKinds {
		f := r.figures[kind]
		all, tuning, heldOut := f.halves[halfAll], f.halves[halfTuning], f.halves[halfHeldOut]
		assert.Equal(t, all.rows, tuning.rows+heldOut.rows, kind)
		assert.Positive(t, tuning.rows, kind)
		assert.Positive(t, heldOut.rows, kind)
		assert.Positive(t, f.ood.rows, kind)
		i := 0
		for r.curveScores[i] != r.minScore {
			i++
		}
		assert.Equal(t, heldOut, f.curve[i], "%s: the curve at min_score is the figure", kind)
		assert.Equal(t, f.ood, f.oodCurve[i], kind)
	}
	assert.Equal(t, r.figures[kbWith].halves[halfAll].rows, r.figures[kbWithout].halves[halfAll].rows, "the same messages")
}

// The curves read each message's score once, at no threshold: that holds
// only while the provider abstains exactly when its score is below
// min_score, whichever knowledge the match comes from.
func TestDraftingCurveMatchesProvider(t *testing.T) {
	if _, err := os.Stat(bitextDir); err != nil {
		t.Skipf("shared data not found at %s (expected beside the repository checkout): %v", bitextDir, err)
	}
	entries, err := drafting.LoadKnowledge(filepath.Join(bitextDir, "kb.jsonl"))
	require.NoError(t, err)
	bare := make([]drafting.Canned, len(entries))
	for i, e := range entries {
		bare[i] = drafting.Canned{ShortCode: e.ShortCode, Content: e.Content}
	}
	mixed := append(append([]drafting.Canned{}, entries[:len(entries)/2]...), bare[len(entries)/2:]...)
	var catalogs []*retrieval.Catalog
	for _, kb := range [][]drafting.Canned{entries, bare, mixed} {
		catalogs = append(catalogs, retrieval.NewCatalog(kb, nil, retrieval.CatalogOptions{}))
	}
	ctx := context.Background()
	n := 0
	err = readLines(filepath.Join(bitextDir, "dev.jsonl"), func(row struct {
		Text string `json:"text"`
	}) {
		if n++; n%3 != 0 {
			return
		}
		for _, c := range catalogs {
			free, err := (&retrieval.Provider{Catalog: c}).Draft(ctx, drafting.Request{Text: row.Text})
			require.NoError(t, err)
			for _, min := range []float64{0.1, drafting.DefaultMinScore, 0.3} {
				s, err := (&retrieval.Provider{Catalog: c, MinScore: min}).Draft(ctx, drafting.Request{Text: row.Text})
				require.NoError(t, err)
				assert.Equal(t, !free.Abstained() && free.Score >= min, !s.Abstained(), row.Text)
				assert.Equal(t, free.Score, s.Score, row.Text)
			}
		}
	})
	require.NoError(t, err)
}
