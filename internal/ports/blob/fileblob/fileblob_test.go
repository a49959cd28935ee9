package fileblob_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/blob/blobtest"
	"supportpipe/internal/ports/blob/fileblob"
)

func open(t *testing.T, dir string) *fileblob.Bucket {
	b, err := fileblob.New(dir)
	require.NoError(t, err)
	return b
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return open(t, t.TempDir()) })
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	b := open(t, filepath.Join(dir, "new", "root"))
	require.NoError(t, b.Put(t.Context(), "spool/2026-11-28/x.json", []byte("{}"), "application/json"))
	fi, err := os.Stat(filepath.Join(dir, "new", "root", "spool", "2026-11-28", "x.json"))
	require.NoError(t, err, "keys map to subdirectories")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "objects are private to the owner")
	entries, err := os.ReadDir(filepath.Join(dir, "new", "root", "spool", "2026-11-28"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")
}

// TestCrashLeftovers: a temporary file left by a crash mid-Put is not an
// object, and the previous object is intact.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	require.NoError(t, b.Put(t.Context(), "k/obj", []byte("old"), ""))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k", ".tmp-123"), []byte("half"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".hidden"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".hidden", "x"), []byte("x"), 0o600))
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"k/obj"}, keys)
	got, err := b.Get(t.Context(), "k/obj")
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
}

func TestKeyOverObject(t *testing.T) {
	b := open(t, t.TempDir())
	require.NoError(t, b.Put(t.Context(), "a", []byte("x"), ""))
	assert.Error(t, b.Put(t.Context(), "a/b", []byte("y"), ""), "a file cannot also be a directory")
}
