package sqlitestore_test

import (
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
