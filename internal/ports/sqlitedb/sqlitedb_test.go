package sqlitedb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenPathWithURIChars(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%d")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	path := filepath.Join(dir, "x.db")
	db, err := Open(context.Background(), path, `CREATE TABLE t(x)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = os.Stat(path)
	require.NoError(t, err, "the database is where it was asked to be")
}
