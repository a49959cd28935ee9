package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// fakeConversation is one stored conversation whose writes are refused
// while refuse counts down (another writer won), or always when it is < 0.
type fakeConversation struct {
	st      conversation.State
	found   bool
	refuse  int
	reads   []bool // the consistent argument of each read
	written int
	onWrite func()
}

func (f *fakeConversation) versioned(staleFirst bool) store.Versioned {
	return store.Versioned{
		Read: func(_ context.Context, consistent bool) (conversation.State, bool, error) {
			f.reads = append(f.reads, consistent)
			return f.st.Clone(), f.found, nil
		},
		Write: func(_ context.Context, next conversation.State, found bool) (bool, error) {
			if f.onWrite != nil {
				f.onWrite()
			}
			if f.refuse != 0 {
				f.refuse--
				return false, nil
			}
			if found != f.found || next.Version != f.st.Version+1 {
				return false, errors.New("write not conditional on the state read")
			}
			f.st, f.found = next.Clone(), true
			f.written++
			return true, nil
		},
		StaleFirst: staleFirst,
	}
}

func TestUpdateWithRetry(t *testing.T) {
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	stored := conversation.State{Key: k, Version: 3, Status: "open"}
	resolve := func(s *conversation.State) bool { s.Status = "resolved"; return true }
	unchanged := func(*conversation.State) bool { return false }

	t.Run("first write", func(t *testing.T) {
		f := &fakeConversation{}
		got, err := store.UpdateWithRetry(t.Context(), k, resolve, f.versioned(false))
		require.NoError(t, err)
		assert.Equal(t, conversation.State{Key: k, Version: 1, Status: "resolved"}, got)
		assert.Equal(t, got, f.st)
	})
	t.Run("no change writes nothing", func(t *testing.T) {
		f := &fakeConversation{st: stored, found: true}
		got, err := store.UpdateWithRetry(t.Context(), k, unchanged, f.versioned(false))
		require.NoError(t, err)
		assert.Equal(t, stored, got)
		assert.Equal(t, []bool{true}, f.reads)
		assert.Zero(t, f.written)
	})
	t.Run("no change on a stale read is confirmed on a consistent one", func(t *testing.T) {
		f := &fakeConversation{st: stored, found: true}
		_, err := store.UpdateWithRetry(t.Context(), k, unchanged, f.versioned(true))
		require.NoError(t, err)
		assert.Equal(t, []bool{false, true}, f.reads)
		assert.Zero(t, f.written)
	})
	t.Run("a write refused after a stale read reads again consistently", func(t *testing.T) {
		f := &fakeConversation{st: stored, found: true, refuse: 1}
		got, err := store.UpdateWithRetry(t.Context(), k, resolve, f.versioned(true))
		require.NoError(t, err)
		assert.Equal(t, int64(4), got.Version)
		assert.Equal(t, []bool{false, true}, f.reads)
	})
	t.Run("conflict after MaxAttempts refused writes", func(t *testing.T) {
		t.Parallel()
		f := &fakeConversation{st: stored, found: true, refuse: -1}
		_, err := store.UpdateWithRetry(t.Context(), k, resolve, f.versioned(false))
		assert.ErrorIs(t, err, store.ErrConflict)
		assert.Len(t, f.reads, store.MaxAttempts)
		assert.Equal(t, stored, f.st)
	})
	t.Run("a cancelled context ends the pauses", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		f := &fakeConversation{st: stored, found: true, refuse: -1, onWrite: cancel}
		_, err := store.UpdateWithRetry(ctx, k, resolve, f.versioned(false))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Len(t, f.reads, 1)
	})
}
