package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/store"
)

func (s suite) testSeenUnknown(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)

	got, err := st.Seen(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	// Callers test len(seen) > 0, so unknown keys must not appear at all.
	got, err = st.Seen(ctx, "msg:1", "content:1", "delivery:1")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func (s suite) testComplete(t *testing.T) {
	s.needTransactions(t)
	const day, otherDay = "2026-03-01", "2026-03-02"
	live := time.Now().Add(time.Hour)
	expired := time.Now().Add(-time.Minute)
	done := func(keys ...string) store.Completion {
		return store.Completion{Keys: keys, ExpiresAt: live, Day: day, Counters: map[string]int64{"processed": 1}}
	}

	cases := []struct {
		name     string
		prior    []store.Completion // must succeed
		c        store.Completion
		wantErr  error
		seen     map[string]bool  // Seen over every key named in the case
		counters map[string]int64 // the day's counters afterwards
	}{
		{
			name: "new keys and counters",
			c: store.Completion{Keys: []string{"msg:1", "content:1", "delivery:1"}, ExpiresAt: live, Day: day,
				Counters: map[string]int64{"processed": 1, "processing_us.12": 1, "rejected.bad_signature": 2}},
			seen:     map[string]bool{"msg:1": true, "content:1": true, "delivery:1": true},
			counters: map[string]int64{"processed": 1, "processing_us.12": 1, "rejected.bad_signature": 2},
		},
		{
			name:     "all keys completed before",
			prior:    []store.Completion{done("msg:1", "content:1")},
			c:        done("msg:1", "content:1"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"msg:1": true, "content:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "duplicate first key writes nothing",
			prior:    []store.Completion{done("msg:1")},
			c:        done("msg:1", "content:2", "delivery:2"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "duplicate middle key writes nothing",
			prior:    []store.Completion{done("content:1")},
			c:        done("msg:2", "content:1", "delivery:2"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"content:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "duplicate last key writes nothing",
			prior:    []store.Completion{done("delivery:1")},
			c:        done("msg:2", "content:2", "delivery:1"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"delivery:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "duplicate adds nothing to another day",
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: live, Day: otherDay}},
			c:        done("msg:1", "content:1"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{},
		},
		{
			name:     "expired key is not seen",
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: expired, Day: day, Counters: map[string]int64{"processed": 1}}},
			c:        done("content:1"),
			seen:     map[string]bool{"content:1": true},
			counters: map[string]int64{"processed": 2},
		},
		{
			name:     "expired key counts as absent",
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: expired, Day: day, Counters: map[string]int64{"processed": 1}}},
			c:        done("msg:1"),
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{"processed": 2},
		},
		{
			name:     "expired and live keys mixed",
			prior:    []store.Completion{{Keys: []string{"msg:1", "content:1"}, ExpiresAt: expired, Day: day}, done("delivery:1")},
			c:        done("msg:1", "content:1", "delivery:1"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"delivery:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "repeated key within one completion",
			c:        done("msg:1", "msg:1"),
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{"processed": 1},
		},
		{
			name:     "no counters",
			c:        store.Completion{Keys: []string{"msg:1"}, ExpiresAt: live, Day: day},
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := s.open(t)
			keys := slices.Clone(tc.c.Keys)
			for _, p := range tc.prior {
				require.NoError(t, st.Complete(ctx, p), "prior completion")
				keys = append(keys, p.Keys...)
			}

			err := st.Complete(ctx, tc.c)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}

			seen, err := st.Seen(ctx, keys...)
			require.NoError(t, err)
			assert.Equal(t, tc.seen, seen)
			counters, err := st.Counters(ctx, day)
			require.NoError(t, err)
			assert.Equal(t, tc.counters, counters)
		})
	}
}

// testCompleteConcurrent races copies of one event (exactly one may count)
// and distinct events (all must count) on the same day's counters.
func (s suite) testCompleteConcurrent(t *testing.T) {
	s.needTransactions(t)
	const day, n = "2026-03-01", 10
	cases := []struct {
		name      string
		keys      func(i int) []string
		completed int
	}{
		{name: "copies of one event", keys: func(int) []string { return []string{"msg:1", "content:1"} }, completed: 1},
		{name: "copies sharing one key", keys: func(i int) []string { return []string{fmt.Sprint("msg:", i), "content:1"} }, completed: 1},
		{name: "distinct events", keys: func(i int) []string { return []string{fmt.Sprint("msg:", i), fmt.Sprint("content:", i)} }, completed: n},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := s.open(t)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = st.Complete(ctx, store.Completion{Keys: tc.keys(i), ExpiresAt: time.Now().Add(time.Hour),
						Day: day, Counters: map[string]int64{"processed": 1, "processing_us.12": 2}})
				})
			}
			wg.Wait()
			completed := 0
			for _, err := range errs {
				if err == nil {
					completed++
				} else {
					assert.ErrorIs(t, err, store.ErrDuplicate)
				}
			}
			assert.Equal(t, tc.completed, completed)
			counters, err := st.Counters(ctx, day)
			require.NoError(t, err)
			assert.Equal(t, map[string]int64{"processed": int64(tc.completed), "processing_us.12": int64(2 * tc.completed)}, counters)
		})
	}
}

func (s suite) testRecordFailure(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	exp := time.Now().Add(time.Hour)
	steps := []struct {
		id   string
		want int
	}{
		{"m1", 1}, {"m1", 2}, {"m2", 1}, {"m1", 3}, {"m2", 2}, {"m3", 1}, {"m2", 3}, {"m1", 4},
	}
	for i, step := range steps {
		got, err := st.RecordFailure(ctx, step.id, fmt.Sprint("reason ", i), exp)
		require.NoError(t, err)
		assert.Equal(t, step.want, got, "step %d (%s)", i, step.id)
	}
}

func (s suite) testRecordFailureConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	const n = 10
	got := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = st.RecordFailure(ctx, "m1", "timeout", time.Now().Add(time.Hour))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(got)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, got, "each failure gets its own attempt number")
}
