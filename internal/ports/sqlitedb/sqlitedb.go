// Package sqlitedb opens the embedded SQLite databases of the local mode with
// the settings that make an acknowledged write survive kill -9.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // pure-Go driver, no cgo

	"supportpipe/internal/ports/private"
	"supportpipe/internal/ports/refcount"
)

// Open opens (creating if needed) the database at path in WAL mode and
// applies schema. Opening the same path again in this process shares the
// handle, which holds exactly one connection: every reader and writer of the
// file queues in Go for it instead of contending for SQLite's lock, whose busy
// handler sleeps in growing steps (up to 100 ms) and would show up directly in
// webhook acknowledgement latency. Commits are synchronous=NORMAL: durable
// against kill -9 (the WAL is in the page cache) but not a power cut; Durable
// runs a transaction that is fsynced before it returns. pragmas are set on
// the connection (as "name(value)") when this call opens the file.
func Open(ctx context.Context, path, schema string, pragmas ...string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	d, err := registry.Acquire(abs, func() (*DB, error) { return open(path, abs, pragmas) })
	if err != nil {
		return nil, err
	}
	if _, err := d.DB.ExecContext(ctx, schema); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite schema %s: %w", path, err), d.Close())
	}
	return d, nil
}

// open opens the file at abs with one connection and the pragmas.
func open(path, abs string, pragmas []string) (*DB, error) {
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("sqlite open %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range append([]string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(ON)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is part of a URI: a '#' or '?' in a folder name would
	// otherwise silently cut it short and open another file.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(abs)
	db, err := sql.Open("sqlite", "file:"+esc+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return &DB{DB: db, path: abs}, nil
}

// createPrivate makes the database file 0600 before SQLite opens it. SQLite
// would create it 0644 less the umask, and it gives the -wal, -shm and
// -journal files it creates the database file's permission bits.
func createPrivate(path string) error {
	if err := Tighten(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, private.File)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Tighten takes the group's and others' permissions off the database file
// at path and the -wal, -shm and -journal files beside it, those that exist.
// Open does so: earlier versions created them readable by everyone, and an
// upgrade fixes an existing install when it opens it.
func Tighten(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := private.Tighten(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

// registry holds the open files by absolute path.
var registry refcount.Registry[string, *DB]

// Close releases this user's reference; the last one closes the file.
func (d *DB) Close() error {
	return registry.Release(d.path, d, func(d *DB) error { return d.DB.Close() })
}

// Durable runs fn in a transaction that is on disk when Durable returns
// (synchronous=FULL for this commit). Its fsync of the WAL also makes every
// earlier NORMAL commit of the file durable.
func (d *DB) Durable(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL"); rerr != nil && err == nil {
			err = rerr
		}
	}()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{Tx: sqlTx, db: d}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}
