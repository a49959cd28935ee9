package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
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
		return store.Completion{Keys: keys, ExpiresAt: live, Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1}}}
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
			name:     "new keys and counters",
			c:        store.Completion{Keys: []string{"msg:1", "content:1", "delivery:1"}, ExpiresAt: live, Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1, "processing_us.12": 1, "rejected.bad_signature": 2}}},
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
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: live}},
			c:        done("msg:1", "content:1"),
			wantErr:  store.ErrDuplicate,
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{},
		},
		{
			name:     "expired key is not seen",
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: expired, Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1}}}},
			c:        done("content:1"),
			seen:     map[string]bool{"content:1": true},
			counters: map[string]int64{"processed": 2},
		},
		{
			name:     "expired key counts as absent",
			prior:    []store.Completion{{Keys: []string{"msg:1"}, ExpiresAt: expired, Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1}}}},
			c:        done("msg:1"),
			seen:     map[string]bool{"msg:1": true},
			counters: map[string]int64{"processed": 2},
		},
		{
			name:     "expired and live keys mixed",
			prior:    []store.Completion{{Keys: []string{"msg:1", "content:1"}, ExpiresAt: expired}, done("delivery:1")},
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
			c:        store.Completion{Keys: []string{"msg:1"}, ExpiresAt: live},
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
			assert.Equal(t, tc.seen, seenSet(seen))
			counters, err := st.Counters(ctx, day)
			require.NoError(t, err)
			assert.Equal(t, tc.counters, counters)
		})
	}
}

func seenSet(seen map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range seen {
		out[k] = true
	}
	return out
}

// testCompleteBatch completes several events in one call: duplicates among
// them (against the store or an earlier completion of the call) are skipped
// and named, the rest are recorded with their owners and their counters
// summed, on each completion's days.
func (s suite) testCompleteBatch(t *testing.T) {
	s.needTransactions(t)
	ctx := t.Context()
	st := s.open(t)
	live := time.Now().Add(time.Hour)
	const d1, d2 = "2026-03-01", "2026-03-02"
	c := func(owner string, counts map[string]map[string]int64, keys ...string) store.Completion {
		return store.Completion{Keys: keys, Owner: owner, ExpiresAt: live, Counts: counts}
	}
	one := func(day, name string) map[string]map[string]int64 { return map[string]map[string]int64{day: {name: 1}} }
	require.NoError(t, st.Complete(ctx, c("m0", one(d1, "processed"), "content:0")))

	err := st.Complete(ctx,
		c("m1", map[string]map[string]int64{d1: {"processed": 1, "received": 1}, d2: {"received": 1}}, "content:1"),
		c("m2", one(d1, "processed"), "content:0"),              // completed before
		c("m3", one(d1, "processed"), "content:3"),              // new
		c("m4", one(d1, "processed"), "content:1"),              // same event as m1 in this call
		c("m5", one(d2, "duplicates"), "msg:m5"),                // a duplicate's own record
		c("m6", one(d1, "processed"), "content:6", "content:0"), // one of two keys completed
	)
	require.ErrorIs(t, err, store.ErrDuplicate)
	var se *store.SkippedError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []int{1, 3, 5}, se.Index)
	for i := range 6 {
		assert.Equal(t, slices.Contains(se.Index, i), store.Skipped(err, i), "Skipped(%d)", i)
	}

	seen, err := st.Seen(ctx, "content:0", "content:1", "content:3", "msg:m5", "content:6")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"content:0": "m0", "content:1": "m1", "content:3": "m3", "msg:m5": "m5"}, seen)
	got1, err := st.Counters(ctx, d1)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"processed": 3, "received": 1}, got1)
	got2, err := st.Counters(ctx, d2)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"received": 1, "duplicates": 1}, got2)
}

// testCompleteLargeBatch completes more keys in one call than DynamoDB takes
// in one transaction.
func (s suite) testCompleteLargeBatch(t *testing.T) {
	s.needTransactions(t)
	ctx := t.Context()
	st := s.open(t)
	const day, n = "2026-03-01", 130
	var cs []store.Completion
	var keys []string
	for i := range n {
		k := fmt.Sprint("content:", i)
		keys = append(keys, k)
		cs = append(cs, store.Completion{Keys: []string{k}, Owner: fmt.Sprint("m", i), ExpiresAt: time.Now().Add(time.Hour),
			Counts: map[string]map[string]int64{day: {"processed": 1}}})
	}
	cs = append(cs, cs[7]) // the same completion again, last
	err := st.Complete(ctx, cs...)
	assert.True(t, store.Skipped(err, n), "the repeated completion is skipped: %v", err)
	seen, err := st.Seen(ctx, keys...)
	require.NoError(t, err)
	assert.Len(t, seen, n)
	got, err := st.Counters(ctx, day)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"processed": n}, got)
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
						Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1, "processing_us.12": 2}}})
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
