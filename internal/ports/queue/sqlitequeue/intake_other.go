//go:build !linux

package sqlitequeue

import "os"

func datasync(f *os.File) error { return f.Sync() }
