package stats

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDrafterCountersShareAPrefix: the DynamoDB store keeps the counters
// whose names begin with "draft" in an item of their own, so that the
// drafter's batches and the processor's each write a counter item of their
// own names only (docs/cost.md); a counter of another part named so would
// move there too, and a drafter's counter named otherwise would not.
func TestDrafterCountersShareAPrefix(t *testing.T) {
	for _, name := range []string{DraftsMade, DraftsSkipped, DraftsSkippedPrefix, DraftsFailed, DraftInputTokens, DraftOutputTokens,
		string(Drafting)} {
		assert.True(t, strings.HasPrefix(name, "draft"), name)
	}
	for _, name := range []string{Received, Accepted, Rejected, Ignored, Spooled, Refused, InvalidPayload, AccountMismatch, Duplicates,
		Processed, Retried, Failed, DeadLettered, Redriven, SlowMessages, Backfilled, Opened, Resolved, Breaches, TagPrefix,
		RejectedPrefix, RefusedPrefix, InvalidPrefix, Recovered, BreachEscalationsDropped, string(Processing)} {
		assert.False(t, strings.HasPrefix(name, "draft"), name)
	}
}
