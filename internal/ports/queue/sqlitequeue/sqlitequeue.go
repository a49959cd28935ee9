// Package sqlitequeue implements queue.Queue on an embedded SQLite file with
// SQS semantics: visibility timeouts, receive counts, receipt handles, a
// redrive backstop and a dead-letter queue. Sends are made durable in an
// append-only journal beside the file and copied into it shortly after
// (package journal).
package sqlitequeue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue/journal"
	"supportpipe/internal/ports/sqlitedb"
)

const schema = `
CREATE TABLE IF NOT EXISTS messages (
	id TEXT PRIMARY KEY,
	queue TEXT NOT NULL,
	body BLOB NOT NULL,
	attrs TEXT NOT NULL,
	sent_at INTEGER NOT NULL,
	visible_at INTEGER NOT NULL,
	receive_count INTEGER NOT NULL DEFAULT 0,
	receipt TEXT,
	reason TEXT,
	attempts INTEGER,
	dead_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_at, sent_at);
-- Deletes, visibility changes and DLQ moves find a message by its receipt;
-- without this index each one scans the table, which under a backlog holds
-- the file's only connection long enough to stall webhook acknowledgements.
CREATE INDEX IF NOT EXISTS messages_receipt ON messages(receipt) WHERE receipt IS NOT NULL;
` + journal.Schema

// Statements run inside transactions, prepared at Open (sqlitedb.Prepare).
const (
	sqlInsert   = `INSERT INTO messages(id, queue, body, attrs, sent_at, visible_at) VALUES(?,?,?,?,?,?)`
	sqlBackstop = `UPDATE messages SET queue=?, reason='max receives exceeded', attempts=receive_count, dead_at=?, visible_at=?, receipt=NULL
		WHERE id IN (SELECT id FROM messages WHERE queue=? AND visible_at<=? ORDER BY visible_at, sent_at LIMIT ?) AND receive_count>=?`
	sqlReceive = `UPDATE messages SET visible_at=?, receive_count=receive_count+1,
			receipt=id || '.' || lower(hex(randomblob(8)))
		WHERE id IN (SELECT id FROM messages WHERE queue=? AND visible_at<=? ORDER BY visible_at, sent_at LIMIT ?)
		RETURNING id, body, attrs, receive_count, sent_at, receipt`
	sqlDeleteReceipt = `DELETE FROM messages WHERE receipt=? AND queue=?`
)

// DefaultMaxReceives is the crash backstop: a message received this many times
// without being deleted or dead-lettered by the processor goes to the DLQ,
// like an SQS redrive policy's maxReceiveCount.
const DefaultMaxReceives = 10

// Queue is one named queue and its DLQ ("<name>-dlq") in a SQLite file.
type Queue struct {
	// db is shared by the queues of one file. Direct sends commit with an
	// fsync (sqlitedb.Durable); receives, deletes and moves do not.
	db *sqlitedb.DB
	// in is the intake journal sends go through; nil when another process
	// owns it, and sends then commit to db directly.
	in          *journal.Journal
	name, dlq   string
	maxReceives int
	now         func() time.Time

	sends    chan sendReq
	stop     chan struct{}
	wg       sync.WaitGroup
	closeOne sync.Once
}

type sendReq struct {
	id    string
	body  []byte
	attrs string
	done  chan error
}

var _ queue.Queue = (*Queue)(nil)

// Options tune a queue.
type Options struct {
	MaxReceives int
	Now         func() time.Time
}

// checkpointPages is the WAL size (pages) at which a commit copies it into
// the database file, fsyncing both (SQLite's default is 1000). Every
// receive and delete rewrites a few pages; 1000 of them make a burst of
// 4 MB that the intake journal's fdatasync, in the same file system, then
// waits behind. Small checkpoints keep each such wait short.
const checkpointPages = 100

var checkpointPragma = fmt.Sprintf("wal_autocheckpoint(%d)", checkpointPages)

