package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/tagging"
)

// TestTargets runs the evaluation of make eval on the shared data, which
// sits beside the repository checkout rather than in it.
func TestTargets(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("shared data not found at %s (expected beside the repository checkout): %v", data, err)
	}
	r, err := evaluate(paths{
		bitext:     filepath.Join(data, "bitext", "dev.jsonl"),
		goemotions: filepath.Join(data, "goemotions", "dev.jsonl"),
		urgent:     filepath.Join("..", "..", "testdata", "urgent.jsonl"),
		ood:        filepath.Join("..", "..", "testdata", "outofdomain"),
		oodSplit:   "test",
	})
	require.NoError(t, err)
	assert.Empty(t, r.missed())
	assert.Positive(t, r.noTagRows)
	assert.Positive(t, r.angerRows)
	assert.Positive(t, r.ood.rows[""])
}

// Every intent of the out-of-domain data is mapped, to tags that exist, and
// every mapped intent occurs in both splits, so that the table stays the
// whole truth about the data.
func TestOODMapping(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "outofdomain")
	for _, src := range oodSources {
		for intent, spec := range src.intents {
			for _, tag := range strings.Fields(spec) {
				assert.Contains(t, oodTags, strings.TrimPrefix(tag, "?"), "%s %s", src.name, intent)
			}
		}
		for _, split := range []string{"dev", "test"} {
			seen := make(map[string]bool)
			err := readLines(filepath.Join(dir, src.name+"_"+split+".jsonl"), func(row struct {
				Intent string `json:"intent"`
			}) {
				seen[row.Intent] = true
			})
			require.NoError(t, err)
			assert.ElementsMatch(t, slices.Collect(maps.Keys(src.intents)), slices.Collect(maps.Keys(seen)), "%s %s", src.name, split)
		}
	}
}

// The shared data need not be present to measure the out-of-domain split.
func TestEvaluateOOD(t *testing.T) {
	tagger, err := tagging.New(tagging.DefaultRules())
	require.NoError(t, err)
	r, err := evaluateOOD(tagger, filepath.Join("..", "..", "testdata", "outofdomain"), "test")
	require.NoError(t, err)
	all := r.tags[""]
	for _, tag := range topics {
		assert.GreaterOrEqual(t, all[tag].f1(), minOODTopicF1, tag)
	}
	assert.GreaterOrEqual(t, all["urgent"].precision(), minOODUrgentPrecise)
	assert.GreaterOrEqual(t, all["urgent"].recall(), minOODUrgentRecall)

	_, err = evaluateOOD(tagger, t.TempDir(), "test")
	assert.Error(t, err, "no data")
}
