//go:build !unix

package sqlitequeue

import "os"

// Without flock the journal is not used: sends go straight to SQLite.
func lockDir(string) (*os.File, error) { return nil, errLocked }

func syncDir(string) error { return nil }
