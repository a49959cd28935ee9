package sqlitestore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
)

// TestDeliveryLogIsPruned: entries past the retention leave the table
// when later ones are written, by LogDeliveries or by Complete.
func TestDeliveryLogIsPruned(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	defer st.Close()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	st.SetClock(func() time.Time { return now })
	rows := func() int {
		var n int
		require.NoError(t, st.db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n))
		return n
	}
	require.NoError(t, st.LogDeliveries(ctx, store.Delivery{ID: "old", At: t0, Outcome: store.DeliveryIgnored}))
	now = t0.Add(store.DeliveryRetention + time.Hour)
	d := store.Delivery{ID: "new", At: now, Outcome: store.DeliveryProcessed}
	require.NoError(t, st.Complete(ctx, store.Completion{Keys: []string{"k"}, ExpiresAt: now.Add(time.Hour), Delivery: &d}))
	assert.Equal(t, 1, rows(), "the old entry went with the completion's write")
	require.NoError(t, st.LogDeliveries(ctx, store.Delivery{ID: "newer", At: now, Outcome: store.DeliveryIgnored}))
	assert.Equal(t, 2, rows())
}
