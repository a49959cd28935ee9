package sqlitequeue

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"supportpipe/internal/ports/private"
	"supportpipe/internal/ports/sqlitedb"
)

// The intake is the queue's durable front door. A send is appended to an
// append-only journal file; concurrent sends share one write and one
// fdatasync (group commit), and Send returns once that sync is done. A mover
// then copies journal entries into the messages table in large transactions
// that do not sync, together with the journal position they reach
// (intake_pos), so a crash neither loses nor repeats a copy. Acknowledging a
// send therefore costs a file append and an fdatasync, never a SQLite
// transaction, and never waits behind a consumer's transactions.
//
// A journal belongs to one process at a time (an flock in its directory).
// Opening the queue where the journal is free replays what a previous owner
// left unmoved; a process that finds it taken (a tool, or the processor
// worker, beside the running server) sends straight to SQLite instead.
// Receive and Depth first move what has been committed, so in the owning
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

// insertRows is how many rows one prepared insert statement takes: a
// statement run costs several microseconds through database/sql and the
// driver, whatever its size.
const insertRows = 16

var sqlIntakeInsertN = `INSERT OR IGNORE INTO messages(id, queue, body, attrs, sent_at, visible_at) VALUES(?,?,?,?,?,?)` +
	strings.Repeat(`,(?,?,?,?,?,?)`, insertRows-1)

