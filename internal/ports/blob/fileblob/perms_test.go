//go:build unix

package fileblob_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/private/privatetest"
)

func mode(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm().String()
}

// userDir is a folder made as a user would: 0755 under umask 022.
func userDir(t *testing.T) string {
	t.Helper()
	privatetest.Umask(t)
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.Equal(t, "-rwxr-xr-x", mode(t, dir))
	return dir
}

// TestCreatedArePrivate: under umask 022, the root, every folder a key makes
// (any prefix, such as claims/) and every object are the owner's only, an
// object replaced included.
func TestCreatedArePrivate(t *testing.T) {
	data := userDir(t)
	b := open(t, filepath.Join(data, "spool"))
	for _, key := range []string{"spool/2026-11-28/x.json", "claims/ab/cd/body", "top"} {
		require.NoError(t, b.Put(t.Context(), key, []byte("customer message"), ""))
	}
	require.NoError(t, os.Chmod(filepath.Join(data, "spool", "top"), 0o644))
	require.NoError(t, b.Put(t.Context(), "top", []byte("replaced"), ""))
	seen := privatetest.AssertTree(t, data)
	assert.Contains(t, seen, "spool/claims/ab/cd/body")
	assert.Len(t, seen, 9, "spool, 3 objects, 5 folders under it: %v", seen)
}

// TestNewPrivateTightens: a bucket an earlier version or a user left
// readable by others is fixed when NewPrivate opens it; the data stays.
func TestNewPrivateTightens(t *testing.T) {
	data := userDir(t)
	root := filepath.Join(data, "spool")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "spool", "2026-11-28"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "spool", "2026-11-28", "x.json"), []byte("{}"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "spool", ".tmp-1"), []byte("half"), 0o644))

	b, err := fileblob.NewPrivate(root)
	require.NoError(t, err)
	seen := privatetest.AssertTree(t, data)
	assert.Len(t, seen, 5, "%v", seen)
	got, err := b.Get(t.Context(), "spool/2026-11-28/x.json")
	require.NoError(t, err)
	assert.Equal(t, "{}", string(got))
}

// TestNewKeepsExisting: New may be given a folder it shares (the reports
// root is the working directory by default): it changes no existing mode.
func TestNewKeepsExisting(t *testing.T) {
	data := userDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(data, "README"), nil, 0o644))
	open(t, data)
	assert.Equal(t, "-rwxr-xr-x", mode(t, data))
	assert.Equal(t, "-rw-r--r--", mode(t, filepath.Join(data, "README")))
}
