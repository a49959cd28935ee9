// Package journal is the queue's durable front door. A send is appended to an
// append-only journal file; concurrent sends share one write and one
// fdatasync (group commit), and Send returns once that sync is done. A mover
// then copies journal entries into the messages table in large transactions
// that do not sync, together with the journal position they reach
// (intake_pos), so a crash neither loses nor repeats a copy. Acknowledging a
// send therefore costs a file append and an fdatasync, never a SQLite
// transaction, and never waits behind a consumer's transactions.
//
// A journal belongs to one process at a time (an flock in its directory).
// Opening it where it is free replays what a previous owner left unmoved; a
// process that finds it taken (a tool, or the processor worker, beside the
// running server) sends straight to SQLite instead. The queue's Receive and
// Depth first move what has been committed (Flush), so in the owning
// process a sent message is receivable and counted at once; other processes
// see it after at most moveDelay, or, during a burst (busyRate), when it
// eases or the backlog reaches deferBytes or deferAge: in a burst the
// mover yields the CPU to the acknowledgements, and the flusher waits a
// little for fuller batches.
//
// Records are written over blocks already allocated and written (a spare
// segment zero-filled in the background, or a moved segment recycled), so
// an fdatasync flushes data and changes no metadata. A record's checksum
// covers its segment's number, so the old records of a recycled file end
// the replay of its new life.
//
// A segment file is deleted or recycled only after an fsynced SQLite commit
// has recorded a position past it: an acknowledged send is on disk, in the
// journal or in the database, at every moment.
package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"supportpipe/internal/ports/private"
	"supportpipe/internal/ports/refcount"
	"supportpipe/internal/ports/sqlitedb"
)

// deferBytes and deferAge bound what yield holds back (variables for tests).
var deferBytes, deferAge int64 = 64 << 20, int64(5 * time.Second)

// segmentMax is the size of a prepared segment, and the size at which a
// segment grown on demand is left for a new one (a variable for tests).
var segmentMax int64 = 16 << 20

const (
	// growMin and growMax bound the zero-filled extensions of a segment
	// grown on demand: each costs its sends a longer fdatasync.
	growMin, growMax = 64 << 10, 256 << 10
	// prepareAt is how far a segment grown on demand fills before a spare
	// is prepared in the background: a queue that sees a handful of sends
	// (tests, tools) never writes one.
	prepareAt = 128 << 10
	// prepareChunk is the step of the preparation, each fdatasynced on its
	// own and followed by a pause, so that it never queues a large write in
	// front of an acknowledgement's sync.
	prepareChunk, preparePause = 1 << 20, 10 * time.Millisecond
	// recycleMin is the smallest moved segment kept as the spare.
	recycleMin = 1 << 20
	// The edge is busy while the flusher has seen at least busyRate sends
	// a second over the last busyWindow: three times the 1,000 a second
	// the local mode is sized for, a burst. The busy state lasts one or two
	// windows after the rate falls.
	busyRate, busyWindow = 3000, 100 * time.Millisecond
	// When busy, after a batch of at least lingerAt sends (a smaller one is
	// not worth waiting after), the flusher waits up to linger before the
	// next write, or until lingerFull sends are pending. An fdatasync costs
	// far more than its own CPU time: on the development VM each one took
	// ~130 µs of the two cores' capacity from other processes
	// (docs/benchmarks.md), so a burst that synced ~900 times a second
	// spent a sixth of the machine on syncs. Below busyRate it never waits,
	// which would only lengthen acknowledgements already slowed by a slow
	// sync.
	linger, lingerAt, lingerFull = time.Millisecond, 4, 256
	// moveDelay lets sends accumulate before a move: one transaction then
	// writes each table and index page once for many rows, and the
	// database's checkpoints, whose fsyncs the journal's syncs would queue
	// behind, come rarely.
	moveDelay = 50 * time.Millisecond
	// moveRows bounds one move transaction.
	moveRows = 2000
	// recordMax rejects an implausible record length while replaying.
	recordMax = 64 << 20
)

// Schema is the table the journal records its position in. The schema of
// the database it copies into has it beside the messages table.
const Schema = `
-- How far each queue's intake journal has been copied into messages.
CREATE TABLE IF NOT EXISTS intake_pos (
	queue TEXT PRIMARY KEY,
	seg INTEGER NOT NULL,
	off INTEGER NOT NULL
);
`

// ErrLocked says another process owns the journal.
var ErrLocked = errors.New("intake journal in use by another process")

// Entry is a sent message, as the messages table holds it.
type Entry struct {
	ID     string
	SentAt int64 // unix nanoseconds
	Attrs  string
	Body   []byte
	rec    []byte // the encoded record, without its checksum, until written
	end    pos    // just past this entry's record
}

