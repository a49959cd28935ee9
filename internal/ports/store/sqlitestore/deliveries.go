package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"supportpipe/internal/ports/sqlitedb"
	"supportpipe/internal/ports/store"
)

// deliveriesSchema is the delivery log: one row per entry, in write order
// (seq). Its indexes answer every query of Deliveries by range: the time
// order, a conversation's, an outcome's, one delivery id's.
const deliveriesSchema = `
CREATE TABLE IF NOT EXISTS deliveries (
	seq INTEGER PRIMARY KEY,
	at INTEGER NOT NULL, -- unix ns
	delivery_id TEXT NOT NULL,
	message_id TEXT NOT NULL,
	event TEXT NOT NULL,
	account_id INTEGER NOT NULL,
	conversation_id INTEGER NOT NULL,
	received_at INTEGER, -- unix ns; NULL for a zero time
	outcome TEXT NOT NULL,
	reason TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	processing_ns INTEGER NOT NULL,
	redriven INTEGER NOT NULL,
	backfilled INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_at ON deliveries(at, seq);
CREATE INDEX IF NOT EXISTS deliveries_conversation ON deliveries(account_id, conversation_id, at, seq);
CREATE INDEX IF NOT EXISTS deliveries_outcome ON deliveries(outcome, at, seq);
CREATE INDEX IF NOT EXISTS deliveries_delivery ON deliveries(delivery_id, at, seq);
`

const sqlInsertDelivery = `INSERT INTO deliveries(at, delivery_id, message_id, event, account_id, conversation_id,
	received_at, outcome, reason, attempt, processing_ns, redriven, backfilled) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)`

// insertDelivery writes d in tx: Complete's transaction, so an entry of a
// completion exists exactly when the completion does.
func insertDelivery(ctx context.Context, tx *sqlitedb.Tx, d store.Delivery) error {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	var received any
	if !d.ReceivedAt.IsZero() {
		received = d.ReceivedAt.UnixNano()
	}
	_, err := tx.ExecContext(ctx, sqlInsertDelivery, d.At.UnixNano(), d.ID, d.MessageID, d.Event, d.AccountID, d.ConversationID,
		received, d.Outcome, d.Reason, d.Attempt, int64(d.Processing), d.Redriven, d.Backfilled)
	if err != nil {
		return fmt.Errorf("log delivery: %w", err)
	}
	return nil
}

// pruneEvery is how often LogDeliveries deletes the entries past the
// retention, which DynamoDB's TTL does on AWS.
const pruneEvery = time.Minute

// prune deletes, in tx, the entries past the retention, at most once every
// pruneEvery: writers of entries call it, so the table stays 14 days long.
func (s *Store) prune(ctx context.Context, tx *sqlitedb.Tx, now time.Time) error {
	last := s.pruned.Load()
	if now.UnixNano()-last < int64(pruneEvery) || !s.pruned.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE at < ?`, now.Add(-store.DeliveryRetention).UnixNano()); err != nil {
		return fmt.Errorf("prune delivery log: %w", err)
	}
	return nil
}

// LogDeliveries implements store.DeliveryLog in one transaction.
func (s *Store) LogDeliveries(ctx context.Context, ds ...store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	for _, d := range store.Stamped(ds, now) {
		if err := insertDelivery(ctx, tx, d); err != nil {
			return err
		}
	}
	if err := s.prune(ctx, tx, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Deliveries implements store.DeliveryLog with one indexed range query:
// newest first, then in the reverse of write order. The cursor is the last
// entry's (at, seq).
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) (store.DeliveryPage, error) {
	q = q.Window(s.now())
	where := []string{"at >= ?"}
	args := []any{q.Since.UnixNano()}
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		var at, seq int64
		if _, serr := fmt.Sscanf(string(b), "sqlite:%d:%d", &at, &seq); err != nil || serr != nil {
			return store.DeliveryPage{}, store.ErrBadCursor
		}
		where = append(where, "(at < ? OR at = ? AND seq < ?)")
		args = append(args, at, at, seq)
	}
	if k := q.Conversation; k != nil {
		where = append(where, "account_id = ? AND conversation_id = ?")
		args = append(args, k.AccountID, k.ConversationID)
	}
	if q.Delivery != "" {
		where = append(where, "delivery_id = ?")
		args = append(args, q.Delivery)
	}
	switch q.Outcome {
	case "":
	case store.DeliveryRedriven:
		where = append(where, "redriven = 1")
	default:
		where = append(where, "outcome = ?")
		args = append(args, q.Outcome)
	}
	limit := q.PageSize()
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, delivery_id, message_id, event, account_id, conversation_id,
		received_at, outcome, reason, attempt, processing_ns, redriven, backfilled FROM deliveries
		WHERE `+strings.Join(where, " AND ")+` ORDER BY at DESC, seq DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return store.DeliveryPage{}, fmt.Errorf("query delivery log: %w", err)
	}
	defer rows.Close()
	var page store.DeliveryPage
	var lastAt, lastSeq int64
	for rows.Next() {
		if len(page.Deliveries) == limit {
			page.Next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "sqlite:%d:%d", lastAt, lastSeq))
			break
		}
		var d store.Delivery
		var received sql.NullInt64
		var processing int64
		if err := rows.Scan(&lastSeq, &lastAt, &d.ID, &d.MessageID, &d.Event, &d.AccountID, &d.ConversationID,
			&received, &d.Outcome, &d.Reason, &d.Attempt, &processing, &d.Redriven, &d.Backfilled); err != nil {
			return store.DeliveryPage{}, fmt.Errorf("scan delivery: %w", err)
		}
		d.At, d.Processing = time.Unix(0, lastAt).UTC(), time.Duration(processing)
		if received.Valid {
			d.ReceivedAt = time.Unix(0, received.Int64).UTC()
		}
		page.Deliveries = append(page.Deliveries, d)
	}
	return page, rows.Err()
}
