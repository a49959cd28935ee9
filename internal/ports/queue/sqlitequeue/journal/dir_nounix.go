//go:build !unix

package journal

import "os"

// Without flock the journal is not used: sends go straight to SQLite.
func lockDir(string) (*os.File, error) { return nil, ErrLocked }

func syncDir(string) error { return nil }