const (
	sqlIntakeInsert = `INSERT OR IGNORE INTO messages(id, queue, body, attrs, sent_at, visible_at) VALUES(?,?,?,?,?,?)`
	sqlIntakePos    = `INSERT INTO intake_pos(queue, seg, off) VALUES(?,?,?)
		ON CONFLICT(queue) DO UPDATE SET seg=excluded.seg, off=excluded.off`
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crcSeed makes an all-zero header (the zero-filled tail of a segment) fail
// the check.
const crcSeed = 0x5a17e5a1

// errLocked says another process owns the journal.
var errLocked = errors.New("intake journal in use by another process")

type entry struct {
	id     string
	sentAt int64
	attrs  string
	body   []byte
	rec    []byte // the encoded record, without its checksum, until written
	end    pos    // just past this entry's record
}

// pos is a journal position: an offset in segment seg.
type pos struct{ seg, off int64 }

type batch struct {
	entries []entry
	done    chan struct{}
	err     error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

type intake struct {
	key  string // registry key; refs guarded by intakes.mu
	refs int
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
	committed []entry    // synced, not yet in SQLite
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

var intakes = struct {
	mu   sync.Mutex
	open map[string]*intake
}{open: map[string]*intake{}}

// openIntake returns the journal of queue name in the database file at path,
// shared by every handle this process opens on them. It returns errLocked
// when another process owns it.
func openIntake(ctx context.Context, path, name string) (*intake, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	key := abs + "\x00" + name
	intakes.mu.Lock()
	defer intakes.mu.Unlock()
	if j, ok := intakes.open[key]; ok {
		j.refs++
		return j, nil
	}
	dir := intakeDir(abs, name)
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
	db, err := sqlitedb.Open(ctx, abs, schema, fmt.Sprintf("wal_autocheckpoint(%d)", checkpointPages))
	if err != nil {
		lock.Close()
		return nil, err
	}
	j := &intake{key: key, refs: 1, name: name, dir: dir, db: db, lock: lock, cur: newBatch(),
		kick: make(chan struct{}, 1), full: make(chan struct{}, 1), nudge: make(chan struct{}, 1), prepare: make(chan struct{}, 1), stop: make(chan struct{})}
	if err := db.Prepare(ctx, sqlIntakeInsert, sqlIntakeInsertN, sqlIntakePos); err != nil {
		return nil, errors.Join(fmt.Errorf("intake prepare: %w", err), j.release())
	}
	if err := j.replay(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("intake replay %s: %w", dir, err), j.release())
	}
	j.wg.Add(3)
	go j.flusher()
	go j.mover()
	go j.preparer()
	intakes.open[key] = j
	return j, nil
}

func intakeDir(path, name string) string { return path + ".intake." + name }

// Tighten takes the group's and others' permissions off what queue name in
// the database file at path keeps on disk, as Open does, for a queue that is
// opened only when first used: an upgrade then fixes an existing install
// at start all the same.
func Tighten(path, name string) error {
	if err := sqlitedb.Tighten(path); err != nil {
		return err
	}
	return private.TightenTree(intakeDir(path, name))
}

// close releases one handle; the last one stops the journal after moving
// everything it holds into SQLite.
func (j *intake) close() error {
	intakes.mu.Lock()
	defer intakes.mu.Unlock()
	j.refs--
	if j.refs > 0 {
		return nil
	}
	delete(intakes.open, j.key)
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	j.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := j.move(ctx, true)
	if err == nil {
		// Everything is in SQLite, fsynced: the journal is redundant.
		j.removeBelow(j.seg + 1)
	}
	return errors.Join(err, j.release())
}

func (j *intake) release() error {
	var errs []error
	if j.f != nil {
		errs = append(errs, j.f.Close())
	}
	errs = append(errs, j.db.Close(), j.lock.Close())
	return errors.Join(errs...)
}

// send appends e to the journal and returns once it is on disk.
func (j *intake) send(ctx context.Context, e entry) error {
	// The entry keeps its body in its record, not in the caller's slice,
	// which the caller may reuse once Send returns.
	e.rec = appendRecord(make([]byte, 0, recordLen(e)), e)
	e.body = e.rec[len(e.rec)-len(e.body):]
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
func (j *intake) flusher() {
	defer j.wg.Done()
	for {
		select {
		case <-j.kick:
			j.flushAll()
		case <-j.stop:
			// close set closed first: no send joins after this drain.
			j.flushAll()
			return
		}
	}
}

func (j *intake) flushAll() {
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
func (j *intake) observe(n int) bool {
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
func (j *intake) linger() {
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
func (j *intake) write(buf []byte, ends []int64) (pos, error) {
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
func (j *intake) grow(n int64) error {
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

// rotate starts segment seg+1 in the spare file if one is prepared, else in
// a new file grown on demand. Its directory entry is synced before any
// record in it is acknowledged.
func (j *intake) rotate() error {
	if j.f != nil {
		if err := j.f.Close(); err != nil {
			return err
		}
		j.f = nil
	}
	path := segmentPath(j.dir, j.seg+1)
	var prepared int64
	j.smu.Lock()
	if j.spare {
		j.spare = false
		if err := os.Rename(filepath.Join(j.dir, spareName), path); err == nil {
			if fi, err := os.Stat(path); err == nil {
				prepared = fi.Size()
			}
		}
	}
	j.smu.Unlock()
	flag := os.O_WRONLY | os.O_CREATE
	if prepared == 0 {
		flag |= os.O_EXCL | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, private.File)
	if err != nil {
		return err
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	j.f, j.seg, j.size, j.prepared = f, j.seg+1, 0, prepared
	return nil
}

const spareName, spareTemp = "spare", "spare.tmp"

func (j *intake) hasSpare() bool {
	j.smu.Lock()
	defer j.smu.Unlock()
	return j.spare
}

// wantSpare asks the preparer for a spare segment unless one is there or
// being made.
func (j *intake) wantSpare() {
	j.smu.Lock()
	want := !j.spare && !j.preparing
	j.smu.Unlock()
	if want {
		select {
		case j.prepare <- struct{}{}:
		default:
		}
	}
}

// preparer writes spare segments: segmentMax bytes of zeros, fdatasynced,
// then renamed into place. Records written over them later change no
// metadata, so their fdatasyncs stay short.
func (j *intake) preparer() {
	defer j.wg.Done()
	for {
		select {
		case <-j.prepare:
		case <-j.stop:
			return
		}
		j.smu.Lock()
		if j.spare || j.preparing {
			j.smu.Unlock()
			continue
		}
		j.preparing = true
		j.smu.Unlock()
		ok := j.makeSpare()
		j.smu.Lock()
		j.preparing, j.spare = false, j.spare || ok
		j.smu.Unlock()
	}
}

func (j *intake) makeSpare() bool {
	tmp := filepath.Join(j.dir, spareTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, private.File)
	if err != nil {
		return false
	}
	zeros := make([]byte, prepareChunk)
	for off := int64(0); off < segmentMax; off += prepareChunk {
		if _, err := f.WriteAt(zeros[:min(prepareChunk, segmentMax-off)], off); err != nil {
			f.Close()
			return false
		}
		if err := datasync(f); err != nil {
			f.Close()
			return false
		}
		select {
		case <-time.After(preparePause):
		case <-j.stop:
			f.Close()
			return false
		}
	}
	if f.Close() != nil || os.Rename(tmp, filepath.Join(j.dir, spareName)) != nil {
		return false
	}
	return syncDir(j.dir) == nil
}

// mover copies committed entries into SQLite a little after they are synced.
func (j *intake) mover() {
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
// still moves at once (flush). It reports false when the journal stops.
func (j *intake) yield() bool {
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

// flush moves what is committed now, so that a receive or a depth that
// follows an acknowledged send sees it.
func (j *intake) flush(ctx context.Context) error {
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
func (j *intake) move(ctx context.Context, durable bool) error {
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
func (j *intake) insert(ctx context.Context, es []entry, at pos, fsync bool) error {
	fn := func(tx *sqlitedb.Tx) error {
		args := make([]any, 0, 6*insertRows)
		for rest := es; len(rest) > 0; {
			n, query := 1, sqlIntakeInsert
			if len(rest) >= insertRows {
				n, query = insertRows, sqlIntakeInsertN
			}
			args = args[:0]
			for _, e := range rest[:n] {
				args = append(args, e.id, j.name, e.body, e.attrs, e.sentAt, e.sentAt)
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
			_, err := tx.ExecContext(ctx, sqlIntakePos, j.name, at.seg, at.off)
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

// removeBelow deletes the segments before seg; one of at least recycleMin
// bytes becomes the spare if there is none, which spares the preparer
// writing one (the first segment, grown on demand, is often smaller than
// segmentMax).
func (j *intake) removeBelow(seg int64) {
	segs, _ := listSegments(j.dir)
	for _, s := range segs {
		if s >= seg {
			continue
		}
		path := segmentPath(j.dir, s)
		j.smu.Lock()
		if !j.spare && !j.preparing {
			if fi, err := os.Stat(path); err == nil && fi.Size() >= min(recycleMin, segmentMax) &&
				os.Rename(path, filepath.Join(j.dir, spareName)) == nil {
				j.spare = true
				j.smu.Unlock()
				continue
			}
		}
		j.smu.Unlock()
		_ = os.Remove(path)
	}
	j.oldest = max(j.oldest, seg)
}

// replay moves what a previous owner synced but did not move, then deletes
// its segments; new records go to a new segment. A segment is appended by
// one writer, in order, and a send is acknowledged only once everything
// before it is synced, so nothing after the first torn or corrupt record of
// a segment was acknowledged.
func (j *intake) replay(ctx context.Context) error {
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
		var es []entry
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

func segmentPath(dir string, seg int64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x.log", seg))
}

func listSegments(dir string) ([]int64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".log")
		if !ok {
			continue
		}
		if s, err := strconv.ParseInt(name, 16, 64); err == nil && s > 0 {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// A record is its payload's length and checksum, 4 bytes each, little
// endian, then the payload: the id and the attributes, each preceded by its
// length as a uvarint, the send time (8 bytes), the body. The checksum is a
// CRC-32C of the segment's number and the payload, set by sealRecord once
// the segment is known.
func appendRecord(b []byte, e entry) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(e.id)))
	b = append(b, e.id...)
	b = binary.AppendUvarint(b, uint64(len(e.attrs)))
	b = append(b, e.attrs...)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.sentAt))
	b = append(b, e.body...)
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-8))
	return b
}

// recordLen is the length of e's record.
func recordLen(e entry) int {
	return 8 + uvarintLen(len(e.id)) + len(e.id) + uvarintLen(len(e.attrs)) + len(e.attrs) + 8 + len(e.body)
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// sealRecord sets the checksum of the record rec for segment seg.
func sealRecord(rec []byte, seg int64) {
	binary.LittleEndian.PutUint32(rec[4:], recordSum(rec[8:], seg))
}

func recordSum(payload []byte, seg int64) uint32 {
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seg))
	return crc32.Update(crc32.Update(crcSeed, crcTable, s[:]), crcTable, payload)
}

// readRecord decodes the record of segment seg at the start of b; ok is
// false at the end of the records (zeros, or the old records of a recycled
// file) or at a torn or corrupt record.
func readRecord(b []byte, seg int64) (e entry, n int, ok bool) {
	if len(b) < 8 {
		return e, 0, false
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size == 0 || size > recordMax || len(b)-8 < size {
		return e, 0, false
	}
	p := b[8 : 8+size]
	if recordSum(p, seg) != binary.LittleEndian.Uint32(b[4:]) {
		return e, 0, false
	}
	field := func() (string, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < l {
			return "", false
		}
		s := string(p[k : k+int(l)])
		p = p[k+int(l):]
		return s, true
	}
	var okID, okAttrs bool
	e.id, okID = field()
	e.attrs, okAttrs = field()
	if !okID || !okAttrs || len(p) < 8 {
		return entry{}, 0, false
	}
	e.sentAt = int64(binary.LittleEndian.Uint64(p))
	e.body = p[8:]
	return e, 8 + size, true
}
