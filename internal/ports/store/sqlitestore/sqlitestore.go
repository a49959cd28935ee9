// Package sqlitestore implements store.Store on an embedded SQLite file.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"supportpipe/internal/ports/sqlitedb"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

const schema = `
CREATE TABLE IF NOT EXISTS conversations (
	account_id INTEGER NOT NULL,
	conversation_id INTEGER NOT NULL,
	version INTEGER NOT NULL,
	state BLOB NOT NULL,
	waiting_since INTEGER, -- State.WaitingSince() in unix ns; NULL when nobody waits
	PRIMARY KEY (account_id, conversation_id)
);
CREATE INDEX IF NOT EXISTS conversations_waiting ON conversations(waiting_since) WHERE waiting_since IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
	key TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL,
	owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS attempts (
	message_id TEXT PRIMARY KEY,
	attempts INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_barrier (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
	day TEXT NOT NULL,
	name TEXT NOT NULL,
	value INTEGER NOT NULL,
	PRIMARY KEY (day, name)
);
CREATE TABLE IF NOT EXISTS actions (
	seq INTEGER PRIMARY KEY, -- claim order
	account_id INTEGER NOT NULL,
	conversation_id INTEGER NOT NULL,
	id TEXT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	owner TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL,
	result TEXT NOT NULL,
	at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (account_id, conversation_id, id)
);
CREATE TABLE IF NOT EXISTS day_records (
	day TEXT NOT NULL,
	kind TEXT NOT NULL,
	id TEXT NOT NULL,
	data TEXT NOT NULL,
	at INTEGER, -- unix ns; NULL for a zero time
	version INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, kind, id)
);
CREATE TABLE IF NOT EXISTS marks (
	name TEXT PRIMARY KEY,
	at INTEGER NOT NULL
);
`

// Statements run inside transactions, prepared at Open (sqlitedb.Prepare).
const (
	sqlInsertIdempotency = `INSERT INTO idempotency(key, expires_at, owner) VALUES(?,?,?)
			ON CONFLICT(key) DO UPDATE SET expires_at=excluded.expires_at, owner=excluded.owner WHERE idempotency.expires_at <= ?`
	sqlAddCounter = `INSERT INTO counters(day, name, value) VALUES(?,?,?)
			ON CONFLICT(day, name) DO UPDATE SET value=value+excluded.value`
)

// Store is the SQLite store. Commits go through db without waiting for an
// fsync; Sync makes everything committed so far durable with one.
type Store struct {
	db     *sqlitedb.DB
	now    func() time.Time
	pruned atomic.Int64 // when LogDeliveries last pruned the delivery log, unix ns
}

var _ store.Store = (*Store)(nil)

// Open opens the store at path.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, schema+deliveriesSchema)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Prepare(ctx, sqlInsertIdempotency, sqlAddCounter, sqlInsertDelivery); err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// migrate brings a database made by an earlier version to the schema.
func migrate(ctx context.Context, db *sqlitedb.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('idempotency') WHERE name='owner'`).Scan(&n); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, `ALTER TABLE idempotency ADD COLUMN owner TEXT NOT NULL DEFAULT ''`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('day_records') WHERE name='version'`).Scan(&n); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, `ALTER TABLE day_records ADD COLUMN version INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Sync makes every commit so far durable: a Durable commit fsyncs the WAL,
// which holds all earlier frames. The local processor loop calls it once per
// batch before deleting the batch from the queue, so processing results are
// on disk before the messages that produced them are gone.
func (s *Store) Sync(ctx context.Context) error {
	err := s.db.Durable(ctx, func(tx *sqlitedb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sync_barrier(id, n) VALUES(1, 1) ON CONFLICT(id) DO UPDATE SET n=n+1`)
		return err
	})
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// Ping reads one row.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM counters LIMIT 1)`).Scan(&n)
}

