//go:build !linux

package main

import "time"

// watchDisk has no device statistics to read here.
func watchDisk(string) func() time.Duration { return func() time.Duration { return -1 } }
