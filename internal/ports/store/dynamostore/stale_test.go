package dynamostore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/support/conversation"
)

// TestActionStale reads what RecordAction wrote, without a consistent
// read.
func TestActionStale(t *testing.T) {
	f, db := newFake(t)
	st := dynamostore.New(db, newTable(t, db))
	k := conversation.Key{AccountID: 1, ConversationID: 2}
	_, ok, err := st.ActionStale(t.Context(), k, "labels:9")
	require.NoError(t, err)
	assert.False(t, ok)
	a := store.Action{Key: k, ID: "labels:9", Kind: "label", Status: store.ActionDone, Owner: "m1", Result: `["billing"]`}
	require.NoError(t, st.RecordAction(t.Context(), a))
	got, ok, err := st.ActionStale(t.Context(), k, "labels:9")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, a.Result, got.Result)
	assert.Equal(t, store.ActionDone, got.Status)
	for _, body := range f.requests("GetItem") {
		assert.False(t, strings.Contains(body, `"ConsistentRead":true`), body)
	}
}