// Conversation implements store.Store.
func (s *Store) Conversation(ctx context.Context, k conversation.Key) (conversation.State, bool, error) {
	var blob []byte
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT version, state FROM conversations WHERE account_id=? AND conversation_id=?`,
		k.AccountID, k.ConversationID).Scan(&version, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return conversation.State{}, false, nil
	}
	if err != nil {
		return conversation.State{}, false, fmt.Errorf("read conversation: %w", err)
	}
	var st conversation.State
	if err := json.Unmarshal(blob, &st); err != nil {
		return conversation.State{}, false, fmt.Errorf("decode conversation: %w", err)
	}
	st.Version = version
	return st, true, nil
}

// UpdateConversation implements store.Store with a compare-and-swap on version
// (store.UpdateWithRetry), the protocol the DynamoDB driver runs with a
// condition expression.
func (s *Store) UpdateConversation(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool) (conversation.State, error) {
	return store.UpdateWithRetry(ctx, k, fn, store.Versioned{
		Read: func(ctx context.Context, _ bool) (conversation.State, bool, error) {
			return s.Conversation(ctx, k)
		},
		Write: s.writeConversation,
	})
}

// writeConversation implements store.Versioned's Write.
func (s *Store) writeConversation(ctx context.Context, next conversation.State, found bool) (bool, error) {
	blob, err := json.Marshal(next)
	if err != nil {
		return false, fmt.Errorf("encode conversation: %w", err)
	}
	var waiting any
	if w := next.WaitingSince(); !w.IsZero() {
		waiting = w.UnixNano()
	}
	k := next.Key
	var res sql.Result
	if found {
		res, err = s.db.ExecContext(ctx, `UPDATE conversations SET version=?, state=?, waiting_since=?
			WHERE account_id=? AND conversation_id=? AND version=?`,
			next.Version, blob, waiting, k.AccountID, k.ConversationID, next.Version-1)
	} else {
		res, err = s.db.ExecContext(ctx, `INSERT INTO conversations(account_id, conversation_id, version, state, waiting_since)
			VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING`, k.AccountID, k.ConversationID, next.Version, blob, waiting)
	}
	if err != nil {
		return false, fmt.Errorf("write conversation: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// WaitingForFirstResponse implements store.Store using the partial index.
func (s *Store) WaitingForFirstResponse(ctx context.Context, limit int) ([]conversation.State, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, state FROM conversations
		WHERE waiting_since IS NOT NULL ORDER BY waiting_since LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("query waiting: %w", err)
	}
	defer rows.Close()
	var out []conversation.State
	for rows.Next() {
		var blob []byte
		var st conversation.State
		if err := rows.Scan(&st.Version, &blob); err != nil {
			return nil, err
		}
		v := st.Version
		if err := json.Unmarshal(blob, &st); err != nil {
			return nil, fmt.Errorf("decode conversation: %w", err)
		}
		st.Version = v
		out = append(out, st)
	}
	return out, rows.Err()
}

// Seen implements store.Store.
func (s *Store) Seen(ctx context.Context, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := []any{s.now().UnixNano()}
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, owner FROM idempotency WHERE expires_at > ? AND key IN (?`+
		strings.Repeat(",?", len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("query idempotency: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, owner string
		if err := rows.Scan(&k, &owner); err != nil {
			return nil, err
		}
		out[k] = owner
	}
	return out, rows.Err()
}

// Complete implements store.Store in one transaction, each completion
// behind a savepoint so that a duplicate rolls back only its own writes.
func (s *Store) Complete(ctx context.Context, cs ...store.Completion) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now().UnixNano()
	var skipped []int
	for i, c := range cs {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT completion`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		dup, err := complete(ctx, tx, c, now)
		if err != nil {
			return err
		}
		if dup {
			skipped = append(skipped, i)
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO completion`); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE completion`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
	}
	if err := s.prune(ctx, tx, s.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if skipped != nil {
		return &store.SkippedError{Index: skipped}
	}
	return nil
}

func complete(ctx context.Context, tx *sqlitedb.Tx, c store.Completion, now int64) (dup bool, err error) {
	// Keys are a set: a repeated key must not make the completion its own duplicate.
	for _, k := range slices.Compact(slices.Sorted(slices.Values(c.Keys))) {
		// An expired record is as good as absent, like a DynamoDB item past its TTL.
		res, err := tx.ExecContext(ctx, sqlInsertIdempotency, k, c.ExpiresAt.UnixNano(), c.Owner, now)
		if err != nil {
			return false, fmt.Errorf("write idempotency: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return true, nil
		}
	}
	for _, day := range slices.Sorted(maps.Keys(c.Counts)) {
		if err := addCounters(ctx, tx, day, c.Counts[day]); err != nil {
			return false, err
		}
	}
	if c.Delivery != nil {
		if err := insertDelivery(ctx, tx, *c.Delivery); err != nil {
			return false, err
		}
	}
	return false, nil
}

// RecordFailure implements store.Store.
func (s *Store) RecordFailure(ctx context.Context, messageID, reason string, expiresAt time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `INSERT INTO attempts(message_id, attempts, last_error, expires_at) VALUES(?,1,?,?)
		ON CONFLICT(message_id) DO UPDATE SET attempts=attempts+1, last_error=excluded.last_error, expires_at=excluded.expires_at
		RETURNING attempts`, messageID, reason, expiresAt.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record failure: %w", err)
	}
	return n, nil
}

// AddCounters implements store.Store.
func (s *Store) AddCounters(ctx context.Context, day string, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := addCounters(ctx, tx, day, deltas); err != nil {
		return err
	}
	return tx.Commit()
}

func addCounters(ctx context.Context, tx *sqlitedb.Tx, day string, deltas map[string]int64) error {
	for name, d := range deltas {
		if d == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, sqlAddCounter, day, name, d); err != nil {
			return fmt.Errorf("add counter: %w", err)
		}
	}
	return nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, day string) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM counters WHERE day=?`, day)
	if err != nil {
		return nil, fmt.Errorf("query counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, rows.Err()
}

// SetClock replaces the clock used for idempotency expiry (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// ClaimAction implements store.Store. The store sets Status to pending,
// clears Result, and fills At with its clock when a.At is zero. A record
// it may take over (store.MayTakeOver) is updated only if it is still the
// one read, so of racing claims one wins and the others read its claim.
func (s *Store) ClaimAction(ctx context.Context, a store.Action) (bool, store.Action, error) {
	now := s.now()
	if a.At.IsZero() {
		a.At = now
	}
	for range store.ClaimTries {
		res, err := s.db.ExecContext(ctx, `INSERT INTO actions(account_id, conversation_id, id, kind, status, owner, detail, result, at, updated_at)
		VALUES(?,?,?,?,?,?,?,'',?,?) ON CONFLICT DO NOTHING`,
			a.Key.AccountID, a.Key.ConversationID, a.ID, a.Kind, store.ActionPending, a.Owner, a.Detail, a.At.UnixNano(), now.UnixNano())
		if err != nil {
			return false, store.Action{}, fmt.Errorf("claim action: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return true, store.Action{}, nil
		}
		// Actions are never deleted, so the conflicting row is still there.
		existing, found, err := s.Action(ctx, a.Key, a.ID)
		if err != nil {
			return false, store.Action{}, err
		}
		if !found {
			return false, store.Action{}, fmt.Errorf("read action: claimed action %q not found", a.ID)
		}
		if !store.MayTakeOver(existing, a) {
			return false, existing, nil
		}
		res, err = s.db.ExecContext(ctx, `UPDATE actions SET status=?, owner=?, result='', at=?, updated_at=?
			WHERE account_id=? AND conversation_id=? AND id=? AND status=? AND owner=? AND at=? AND updated_at=?`,
			store.ActionPending, a.Owner, a.At.UnixNano(), now.UnixNano(), a.Key.AccountID, a.Key.ConversationID, a.ID,
			existing.Status, existing.Owner, existing.At.UnixNano(), existing.Updated.UnixNano())
		if err != nil {
			return false, store.Action{}, fmt.Errorf("take over action: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return true, existing, nil
		}
		// Another claim or finish came between the read and the write:
		// read again and decide on what it left.
	}
	return false, store.Action{}, fmt.Errorf("claim action %q: %w", a.ID, store.ErrConflict)
}

// FinishAction implements store.Store. Finishing an action that was never
// claimed is an error: it would be a side effect nobody guarded.
func (s *Store) FinishAction(ctx context.Context, k conversation.Key, id, status, result string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE actions SET status=?, result=?, updated_at=?
		WHERE account_id=? AND conversation_id=? AND id=?`,
		status, result, s.now().UnixNano(), k.AccountID, k.ConversationID, id)
	if err != nil {
		return fmt.Errorf("finish action: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish action %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// Action implements store.Store.
func (s *Store) Action(ctx context.Context, k conversation.Key, id string) (store.Action, bool, error) {
	rows, err := s.db.QueryContext(ctx, actionQuery+` AND id=?`, k.AccountID, k.ConversationID, id)
	if err != nil {
		return store.Action{}, false, fmt.Errorf("read action: %w", err)
	}
	found, err := scanActions(k, rows)
	if err != nil || len(found) == 0 {
		return store.Action{}, false, err
	}
	return found[0], true, nil
}

// RecordAction implements store.Store; a replaced action keeps its place.
func (s *Store) RecordAction(ctx context.Context, a store.Action) error {
	now := s.now()
	if a.At.IsZero() {
		a.At = now
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO actions(account_id, conversation_id, id, kind, status, owner, detail, result, at, updated_at)
		VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(account_id, conversation_id, id) DO UPDATE SET kind=excluded.kind,
		status=excluded.status, owner=excluded.owner, detail=excluded.detail, result=excluded.result, at=excluded.at,
		updated_at=excluded.updated_at`,
		a.Key.AccountID, a.Key.ConversationID, a.ID, a.Kind, a.Status, a.Owner, a.Detail, a.Result, a.At.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("record action: %w", err)
	}
	return nil
}

const actionQuery = `SELECT id, kind, status, owner, detail, result, at, updated_at FROM actions
	WHERE account_id=? AND conversation_id=?`

// Actions implements store.Store.
func (s *Store) Actions(ctx context.Context, k conversation.Key) ([]store.Action, error) {
	rows, err := s.db.QueryContext(ctx, actionQuery+` ORDER BY seq`, k.AccountID, k.ConversationID)
	if err != nil {
		return nil, fmt.Errorf("query actions: %w", err)
	}
	return scanActions(k, rows)
}

func scanActions(k conversation.Key, rows *sql.Rows) ([]store.Action, error) {
	defer rows.Close()
	var out []store.Action
	for rows.Next() {
		a := store.Action{Key: k}
		var at, updated int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.Status, &a.Owner, &a.Detail, &a.Result, &at, &updated); err != nil {
			return nil, fmt.Errorf("scan action: %w", err)
		}
		a.At, a.Updated = time.Unix(0, at).UTC(), time.Unix(0, updated).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddDayRecord implements store.Store.
func (s *Store) AddDayRecord(ctx context.Context, r store.DayRecord) error {
	var at any
	if !r.At.IsZero() {
		at = r.At.UnixNano()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO day_records(day, kind, id, data, at, version) VALUES(?,?,?,?,?,?)
		ON CONFLICT(day, kind, id) DO UPDATE SET data=excluded.data, at=excluded.at, version=excluded.version
		WHERE excluded.version >= day_records.version`, r.Day, r.Kind, r.ID, r.Data, at, r.Version)
	if err != nil {
		return fmt.Errorf("add day record: %w", err)
	}
	return nil
}

// DayRecords implements store.Store. Ids compare as bytes, as DynamoDB sort keys do.
func (s *Store) DayRecords(ctx context.Context, day, kind string, limit int) ([]store.DayRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, data, at, version FROM day_records WHERE day=? AND kind=?
		ORDER BY id LIMIT ?`, day, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("query day records: %w", err)
	}
	defer rows.Close()
	var out []store.DayRecord
	for rows.Next() {
		r := store.DayRecord{Day: day, Kind: kind}
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Data, &at, &r.Version); err != nil {
			return nil, fmt.Errorf("scan day record: %w", err)
		}
		if at.Valid {
			r.At = time.Unix(0, at.Int64).UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetMark implements store.Store. A zero t is never later than what is
// stored (zero when nothing is), so it writes nothing.
func (s *Store) SetMark(ctx context.Context, name string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO marks(name, at) VALUES(?,?)
		ON CONFLICT(name) DO UPDATE SET at=excluded.at WHERE excluded.at > marks.at`, name, t.UnixNano())
	if err != nil {
		return fmt.Errorf("set mark: %w", err)
	}
	return nil
}

// Mark implements store.Store.
func (s *Store) Mark(ctx context.Context, name string) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT at FROM marks WHERE name=?`, name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read mark: %w", err)
	}
	return time.Unix(0, at).UTC(), nil
}
