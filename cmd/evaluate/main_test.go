package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	})
	require.NoError(t, err)
	assert.Empty(t, r.missed())
	assert.Positive(t, r.noTagRows)
	assert.Positive(t, r.angerRows)
}
