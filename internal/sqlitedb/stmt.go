package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
)

// DB is a *sql.DB whose Exec/Query calls reuse prepared statements. SQLite
// spends more time parsing a short statement than running it, and the
// pipeline runs the same dozen statements for every message.
type DB struct {
	*sql.DB
	path  string
	refs  int // guarded by registry.mu
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (d *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := d.cached(query); s != nil {
		return s, nil
	}
	// Prepare without holding mu: preparing waits for the connection, and
	// the transaction holding it may need mu (cached) to finish.
	s, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev, ok := d.stmts[query]; ok {
		s.Close()
		return prev, nil
	}
	if d.stmts == nil {
		d.stmts = map[string]*sql.Stmt{}
	}
	d.stmts[query] = s
	return s, nil
}

// cached returns the statement if it is prepared already.
func (d *DB) cached(query string) *sql.Stmt {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stmts[query]
}

// Prepare fills the cache with the statements that run inside transactions.
// Call it at open: a transaction holds the only connection, so preparing
// through the pool from inside one would wait for itself.
func (d *DB) Prepare(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		if _, err := d.stmt(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// ExecContext runs a cached prepared statement.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs a cached prepared statement.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a cached prepared statement.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := d.stmt(ctx, query)
	if err != nil {
		// Let the driver report the same error through the Row.
		return d.DB.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// BeginTx starts a transaction whose statements also come from the cache.
func (d *DB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	tx, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: d}, nil
}

// Tx is a transaction on a DB.
type Tx struct {
	*sql.Tx
	db *DB
}

// ExecContext runs the statement in the transaction, from the cache when
// DB.Prepare put it there; otherwise it is parsed on the transaction's own
// connection (never through the pool: see Prepare).
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.db.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext is ExecContext for queries.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.db.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is ExecContext for single-row queries.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.db.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
