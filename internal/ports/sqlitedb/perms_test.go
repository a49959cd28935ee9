//go:build unix

package sqlitedb

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/private"
	"supportpipe/internal/ports/private/privatetest"
)

// openDir returns a folder made as a user would: 0755 under umask 022.
func openDir(t *testing.T) string {
	t.Helper()
	privatetest.Umask(t)
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.Equal(t, "-rwxr-xr-x", mode(t, dir))
	return dir
}

func mode(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm().String()
}

// TestFilesArePrivate checks the files SQLite itself creates: the -wal and
// -shm files, which exist only while the database is open, take the
// database file's permission bits.
func TestFilesArePrivate(t *testing.T) {
	dir := openDir(t)
	path := filepath.Join(dir, "x.db")
	db, err := Open(t.Context(), path, `CREATE TABLE IF NOT EXISTS t(x)`)
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), `INSERT INTO t VALUES('customer message')`)
	require.NoError(t, err)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		assert.Equal(t, private.File.String(), mode(t, p), p)
	}
	require.NoError(t, db.Close())
	privatetest.AssertTree(t, dir)
}

// TestLooseFilesAreTightened: a database an earlier version created 0644,
// with its -wal and -shm files still there (another connection has it
// open, as a crashed process would have left them), is 0600 once opened.
func TestLooseFilesAreTightened(t *testing.T) {
	dir := openDir(t)
	path := filepath.Join(dir, "x.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.ExecContext(t.Context(), `CREATE TABLE t(x); INSERT INTO t VALUES('customer message')`)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+"-journal", nil, 0o644))
	loose := []string{path, path + "-wal", path + "-shm", path + "-journal"}
	for _, p := range loose {
		require.Equal(t, "-rw-r--r--", mode(t, p), "%s as an earlier version left it", p)
	}

	db, err := Open(t.Context(), path, `CREATE TABLE IF NOT EXISTS t(x)`)
	require.NoError(t, err)
	defer db.Close()
	for _, p := range loose {
		assert.Equal(t, private.File.String(), mode(t, p), p)
	}
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), `SELECT count(*) FROM t`).Scan(&n))
	assert.Equal(t, 1, n, "the data is intact")
	privatetest.AssertTree(t, dir)
}
