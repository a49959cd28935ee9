package stats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store/memstore"
)

func TestBufferSpacesMarks(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	rec := stats.NewBuffer(st)
	rec.MarkEvery = time.Minute
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		at, want time.Time
	}{
		{t0, t0},                       // the first mark is written
		{t0.Add(30 * time.Second), t0}, // within a minute: pending
		{t0.Add(50 * time.Second), t0}, // still pending, the latest kept
		{t0.Add(61 * time.Second), t0.Add(61 * time.Second)}, // a minute on: written
	}
	for i, s := range steps {
		rec.Mark("m", s.at)
		rec.Add("2026-11-29", "rejected", 1)
		require.NoError(t, rec.Flush(ctx))
		got, err := st.Mark(ctx, "m")
		require.NoError(t, err)
		assert.True(t, s.want.Equal(got), "step %d: mark %v, want %v", i, got, s.want)
		c, err := st.Counters(ctx, "2026-11-29")
		require.NoError(t, err)
		assert.Equal(t, int64(i+1), c["rejected"], "counts are written at every flush")
	}
}
