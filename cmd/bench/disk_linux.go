package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// watchDisk samples the block device holding dir until the returned
// function is called, which reports the longest span during which the
// device held requests and completed none: on a VM, the host's own I/O
// shows up as such freezes, and every fdatasync issued meanwhile waits
// them out. It reports -1 when the device has no statistics (tmpfs,
// overlay without a block device).
func watchDisk(dir string) func() time.Duration {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return func() time.Duration { return -1 }
	}
	major := (st.Dev>>8)&0xfff | (st.Dev>>32)&^0xfff
	minor := st.Dev&0xff | (st.Dev>>12)&^0xff
	key := [2][]byte{strconv.AppendUint(nil, major, 10), strconv.AppendUint(nil, minor, 10)}
	if _, _, ok := diskSample(key); !ok {
		return func() time.Duration { return -1 }
	}
	stop, done := make(chan struct{}), make(chan time.Duration)
	go func() {
		var longest time.Duration
		lastDone, _, _ := diskSample(key)
		since := time.Now()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- longest
				return
			case <-t.C:
			}
			completed, inFlight, _ := diskSample(key)
			now := time.Now()
			if completed != lastDone || inFlight == 0 {
				lastDone, since = completed, now
				continue
			}
			longest = max(longest, now.Sub(since))
		}
	}()
	return func() time.Duration {
		close(stop)
		return <-done
	}
}

// diskSample reads the device's line of /proc/diskstats (key is its major
// and minor numbers): requests completed (reads, writes, discards,
// flushes) and requests in flight.
func diskSample(key [2][]byte) (completed, inFlight int64, ok bool) {
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return 0, 0, false
	}
	return parseDiskstats(b, key)
}

func parseDiskstats(b []byte, key [2][]byte) (completed, inFlight int64, ok bool) {
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 14 || !bytes.Equal(f[0], key[0]) || !bytes.Equal(f[1], key[1]) {
			continue
		}
		n := func(i int) int64 {
			if i >= len(f) {
				return 0
			}
			v, _ := strconv.ParseInt(string(f[i]), 10, 64)
			return v
		}
		// Fields after major, minor and name: 1 reads, 5 writes, 9 in
		// flight, 12 discards, 16 flushes (the last two on newer kernels).
		return n(3) + n(7) + n(14) + n(18), n(11), true
	}
	return 0, 0, false
}
