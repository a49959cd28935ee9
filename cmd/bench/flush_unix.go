//go:build unix

package main

import "syscall"

// flushDisk writes every dirty page of the system back (sync(2)), so that
// what one figure wrote is not written back during the next one.
func flushDisk() { syscall.Sync() }
