package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

func TestOnce(t *testing.T) {
	ctx := context.Background()
	k := conversation.Key{AccountID: 1, ConversationID: 2}
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	act := func(owner string, at time.Time) store.Action {
		return store.Action{Key: k, ID: "note:x", Kind: "note", Owner: owner, At: at}
	}
	runs := 0
	ok := func(context.Context) (string, error) { runs++; return "", nil }
	fail := func(context.Context) (string, error) { runs++; return "", errors.New("503") }

	st := memstore.New()
	ran, err := store.Once(ctx, st, act("m1", t0), fail)
	assert.True(t, ran)
	assert.Error(t, err)
	ran, err = store.Once(ctx, st, act("m2", t0.Add(time.Second)), ok)
	require.NoError(t, err)
	assert.True(t, ran, "a failed effect is retried by whoever comes next")
	ran, err = store.Once(ctx, st, act("m1", t0.Add(2*time.Second)), ok)
	require.NoError(t, err)
	assert.False(t, ran, "done is done")
	assert.Equal(t, 2, runs)

	// A claim left pending by a crash.
	st = memstore.New()
	_, _, err = st.ClaimAction(ctx, act("m1", t0))
	require.NoError(t, err)
	ran, _ = store.Once(ctx, st, act("m2", t0.Add(10*time.Second)), ok)
	assert.False(t, ran, "another owner within the lease: that worker is on it")
	ran, _ = store.Once(ctx, st, act("m1", t0.Add(10*time.Second)), ok)
	assert.True(t, ran, "the owner's redelivery resumes its own claim")

	st = memstore.New()
	_, _, err = st.ClaimAction(ctx, act("m1", t0))
	require.NoError(t, err)
	ran, _ = store.Once(ctx, st, act("m2", t0.Add(store.Lease+time.Second)), ok)
	assert.True(t, ran, "after the lease the claim is abandoned")
}

func TestConverge(t *testing.T) {
	ctx := context.Background()
	k := conversation.Key{AccountID: 1, ConversationID: 2}
	a := store.Action{Key: k, ID: "labels:9", Kind: "label", Owner: "m1", Detail: `{"add":["billing"]}`}
	runs := 0
	ok := func(context.Context) (string, error) { runs++; return `["billing"]`, nil }
	fail := func(context.Context) (string, error) { runs++; return "", errors.New("503") }

	st := memstore.New()
	ran, err := store.Converge(ctx, st, a, fail)
	assert.True(t, ran)
	assert.Error(t, err)
	_, found, err := st.Action(ctx, k, a.ID)
	require.NoError(t, err)
	assert.False(t, found, "a failed effect records nothing")

	ran, err = store.Converge(ctx, st, a, ok)
	require.NoError(t, err)
	assert.True(t, ran)
	got, found, err := st.Action(ctx, k, a.ID)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, store.ActionDone, got.Status)
	assert.Equal(t, `["billing"]`, got.Result)

	ran, err = store.Converge(ctx, st, a, ok)
	require.NoError(t, err)
	assert.False(t, ran, "done is done")
	assert.Equal(t, 2, runs)
}

// TestOnceResumed checks what fn is told: whether an earlier run may have
// taken effect without being recorded.
func TestOnceResumed(t *testing.T) {
	k := conversation.Key{AccountID: 1, ConversationID: 2}
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	act := func(owner string, at time.Time) store.Action {
		return store.Action{Key: k, ID: "note:x", Kind: "note", Owner: owner, At: at}
	}
	tests := []struct {
		name        string
		before      func(t *testing.T, st store.Store) // what an earlier attempt left
		claim       store.Action
		wantRan     bool
		wantResumed bool
	}{
		{name: "first run", claim: act("m1", t0), wantRan: true},
		{
			name: "after a failure, by another message",
			before: func(t *testing.T, st store.Store) {
				_, err := store.Once(t.Context(), st, act("m1", t0), func(context.Context) (string, error) { return "", errors.New("timeout") })
				require.Error(t, err)
			},
			claim: act("m2", t0.Add(time.Second)), wantRan: true, wantResumed: true,
		},
		{
			name: "a crashed claim resumed by its owner",
			before: func(t *testing.T, st store.Store) {
				_, _, err := st.ClaimAction(t.Context(), act("m1", t0))
				require.NoError(t, err)
			},
			claim: act("m1", t0.Add(time.Second)), wantRan: true, wantResumed: true,
		},
		{
			name: "an abandoned claim taken over",
			before: func(t *testing.T, st store.Store) {
				_, _, err := st.ClaimAction(t.Context(), act("m1", t0))
				require.NoError(t, err)
			},
			claim: act("m2", t0.Add(store.Lease)), wantRan: true, wantResumed: true,
		},
		{
			name: "dropped is never run again",
			before: func(t *testing.T, st store.Store) {
				_, err := store.Once(t.Context(), st, act("m1", t0), func(context.Context) (string, error) { return "", errors.New("500") })
				require.Error(t, err)
				require.NoError(t, st.FinishAction(t.Context(), k, "note:x", store.ActionDropped, "answered"))
			},
			claim: act("m2", t0.Add(time.Second)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memstore.New()
			if tt.before != nil {
				tt.before(t, st)
			}
			var resumed *bool
			ran, err := store.Once(t.Context(), st, tt.claim, func(ctx context.Context) (string, error) {
				r := store.Resumed(ctx)
				resumed = &r
				return "", nil
			})
			require.NoError(t, err)
			assert.Equal(t, tt.wantRan, ran)
			if tt.wantRan {
				require.NotNil(t, resumed, "fn ran")
				assert.Equal(t, tt.wantResumed, *resumed)
			} else {
				assert.Nil(t, resumed, "fn did not run")
			}
		})
	}
}