// pos is a journal position: an offset in segment seg.
type pos struct{ seg, off int64 }

type batch struct {
	entries []Entry
	done    chan struct{}
	err     error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// Journal is the intake journal of one queue, shared by the queue's
// handles in this process.
type Journal struct {
	key  string // in journals
	name string
	dir  string
	db   *sqlitedb.DB
	lock *os.File

	mu     sync.Mutex // guards cur and closed
	cur    *batch
	closed bool
	kick   chan struct{} // wakes the flusher
	full   chan struct{} // lingerFull sends are pending
	// lingerT times the flusher's waits (flusher only).
	lingerT *time.Timer

	// Owned by the flusher, and by open and close while it is not running.
	wbuf     []byte  // the records of the batch being written
	ends     []int64 // where each of them ends in wbuf
	f        *os.File
	seg      int64
	size     int64 // end of the last record
	prepared int64 // bytes allocated and written (zeros past the records)

	cmu       sync.Mutex // guards committed, pending and since
	committed []Entry    // synced, not yet in SQLite
	pending   int64      // bytes of committed's records
	since     time.Time  // when committed last became non-empty

	// busyUntil is when the edge stops counting as busy (unix
	// nanoseconds); winStart and winSends count the flusher's sends since
	// the start of the current busyWindow (flusher only).
	busyUntil atomic.Int64
	winStart  time.Time
	winSends  int

	smu       sync.Mutex // guards spare and preparing
	spare     bool       // a prepared segment file waits (spareName)
	preparing bool
	prepare   chan struct{} // wakes the preparer

	moveMu sync.Mutex // serialises moves; guards moved and oldest
	moved  pos        // position the database has reached
	oldest int64      // lowest segment that may still be on disk
	nudge  chan struct{}

	stop chan struct{}
	wg   sync.WaitGroup
}

// journals holds the open journals by database file and queue name.
var journals refcount.Registry[string, *Journal]

// Open returns the journal of queue name in the database file at path,
// shared by every handle this process opens on them. It returns ErrLocked
// when another process owns it. schema and pragmas are those the queue
// opens the file with (sqlitedb.Open); the schema includes Schema.
func Open(ctx context.Context, path, name, schema string, pragmas ...string) (*Journal, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	key := abs + "\x00" + name
	return journals.Acquire(key, func() (*Journal, error) { return open(ctx, key, abs, name, schema, pragmas) })
}

func open(ctx context.Context, key, abs, name, schema string, pragmas []string) (*Journal, error) {
	dir := journalDir(abs, name)
	if err := os.MkdirAll(dir, private.Dir); err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	// The journal holds message bodies. What it creates is 0600 in a 0700
	// folder; what an install left looser (the folder, the lock, segments,
	// the spare) is tightened here, so that an upgrade fixes it.
	if err := private.TightenTree(dir); err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	db, err := sqlitedb.Open(ctx, abs, schema, pragmas...)
	if err != nil {
		lock.Close()
		return nil, err
	}
	j := &Journal{key: key, name: name, dir: dir, db: db, lock: lock, cur: newBatch(),
		kick: make(chan struct{}, 1), full: make(chan struct{}, 1), nudge: make(chan struct{}, 1), prepare: make(chan struct{}, 1), stop: make(chan struct{})}
	if err := db.Prepare(ctx, sqlInsert, sqlInsertN, sqlPosition); err != nil {
		return nil, errors.Join(fmt.Errorf("intake prepare: %w", err), j.release())
	}
	if err := j.replay(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("intake replay %s: %w", dir, err), j.release())
	}
	j.wg.Add(3)
	go j.flusher()
	go j.mover()
	go j.preparer()
	return j, nil
}

func journalDir(path, name string) string { return path + ".intake." + name }

// Tighten takes the group's and others' permissions off the files of the
// journal of queue name beside the database file at path, as Open does.
func Tighten(path, name string) error { return private.TightenTree(journalDir(path, name)) }

// Close releases one handle; the last one stops the journal after moving
// everything it holds into SQLite.
func (j *Journal) Close() error { return journals.Release(j.key, j, (*Journal).shutdown) }

func (j *Journal) shutdown() error {
	j.halt()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := j.move(ctx, true)
	if err == nil {
		// Everything is in SQLite, fsynced: the journal is redundant.
		j.removeBelow(j.seg + 1)
	}
	return errors.Join(err, j.release())
}

// halt stops the flusher, the mover and the preparer.
func (j *Journal) halt() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	j.wg.Wait()
}

func (j *Journal) release() error {
	var errs []error
	if j.f != nil {
		errs = append(errs, j.f.Close())
	}
	errs = append(errs, j.db.Close(), j.lock.Close())
	return errors.Join(errs...)
}
