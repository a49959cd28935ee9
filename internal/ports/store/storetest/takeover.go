package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// testClaimActionTakeOver checks which existing records a claim takes over:
// a failed one, and another owner's pending one past the lease; never a
// done or dropped one, a pending one of the same owner, or another owner's
// still within its lease.
func (s suite) testClaimActionTakeOver(t *testing.T) {
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	first := store.Action{Key: k, ID: "note:escalation", Kind: "note", Owner: "m1", Detail: `{"reasons":["vip"]}`, At: base}
	tests := []struct {
		name     string
		finish   string // status the first claim is finished with; "" leaves it pending
		result   string
		owner    string
		at       time.Time
		wantTake bool
	}{
		{name: "failed, another owner", finish: store.ActionFailed, result: "status 500", owner: "m2", at: base.Add(time.Second), wantTake: true},
		{name: "failed, same owner", finish: store.ActionFailed, result: "status 500", owner: "m1", at: base.Add(time.Second), wantTake: true},
		{name: "failed, claim time before the failed one", finish: store.ActionFailed, owner: "m2", at: base.Add(-time.Minute), wantTake: true},
		{name: "pending, another owner past the lease", owner: "m2", at: base.Add(store.Lease), wantTake: true},
		{name: "pending, another owner within the lease", owner: "m2", at: base.Add(store.Lease - time.Second)},
		{name: "pending, same owner past the lease", owner: "m1", at: base.Add(2 * store.Lease)},
		{name: "done", finish: store.ActionDone, result: "42", owner: "m2", at: base.Add(time.Hour)},
		{name: "dropped", finish: store.ActionDropped, result: "answered", owner: "m2", at: base.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			st := s.open(t)
			start := time.Now().Add(-time.Second)
			// Another action first, one after: a take-over keeps the record's place.
			before := store.Action{Key: k, ID: "label:escalated", Kind: "label", Owner: "m0", At: base.Add(-time.Hour)}
			after := store.Action{Key: k, ID: "priority:urgent", Kind: "priority", Owner: "m0", At: base.Add(-time.Hour)}
			for _, a := range []store.Action{before, first, after} {
				claimed, _, err := st.ClaimAction(ctx, a)
				require.NoError(t, err)
				require.True(t, claimed)
			}
			stored := first
			stored.Status = store.ActionPending
			if tt.finish != "" {
				require.NoError(t, st.FinishAction(ctx, k, first.ID, tt.finish, tt.result))
				stored.Status, stored.Result = tt.finish, tt.result
			}

			claim := store.Action{Key: k, ID: first.ID, Kind: "other", Owner: tt.owner, Detail: `{"other":true}`, At: tt.at}
			claimed, existing, err := st.ClaimAction(ctx, claim)
			require.NoError(t, err)
			assert.Equal(t, tt.wantTake, claimed)
			checkAction(t, stored, existing, start)

			want := stored
			if tt.wantTake {
				// Pending under the new owner from its claim time; the
				// kind and detail of the action stay.
				want.Status, want.Owner, want.At, want.Result = store.ActionPending, tt.owner, tt.at, ""
			}
			got, err := st.Actions(ctx, k)
			require.NoError(t, err)
			require.Len(t, got, 3)
			if s.opts.KeepsRemovedFields && tt.wantTake {
				got[1].Result = ""
			}
			checkAction(t, want, got[1], start)
			assert.Equal(t, []string{before.ID, first.ID, after.ID}, []string{got[0].ID, got[1].ID, got[2].ID}, "claim order kept")
		})
	}
}

// testTakeOverConcurrent races owners to take over one failed action, the
// way messages retrying the same effect at once do: exactly one runs the
// effect, and the others see its claim.
func (s suite) testTakeOverConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	const n = 10
	a := func(owner string) store.Action {
		return store.Action{Key: k, ID: "note:escalation", Kind: "note", Owner: owner, At: base}
	}
	_, err := store.Once(ctx, st, a("m0"), func(context.Context) (string, error) { return "", fmt.Errorf("status 500") })
	require.Error(t, err)

	var runs atomic.Int32
	ran := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			next := a(fmt.Sprintf("m%d", i+1))
			next.At = base.Add(time.Second)
			ran[i], errs[i] = store.Once(ctx, st, next, func(ctx context.Context) (string, error) {
				runs.Add(1)
				assert.True(t, store.Resumed(ctx), "the effect runs again after a failure")
				return "posted", nil
			})
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		require.NoError(t, errs[i])
		if ran[i] {
			assert.Equal(t, -1, winner, "ran twice")
			winner = i
		}
	}
	assert.Equal(t, int32(1), runs.Load(), "the effect ran once")
	require.NotEqual(t, -1, winner, "nobody ran the effect")
	got, found, err := st.Action(ctx, k, "note:escalation")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, store.ActionDone, got.Status)
	assert.Equal(t, fmt.Sprintf("m%d", winner+1), got.Owner)
	assert.Equal(t, "posted", got.Result)
}
