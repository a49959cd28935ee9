package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

// staleStore reads actions through ActionStale and counts how often.
type staleStore struct {
	*memstore.Store
	stale int
}

func (s *staleStore) ActionStale(ctx context.Context, k conversation.Key, id string) (store.Action, bool, error) {
	s.stale++
	return s.Action(ctx, k, id)
}

// TestConvergeReadsStale: Converge takes the cheaper read when the store
// has one; Once never does (its claim decides).
func TestConvergeReadsStale(t *testing.T) {
	ctx := context.Background()
	st := &staleStore{Store: memstore.New()}
	a := store.Action{Key: conversation.Key{AccountID: 1, ConversationID: 2}, ID: "labels:9", Kind: "label", Owner: "m1"}
	runs := 0
	fn := func(context.Context) (string, error) { runs++; return "", nil }
	for range 2 {
		_, err := store.Converge(ctx, st, a, fn)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, runs, "done is done")
	assert.Equal(t, 2, st.stale)
	_, err := store.Once(ctx, st, store.Action{Key: a.Key, ID: "note:x", Kind: "note", Owner: "m1"}, fn)
	require.NoError(t, err)
	assert.Equal(t, 2, st.stale)
}
