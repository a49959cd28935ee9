package sqlitestore_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/ports/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
		require.NoError(t, err)
		return st
	}, storetest.Options{})
}

// TestOpenMigratesDayRecords opens a store.db whose day_records table was
// made before records had versions: its records are kept and read as
// version 0, and versions apply from then on.
func TestOpenMigratesDayRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE day_records (day TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
		data TEXT NOT NULL, at INTEGER, PRIMARY KEY (day, kind, id));
		INSERT INTO day_records VALUES ('2026-03-01', 'sla', 'p1', '{"old":true}', NULL)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	st, err := sqlitestore.Open(t.Context(), path)
	require.NoError(t, err)
	defer st.Close()
	got, err := st.DayRecords(t.Context(), "2026-03-01", "sla", 10)
	require.NoError(t, err)
	require.Equal(t, []store.DayRecord{{Day: "2026-03-01", Kind: "sla", ID: "p1", Data: `{"old":true}`}}, got)
	require.NoError(t, st.AddDayRecord(t.Context(), store.DayRecord{Day: "2026-03-01", Kind: "sla", ID: "p1", Data: `{"new":true}`, Version: 3}))
	require.NoError(t, st.AddDayRecord(t.Context(), store.DayRecord{Day: "2026-03-01", Kind: "sla", ID: "p1", Data: `{"stale":true}`, Version: 2}))
	got, err = st.DayRecords(t.Context(), "2026-03-01", "sla", 10)
	require.NoError(t, err)
	require.Equal(t, `{"new":true}`, got[0].Data)
}
