package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// DB is a *sql.DB whose Exec/Query calls reuse prepared statements. SQLite
// spends more time parsing a short statement than running it, and the
// pipeline runs the same dozen statements for every message.
type DB struct {
	*sql.DB
	path  string
	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	wmu     sync.Mutex   // guards pending and leading
	pending []*write     // writes waiting for the next group
	leading bool         // a goroutine is committing groups
	groups  atomic.Int64 // groups of several writes committed together
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

// ExecContext runs a write outside any transaction, committed when it
// returns, as an autocommit statement would be. Writes that arrive while
// another is being committed wait and then commit together, in one
// transaction (group commit): in WAL mode every commit appends each page it
// changed to the log, so concurrent small writes to the same tables (a
// batch's records, each claiming actions and filing records) write their
// shared pages once instead of once each. What a grouped write returns is
// what it would have returned on its own: a group in which any statement
// fails is rolled back and its writes are run again one by one.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	w := &write{ctx: ctx, query: query, args: args, turn: make(chan bool, 1)}
	d.wmu.Lock()
	d.pending = append(d.pending, w)
	lead := !d.leading
	d.leading = true
	d.wmu.Unlock()
	// A write waits for its group even when its context ends meanwhile:
	// returning early would report as failed a write that may commit.
	if lead || <-w.turn {
		d.commitGroups(w)
	}
	return w.res, w.err
}

// write is one ExecContext call. turn receives false when the write is
// done, true when its goroutine is to commit the next group.
type write struct {
	ctx   context.Context
	query string
	args  []any
	res   sql.Result
	err   error
	turn  chan bool
}

// commitGroups commits the pending writes, mine among them, as one group,
// then hands the lead to the first write of the next group, so that no
// caller commits other callers' writes for longer than one group.
func (d *DB) commitGroups(mine *write) {
	d.wmu.Lock()
	group := d.pending
	d.pending = nil
	d.wmu.Unlock()
	d.commit(group)
	d.wmu.Lock()
	next := (*write)(nil)
	if len(d.pending) > 0 {
		next = d.pending[0]
	} else {
		d.leading = false
	}
	d.wmu.Unlock()
	for _, w := range group {
		if w != mine {
			w.turn <- false
		}
	}
	if next != nil {
		next.turn <- true
	}
}

// commit runs group in one transaction, or each write on its own when the
// group is a single write or the transaction fails.
func (d *DB) commit(group []*write) {
	if len(group) > 1 && d.commitTx(group) == nil {
		return
	}
	for _, w := range group {
		w.res, w.err = d.exec(w.ctx, w.query, w.args...)
	}
}

func (d *DB) commitTx(group []*write) error {
	// Statements are prepared through the pool, which the transaction is
	// about to hold: before it begins.
	for _, w := range group {
		if _, err := d.stmt(w.ctx, w.query); err != nil {
			return err
		}
	}
	// The group's statements run on behalf of callers whose contexts may
	// end; a cancelled one fails the group, and its write then runs alone.
	tx, err := d.BeginTx(context.WithoutCancel(group[0].ctx), nil)
	if err != nil {
		return err
	}
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			_ = tx.Rollback()
			return err
		}
		if w.res, err = tx.ExecContext(w.ctx, w.query, w.args...); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	d.groups.Add(1)
	return nil
}

// exec runs one cached prepared statement.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
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
