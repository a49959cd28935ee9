package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDraftingTargets runs make eval's drafting figure on the shared data.
func TestDraftingTargets(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "data", "bitext")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("shared data not found at %s (expected beside the repository checkout): %v", data, err)
	}
	r, err := evaluateDrafting(filepath.Join(data, "kb.jsonl"), filepath.Join(data, "dev.jsonl"))
	require.NoError(t, err)
	assert.Empty(t, r.missed())
	assert.Positive(t, r.leaked, "the knowledge base's examples come from dev.jsonl and are left out")
	all, tuning, heldOut := r.halves[halfAll], r.halves[halfTuning], r.halves[halfHeldOut]
	assert.Equal(t, all.rows, tuning.rows+heldOut.rows)
	assert.Positive(t, tuning.rows)
	assert.Positive(t, heldOut.rows)
}
