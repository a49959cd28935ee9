package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"supportpipe/internal/ports/sqlitedb"
)

// insertRows is how many rows one prepared insert statement takes: a
// statement run costs several microseconds through database/sql and the
// driver, whatever its size.
const insertRows = 16

var sqlInsertN = `INSERT OR IGNORE INTO messages(id, queue, body, attrs, sent_at, visible_at) VALUES(?,?,?,?,?,?)` +
	strings.Repeat(`,(?,?,?,?,?,?)`, insertRows-1)

const (
	sqlInsert   = `INSERT OR IGNORE INTO messages(id, queue, body, attrs, sent_at, visible_at) VALUES(?,?,?,?,?,?)`
	sqlPosition = `INSERT INTO intake_pos(queue, seg, off) VALUES(?,?,?)
		ON CONFLICT(queue) DO UPDATE SET seg=excluded.seg, off=excluded.off`
)

// mover copies committed entries into SQLite a little after they are synced.
func (j *Journal) mover() {
	defer j.wg.Done()
	retry := time.Duration(0)
	for {
		if retry == 0 {
			select {
			case <-j.nudge:
			case <-j.stop:
				return
			}
		}
		select {
		case <-time.After(max(moveDelay, retry)):
		case <-j.stop:
			return
		}
		if !j.yield() {
			return
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := j.move(ctx, false)
		cancel()
		if err != nil {
			// The entries stay committed in the journal; try again later.
			retry = min(max(2*retry, 50*time.Millisecond), 2*time.Second)
		} else {
			retry = 0
		}
	}
}

// yield holds moves back while the edge is busy: in a burst, the CPU a
// move takes (most of it SQLite's) is
// CPU the requests do not get, and the acknowledged sends are safe in the
// journal meanwhile. It waits until the load eases, or the backlog
// reaches deferBytes or deferAge. A receive or a depth in this process
// still moves at once (Flush). It reports false when the journal stops.
func (j *Journal) yield() bool {
	for {
		busy := time.Until(time.Unix(0, j.busyUntil.Load()))
		j.cmu.Lock()
		due := j.pending >= deferBytes || len(j.committed) > 0 && time.Since(j.since) >= time.Duration(deferAge)
		j.cmu.Unlock()
		if busy <= 0 || due {
			return true
		}
		select {
		case <-time.After(min(busy, busyWindow)):
		case <-j.stop:
			return false
		}
	}
}

// Flush moves what is committed now, so that a receive or a depth that
// follows an acknowledged send sees it.
func (j *Journal) Flush(ctx context.Context) error {
	j.cmu.Lock()
	n := len(j.committed)
	j.cmu.Unlock()
	if n == 0 {
		// A move may still be inserting entries it took: wait for it.
		j.moveMu.Lock()
		defer j.moveMu.Unlock()
		return nil
	}
	return j.move(ctx, false)
}

// move inserts every committed entry into SQLite, with the position reached,
// in transactions of up to moveRows rows. When older segments remain on disk
// (or durable is set) the last transaction is fsynced, and the segments
// before the position go.
func (j *Journal) move(ctx context.Context, durable bool) error {
	j.moveMu.Lock()
	defer j.moveMu.Unlock()
	j.cmu.Lock()
	es, pending := j.committed, j.pending
	j.committed, j.pending = nil, 0
	j.cmu.Unlock()
	if len(es) == 0 && !durable {
		return nil
	}
	for {
		n := min(len(es), moveRows)
		last := n == len(es)
		at := j.moved
		if n > 0 {
			at = es[n-1].end
		}
		fsync := last && (durable || (at.seg > 0 && j.oldest < at.seg))
		if err := j.insert(ctx, es[:n], at, fsync); err != nil {
			j.cmu.Lock()
			if len(j.committed) == 0 {
				j.since = time.Now()
			}
			j.committed = append(es, j.committed...)
			j.pending += pending
			j.cmu.Unlock()
			return fmt.Errorf("intake move: %w", err)
		}
		es = es[n:]
		j.moved = at
		if last {
			if fsync && at.seg > 0 {
				j.removeBelow(at.seg)
			}
			return nil
		}
	}
}

// insert commits es and, when at is set, the position after them.
func (j *Journal) insert(ctx context.Context, es []Entry, at pos, fsync bool) error {
	fn := func(tx *sqlitedb.Tx) error {
		args := make([]any, 0, 6*insertRows)
		for rest := es; len(rest) > 0; {
			n, query := 1, sqlInsert
			if len(rest) >= insertRows {
				n, query = insertRows, sqlInsertN
			}
			args = args[:0]
			for _, e := range rest[:n] {
				args = append(args, e.ID, j.name, e.Body, e.Attrs, e.SentAt, e.SentAt)
			}
			if _, err := tx.ExecContext(ctx, query, args...); err != nil {
				return err
			}
			rest = rest[n:]
			// A move is background work: between statements, request
			// goroutines waiting for this P go first.
			runtime.Gosched()
		}
		if at.seg > 0 {
			_, err := tx.ExecContext(ctx, sqlPosition, j.name, at.seg, at.off)
			return err
		}
		return nil
	}
	if fsync {
		return j.db.Durable(ctx, fn)
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// replay moves what a previous owner synced but did not move, then deletes
// its segments; new records go to a new segment. A segment is appended by
// one writer, in order, and a send is acknowledged only once everything
// before it is synced, so nothing after the first torn or corrupt record of
// a segment was acknowledged.
func (j *Journal) replay(ctx context.Context) error {
	var done pos
	err := j.db.QueryRowContext(ctx, `SELECT seg, off FROM intake_pos WHERE queue=?`, j.name).Scan(&done.seg, &done.off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	segs, err := listSegments(j.dir)
	if err != nil {
		return err
	}
	// A spare left by a previous owner is used; one half made is not.
	_ = os.Remove(filepath.Join(j.dir, spareTemp))
	if _, err := os.Stat(filepath.Join(j.dir, spareName)); err == nil {
		j.spare = true
	}
	last := done.seg
	for _, s := range segs {
		last = max(last, s)
		if s < done.seg {
			continue
		}
		data, err := os.ReadFile(segmentPath(j.dir, s))
		if err != nil {
			return err
		}
		off := int64(0)
		if s == done.seg {
			off = min(done.off, int64(len(data)))
		}
		var es []Entry
		for {
			e, n, ok := readRecord(data[off:], s)
			if !ok {
				break
			}
			off += int64(n)
			e.end = pos{s, off}
			es = append(es, e)
			if len(es) == moveRows {
				if err := j.insert(ctx, es, e.end, false); err != nil {
					return err
				}
				es = es[:0]
			}
		}
		if len(es) > 0 {
			if err := j.insert(ctx, es, es[len(es)-1].end, false); err != nil {
				return err
			}
		}
	}
	// One fsynced commit makes the replayed rows durable; then the segments
	// can go, and the next record starts segment last+1.
	if err := j.insert(ctx, nil, pos{last + 1, 0}, true); err != nil {
		return err
	}
	j.seg, j.moved = last, pos{last + 1, 0}
	j.removeBelow(last + 1)
	return nil
}
