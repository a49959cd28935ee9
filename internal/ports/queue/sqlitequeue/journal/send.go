package journal

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Send appends e to the journal and returns once it is on disk.
func (j *Journal) Send(ctx context.Context, e Entry) error {
	// The entry keeps its body in its record, not in the caller's slice,
	// which the caller may reuse once Send returns.
	e.rec = appendRecord(make([]byte, 0, recordLen(e)), e)
	e.Body = e.rec[len(e.rec)-len(e.Body):]
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errors.New("queue closed")
	}
	b := j.cur
	b.entries = append(b.entries, e)
	full := len(b.entries) == lingerFull
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	if full {
		select {
		case j.full <- struct{}{}:
		default:
		}
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		// The batch may still be synced; the caller treats the send as not
		// durable and the duplicate, if any, is absorbed by the processor.
		return ctx.Err()
	}
}

// flusher writes and syncs batches one after another: while one is being
// synced, the next collects every send that arrives meanwhile.
func (j *Journal) flusher() {
	defer j.wg.Done()
	for {
		select {
		case <-j.kick:
			j.flushAll()
		case <-j.stop:
			// halt set closed first: no send joins after this drain.
			j.flushAll()
			return
		}
	}
}

func (j *Journal) flushAll() {
	for {
		j.mu.Lock()
		b := j.cur
		if len(b.entries) == 0 {
			j.mu.Unlock()
			return
		}
		j.cur = newBatch()
		j.mu.Unlock()
		j.wbuf, j.ends = j.wbuf[:0], j.ends[:0]
		for i := range b.entries {
			j.wbuf = append(j.wbuf, b.entries[i].rec...)
			j.ends = append(j.ends, int64(len(j.wbuf)))
			b.entries[i].rec = nil
		}
		start, err := j.write(j.wbuf, j.ends)
		if err != nil {
			b.err = fmt.Errorf("send: %w", err)
		} else {
			for i := range b.entries {
				b.entries[i].end = pos{start.seg, start.off + j.ends[i]}
			}
			j.cmu.Lock()
			if len(j.committed) == 0 {
				j.since = time.Now()
			}
			j.committed = append(j.committed, b.entries...)
			j.pending += int64(len(j.wbuf))
			j.cmu.Unlock()
			select {
			case j.nudge <- struct{}{}:
			default:
			}
		}
		close(b.done)
		// The senders just woken are queued on this goroutine's P, which
		// the next fdatasync would hold while blocked in the kernel: let
		// them run first. Sends arriving meanwhile join the next batch.
		runtime.Gosched()
		if j.observe(len(b.entries)) && len(b.entries) >= lingerAt {
			j.linger()
		}
	}
}

// observe counts n sends just written and says whether the edge is busy.
func (j *Journal) observe(n int) bool {
	now := time.Now()
	j.winSends += n
	if d := now.Sub(j.winStart); d >= busyWindow {
		if float64(j.winSends) >= busyRate*d.Seconds() {
			// Until past the next window's end, where it is renewed: a
			// busy edge never looks idle between two windows.
			j.busyUntil.Store(now.Add(2 * busyWindow).UnixNano())
		}
		j.winStart, j.winSends = now, 0
	}
	return now.UnixNano() < j.busyUntil.Load()
}

// linger waits for a larger batch: up to linger, less if lingerFull sends
// are pending.
func (j *Journal) linger() {
	select {
	case <-j.full: // left from an earlier batch
	default:
	}
	j.mu.Lock()
	n := len(j.cur.entries)
	j.mu.Unlock()
	if n >= lingerFull {
		return
	}
	if j.lingerT == nil {
		j.lingerT = time.NewTimer(linger)
	} else {
		j.lingerT.Reset(linger)
	}
	select {
	case <-j.lingerT.C:
	case <-j.full:
		j.lingerT.Stop()
	}
}

// write appends buf (records whose checksums are not yet set) to the
// current segment, syncs it and returns where it starts.
func (j *Journal) write(buf []byte, ends []int64) (pos, error) {
	n := j.size + int64(len(buf))
	switch {
	case j.f == nil:
		if err := j.rotate(); err != nil {
			return pos{}, err
		}
	case j.size >= segmentMax || n > j.prepared && j.hasSpare():
		if err := j.rotate(); err != nil {
			return pos{}, err
		}
	}
	// The segment's number is in every checksum: a recycled file's old
	// records do not read as records of its new life.
	start := 0
	for _, end := range ends {
		sealRecord(buf[start:end], j.seg)
		start = int(end)
	}
	err := j.grow(j.size + int64(len(buf)))
	if err == nil {
		_, err = j.f.WriteAt(buf, j.size)
	}
	if err == nil {
		err = datasync(j.f)
	}
	if err != nil {
		// What reached the file is unknown after a failed write or sync:
		// continue in a new segment rather than after it.
		j.f.Close()
		j.f = nil
		return pos{}, err
	}
	at := pos{j.seg, j.size}
	j.size += int64(len(buf))
	// The segment just left becomes the spare once the database has caught
	// up with it (removeBelow); the preparer writes one only if that has
	// not happened by the time this one is half full.
	if j.size >= max(prepareAt, j.prepared/2) {
		j.wantSpare()
	}
	return at, nil
}

// grow makes sure the segment's first n bytes are allocated and written
// (zeros past the records), in chunks that double up to growMax. An
// fdatasync after overwriting allocated blocks has no metadata to commit, so
// it does not wait for a commit of the file system's journal, which the
// databases' syncs go through too. Prepared segments never need this.
func (j *Journal) grow(n int64) error {
	if n <= j.prepared {
		return nil
	}
	chunk := min(max(2*j.prepared, growMin), growMax)
	to := max(j.prepared+chunk, n)
	if _, err := j.f.WriteAt(make([]byte, to-j.prepared), j.prepared); err != nil {
		return err
	}
	j.prepared = to
	return nil
}
