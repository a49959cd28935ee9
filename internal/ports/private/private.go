// Package private keeps what the local mode stores to its owner. The data
// dir holds message content, customer emails, raw webhook bodies and
// secrets: what the product creates there is 0600 (files) and 0700
// (folders), whatever the umask, and what an earlier version or a user left
// looser is tightened when it is opened, so that an upgrade fixes an
// existing install.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the files and folders the product creates.
const (
	File fs.FileMode = 0o600
	Dir  fs.FileMode = 0o700
)

// Tighten takes the group's and others' permissions off path, if it exists.
// The owner's are kept: a file its owner made read-only stays so. A symbolic
// link is left alone, and so is its target, which lies outside what the
// product made.
func Tighten(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tighten %s: %w", path, err)
	}
	return tighten(path, fi)
}

func tighten(path string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	// A file removed meanwhile, by another process sharing the folder, is
	// no longer there to be read.
	if err := os.Chmod(path, fi.Mode()&^0o077); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tighten %s: %w", path, err)
	}
	return nil
}

// TightenTree is Tighten on root and everything under it. It does not follow
// symbolic links.
func TightenTree(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		var fi fs.FileInfo
		if err == nil {
			fi, err = d.Info()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		return tighten(p, fi)
	})
	if err != nil {
		return fmt.Errorf("tighten %s: %w", root, err)
	}
	return nil
}
