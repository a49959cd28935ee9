//go:build unix

package private_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/private"
	"supportpipe/internal/ports/private/privatetest"
)

func mode(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	return fi.Mode().String()
}

func TestTighten(t *testing.T) {
	privatetest.Umask(t)
	dir := t.TempDir()
	loose, readOnly, folder := filepath.Join(dir, "loose"), filepath.Join(dir, "ro"), filepath.Join(dir, "folder")
	require.NoError(t, os.WriteFile(loose, nil, 0o666))
	require.NoError(t, os.Chmod(loose, 0o666))
	require.NoError(t, os.WriteFile(readOnly, nil, 0o444))
	require.NoError(t, os.Mkdir(folder, 0o755))
	for _, p := range []string{loose, readOnly, folder, filepath.Join(dir, "missing")} {
		require.NoError(t, private.Tighten(p))
	}
	assert.Equal(t, "-rw-------", mode(t, loose))
	assert.Equal(t, "-r--------", mode(t, readOnly), "the owner's bits are kept")
	assert.Equal(t, "drwx------", mode(t, folder))
}

// TestTightenTreeLeavesLinks: a link's target lies outside what the product
// made; neither it nor what the link stands for is changed.
func TestTightenTreeLeavesLinks(t *testing.T) {
	privatetest.Umask(t)
	outside, root := filepath.Join(t.TempDir(), "outside"), filepath.Join(t.TempDir(), "root")
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", "b", "f"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "shared"), nil, 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "shared"), filepath.Join(root, "a", "link")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "dirlink")))

	require.NoError(t, private.TightenTree(root))
	assert.Equal(t, "drwx------", mode(t, root))
	assert.Equal(t, "drwx------", mode(t, filepath.Join(root, "a")))
	assert.Equal(t, "drwx------", mode(t, filepath.Join(root, "a", "b")))
	assert.Equal(t, "-rw-------", mode(t, filepath.Join(root, "a", "b", "f")))
	assert.Equal(t, "-rw-r--r--", mode(t, filepath.Join(outside, "shared")))
	assert.Equal(t, "drwxr-xr-x", mode(t, outside))
	require.NoError(t, private.TightenTree(filepath.Join(root, "missing")))
}
