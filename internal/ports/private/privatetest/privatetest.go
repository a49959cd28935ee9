//go:build unix

// Package privatetest checks in tests that what the product stores is
// private to its owner.
package privatetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/private"
)

// Umask sets the process's umask to the usual 022, under which a file
// created without an explicit mode is readable by everyone, and restores
// it when the test ends. The umask is the process's: the test must not be
// parallel.
func Umask(t *testing.T) {
	t.Helper()
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

// AssertTree asserts that every file under root is 0600 and every folder
// 0700, root itself excepted, and returns the paths it saw (relative to
// root, slash-separated) with their modes. The product may be running: an
// entry removed while the walk reaches it is skipped.
func AssertTree(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	seen := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if p == root {
			return err
		}
		var fi fs.FileInfo
		if err == nil {
			fi, err = d.Info()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = fi.Mode()
		switch {
		case fi.IsDir():
			assert.Equal(t, private.Dir.String(), fi.Mode().Perm().String(), "folder %s", rel)
		case fi.Mode().IsRegular():
			assert.Equal(t, private.File.String(), fi.Mode().Perm().String(), "file %s", rel)
		default:
			assert.Fail(t, "neither a file nor a folder", "%s: %v", rel, fi.Mode())
		}
		return nil
	})
	require.NoError(t, err)
	return seen
}

// Loosen makes everything under root, root excepted, readable by everyone
// (files 0644, folders 0755), as earlier versions left an install.
func Loosen(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || p == root:
			return err
		case d.IsDir():
			return os.Chmod(p, 0o755)
		default:
			return os.Chmod(p, 0o644)
		}
	}))
}