// Open opens the queue name in the SQLite file at path.
func Open(ctx context.Context, path, name string, o Options) (*Queue, error) {
	db, err := sqlitedb.Open(ctx, path, schema, checkpointPragma)
	if err != nil {
		return nil, err
	}
	if err := db.Prepare(ctx, sqlBackstop, sqlReceive, sqlDeleteReceipt, sqlInsert); err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = DefaultMaxReceives
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	q := &Queue{db: db, name: name, dlq: name + "-dlq", maxReceives: o.MaxReceives, now: o.Now,
		sends: make(chan sendReq, 1024), stop: make(chan struct{})}
	q.in, err = journal.Open(ctx, path, name, schema, checkpointPragma)
	if errors.Is(err, journal.ErrLocked) {
		q.in, err = nil, nil
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	q.wg.Add(1)
	go q.writer()
	return q, nil
}

// Close stops the writer, moves what the intake journal holds into the
// database and closes it.
func (q *Queue) Close() error {
	var err error
	q.closeOne.Do(func() {
		close(q.stop)
		q.wg.Wait()
		if q.in != nil {
			err = q.in.Close()
		}
		err = errors.Join(err, q.db.Close())
	})
	return err
}

// catchUp makes every acknowledged send visible to the database.
func (q *Queue) catchUp(ctx context.Context) error {
	if q.in == nil {
		return nil
	}
	return q.in.Flush(ctx)
}

// Tighten takes the group's and others' permissions off what queue name in
// the database file at path keeps on disk, as Open does, for a queue that is
// opened only when first used: an upgrade then fixes an existing install
// at start all the same.
func Tighten(path, name string) error {
	if err := sqlitedb.Tighten(path); err != nil {
		return err
	}
	return journal.Tighten(path, name)
}

// encodeAttrs is json.Marshal(attrs), byte for byte, without reflection
// when no key or value needs escaping (the webhook's attributes never do).
func encodeAttrs(attrs map[string]string) ([]byte, error) {
	if attrs == nil {
		return []byte("null"), nil
	}
	keys := make([]string, 0, len(attrs))
	n := 2
	for k, v := range attrs {
		if !jsonstr.Plain(k) || !jsonstr.Plain(v) {
			return json.Marshal(attrs)
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, attrs[k]...)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// newID returns a UUIDv7: time-ordered, so new rows append to the primary
// key's B-tree instead of landing at random pages of it.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Send implements queue.Queue. It returns once the message is on disk: in
// the intake journal (group commit: one fdatasync for all concurrent sends),
// or, when another process owns the journal, in the database, where
// concurrent sends are committed together in one fsynced transaction.
func (q *Queue) Send(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	if err := queue.Fits(body, attrs); err != nil {
		return "", err
	}
	a, err := encodeAttrs(attrs)
	if err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	if q.in != nil {
		id := newID()
		if err := q.in.Send(ctx, journal.Entry{ID: id, SentAt: q.now().UnixNano(), Attrs: string(a), Body: body}); err != nil {
			return "", err
		}
		return id, nil
	}
	r := sendReq{id: newID(), body: body, attrs: string(a), done: make(chan error, 1)}
	select {
	case q.sends <- r:
	case <-q.stop:
		return "", errors.New("queue closed")
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case err := <-r.done:
		if err != nil {
			return "", err
		}
		return r.id, nil
	case <-ctx.Done():
		// The batch may still commit; the caller treats it as not durable and
		// the duplicate, if any, is absorbed by the processor's dedup.
		return "", ctx.Err()
	}
}

func (q *Queue) writer() {
	defer q.wg.Done()
	batch := make([]sendReq, 0, 256)
	for {
		select {
		case r := <-q.sends:
			batch = append(batch[:0], r)
		drain:
			for len(batch) < cap(batch) {
				select {
				case r := <-q.sends:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			err := q.insert(batch)
			for _, r := range batch {
				r.done <- err
			}
		case <-q.stop:
			for {
				select {
				case r := <-q.sends:
					r.done <- q.insert([]sendReq{r})
				default:
					return
				}
			}
		}
	}
}

func (q *Queue) insert(batch []sendReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := q.now().UnixNano()
	err := q.db.Durable(ctx, func(tx *sqlitedb.Tx) error {
		for _, r := range batch {
			if _, err := tx.ExecContext(ctx, sqlInsert, r.id, q.name, r.body, r.attrs, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error) {
	if max <= 0 {
		max = 10
	}
	if err := q.catchUp(ctx); err != nil {
		return nil, err
	}
	now := q.now()
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin receive: %w", err)
	}
	defer tx.Rollback()
	// Backstop for messages whose consumer died every time it held them;
	// only the candidates of this receive are checked, so it never scans.
	if _, err := tx.ExecContext(ctx, sqlBackstop,
		q.dlq, now.UnixNano(), now.UnixNano(), q.name, now.UnixNano(), max, q.maxReceives); err != nil {
		return nil, fmt.Errorf("redrive backstop: %w", err)
	}
	rows, err := tx.QueryContext(ctx, sqlReceive,
		now.Add(visibility).UnixNano(), q.name, now.UnixNano(), max)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	var out []queue.Message
	for rows.Next() {
		var m queue.Message
		var attrs string
		var sent int64
		if err := rows.Scan(&m.ID, &m.Body, &attrs, &m.ReceiveCount, &sent, &m.ReceiptHandle); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(attrs), &m.Attributes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode attributes: %w", err)
		}
		m.SentAt = time.Unix(0, sent).UTC()
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit receive: %w", err)
	}
	return out, nil
}

// Delete implements queue.Queue. A stale receipt (the message was received
// again since) deletes nothing, so a slow consumer cannot delete a message
// another consumer is working on.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	_, err := q.db.ExecContext(ctx, sqlDeleteReceipt, receipt, q.name)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// ReleaseInFlight makes every received, undeleted message visible again. The
// local server calls it at start: it is the queue's only consumer, so a
// message in flight then belongs to a process that died, and waiting out its
// visibility timeout would only delay it.
func (q *Queue) ReleaseInFlight(ctx context.Context) (int64, error) {
	now := q.now().UnixNano()
	res, err := q.db.ExecContext(ctx, `UPDATE messages SET visible_at=?, receipt=NULL
		WHERE queue=? AND visible_at>? AND receive_count>0`, now, q.name, now)
	if err != nil {
		return 0, fmt.Errorf("release in-flight: %w", err)
	}
	return res.RowsAffected()
}

// DeleteBatch deletes received messages in one transaction, as the Lambda
// event source mapping deletes a batch's successes together.
func (q *Queue) DeleteBatch(ctx context.Context, receipts []string) error {
	if len(receipts) == 0 {
		return nil
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin delete: %w", err)
	}
	defer tx.Rollback()
	for _, r := range receipts {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE receipt=? AND queue=?`, r, q.name); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	return tx.Commit()
}

// ChangeVisibility implements queue.Queue.
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	res, err := q.db.ExecContext(ctx, `UPDATE messages SET visible_at=? WHERE receipt=? AND queue=?`,
		q.now().Add(d).UnixNano(), receipt, q.name)
	if err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("change visibility: %w", queue.ErrNotFound)
	}
	return nil
}

// DeadLetter implements queue.Queue.
func (q *Queue) DeadLetter(ctx context.Context, m queue.Message, reason string, attempts int) error {
	now := q.now().UnixNano()
	res, err := q.db.ExecContext(ctx, `UPDATE messages SET queue=?, reason=?, attempts=?, dead_at=?, visible_at=?, receipt=NULL
		WHERE receipt=? AND queue=?`, q.dlq, reason, attempts, now, now, m.ReceiptHandle, q.name)
	if err != nil {
		return fmt.Errorf("dead-letter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("dead-letter: %w", queue.ErrNotFound)
	}
	return nil
}

// SendDeadLetter implements queue.Queue. It commits to the database
// directly: the intake journal feeds the main queue only.
func (q *Queue) SendDeadLetter(ctx context.Context, body []byte, attrs map[string]string, reason string) (string, error) {
	if err := queue.Fits(body, attrs); err != nil {
		return "", err
	}
	a, err := encodeAttrs(attrs)
	if err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	id, now := newID(), q.now().UnixNano()
	err = q.db.Durable(ctx, func(tx *sqlitedb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO messages(id, queue, body, attrs, sent_at, visible_at, reason, attempts, dead_at)
			VALUES(?,?,?,?,?,?,?,0,?)`, id, q.dlq, body, string(a), now, now, reason, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("send dead letter: %w", err)
	}
	return id, nil
}

// Depth implements queue.Queue.
func (q *Queue) Depth(ctx context.Context) (queue.Depth, error) {
	if err := q.catchUp(ctx); err != nil {
		return queue.Depth{}, err
	}
	return q.depth(ctx, q.name)
}

// DLQDepth implements queue.Queue.
func (q *Queue) DLQDepth(ctx context.Context) (queue.Depth, error) { return q.depth(ctx, q.dlq) }

func (q *Queue) depth(ctx context.Context, name string) (queue.Depth, error) {
	now := q.now().UnixNano()
	var d queue.Depth
	var oldest sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT
			coalesce(sum(visible_at<=?),0), coalesce(sum(visible_at>? AND receive_count>0),0),
			coalesce(sum(visible_at>? AND receive_count=0),0), min(sent_at)
		FROM messages WHERE queue=?`, now, now, now, name).Scan(&d.Visible, &d.InFlight, &d.Delayed, &oldest)
	if err != nil {
		return d, fmt.Errorf("depth: %w", err)
	}
	if oldest.Valid {
		d.OldestAge = time.Duration(now - oldest.Int64)
	}
	return d, nil
}

// ListDeadLetters implements queue.Queue.
func (q *Queue) ListDeadLetters(ctx context.Context, max int) ([]queue.DeadLetter, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, body, attrs, coalesce(reason,''), coalesce(attempts,0), coalesce(dead_at,0)
		FROM messages WHERE queue=? ORDER BY dead_at, id LIMIT ?`, q.dlq, max)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	var out []queue.DeadLetter
	for rows.Next() {
		var d queue.DeadLetter
		var attrs string
		var at int64
		if err := rows.Scan(&d.ID, &d.Body, &attrs, &d.Reason, &d.Attempts, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(attrs), &d.Attributes); err != nil {
			return nil, fmt.Errorf("decode attributes: %w", err)
		}
		d.At = time.Unix(0, at).UTC()
		if d.Attributes == nil {
			d.Attributes = map[string]string{}
		}
		d.Attributes[queue.AttrDLQReason] = d.Reason
		d.Attributes[queue.AttrDLQAttempts] = strconv.Itoa(d.Attempts)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Redrive implements queue.Queue. A redriven message gets a new id, so the
// processor grants it a fresh set of attempts.
func (q *Queue) Redrive(ctx context.Context, id string) (int, error) {
	now := q.now().UnixNano()
	where, args := `queue=?`, []any{q.dlq}
	if id != "" {
		where, args = `queue=? AND id=?`, []any{q.dlq, id}
	}
	rows, err := q.db.QueryContext(ctx, `SELECT id FROM messages WHERE `+where, args...)
	if err != nil {
		return 0, fmt.Errorf("redrive: %w", err)
	}
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, s)
	}
	rows.Close()
	if id != "" && len(ids) == 0 {
		return 0, queue.ErrNotFound
	}
	moved := 0
	for _, old := range ids {
		res, err := q.db.ExecContext(ctx, `UPDATE messages SET id=?, queue=?, visible_at=?, sent_at=?, receive_count=0, receipt=NULL,
			reason=NULL, attempts=NULL, dead_at=NULL, attrs=json_set(attrs, '$.`+queue.AttrRedriven+`', 'true')
			WHERE id=? AND queue=?`, newID(), q.name, now, now, old, q.dlq)
		if err != nil {
			return moved, fmt.Errorf("redrive %s: %w", old, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			moved++
		}
	}
	return moved, nil
}
