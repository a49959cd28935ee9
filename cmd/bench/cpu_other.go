//go:build !unix

package main

import "time"

var started = time.Now()

// cpuTime has no portable equivalent here: wall time stands in, which
// counts what other processes run as well.
func cpuTime() time.Duration { return time.Since(started) }
