package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (s suite) testAddCounters(t *testing.T) {
	const day = "2026-03-01"
	cases := []struct {
		name string
		adds []map[string]int64
		want map[string]int64
	}{
		{
			name: "single",
			adds: []map[string]int64{{"received": 1}},
			want: map[string]int64{"received": 1},
		},
		{
			name: "sums per name",
			adds: []map[string]int64{{"received": 1, "accepted": 2}, {"received": 3}, {"accepted": 4, "ignored": 1}},
			want: map[string]int64{"received": 4, "accepted": 6, "ignored": 1},
		},
		{
			name: "negative delta",
			adds: []map[string]int64{{"spooled": 5}, {"spooled": -2}},
			want: map[string]int64{"spooled": 3},
		},
		{
			name: "zero delta stores nothing",
			adds: []map[string]int64{{"received": 0}},
			want: map[string]int64{},
		},
		{
			name: "empty and nil maps",
			adds: []map[string]int64{{}, nil},
			want: map[string]int64{},
		},
		{
			name: "names with dots",
			adds: []map[string]int64{
				{"rejected.bad_signature": 1, "processing_us.12": 2, "rejected": 1},
				{"rejected.bad_signature": 1, "processing_us.1": 1, "processing_us.12": 1},
			},
			want: map[string]int64{"rejected.bad_signature": 2, "processing_us.12": 3, "processing_us.1": 1, "rejected": 1},
		},
		{
			// Drivers that keep counters as attributes must not clash with
			// their own key, TTL or bookkeeping attributes.
			name: "names that look like attributes or syntax",
			adds: []map[string]int64{{"pk": 1, "sk": 2, "ttl": 3, "day": 4, "name": 5, "value": 6, "#c": 7, ":v": 8, "a b": 9, "ünï": 10}},
			want: map[string]int64{"pk": 1, "sk": 2, "ttl": 3, "day": 4, "name": 5, "value": 6, "#c": 7, ":v": 8, "a b": 9, "ünï": 10},
		},
		{
			name: "large values",
			adds: []map[string]int64{{"big": 1 << 40}, {"big": 1 << 40}},
			want: map[string]int64{"big": 1 << 41},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := s.open(t)
			for _, d := range tc.adds {
				require.NoError(t, st.AddCounters(ctx, day, d))
			}
			got, err := st.Counters(ctx, day)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func (s suite) testCountersPerDay(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)

	got, err := st.Counters(ctx, "2026-03-01")
	require.NoError(t, err)
	assert.NotNil(t, got, "no counters is an empty map")
	assert.Empty(t, got)

	require.NoError(t, st.AddCounters(ctx, "2026-03-01", map[string]int64{"received": 1, "accepted": 1}))
	require.NoError(t, st.AddCounters(ctx, "2026-03-02", map[string]int64{"received": 5}))
	require.NoError(t, st.AddCounters(ctx, "2026-03-01", map[string]int64{"received": 1}))

	for day, want := range map[string]map[string]int64{
		"2026-03-01": {"received": 2, "accepted": 1},
		"2026-03-02": {"received": 5},
		"2026-03-03": {},
		"2026-03":    {},
	} {
		got, err := st.Counters(ctx, day)
		require.NoError(t, err)
		assert.Equal(t, want, got, "day %s", day)
	}
}

// testAddCountersConcurrent has 20 writers add to shared and own counters;
// the totals must be exact.
func (s suite) testAddCountersConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	const day, writers, rounds = "2026-03-01", 20, 10

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for range rounds {
				err := st.AddCounters(ctx, day, map[string]int64{
					"processed": 1, "processing_us.12": 2, fmt.Sprint("writer.", i): 1,
				})
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}

	want := map[string]int64{"processed": writers * rounds, "processing_us.12": 2 * writers * rounds}
	for i := range writers {
		want[fmt.Sprint("writer.", i)] = rounds
	}
	got, err := st.Counters(ctx, day)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
