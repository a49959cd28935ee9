// Package sqlitedb opens the embedded SQLite databases of the local mode with
// the settings that make an acknowledged write survive kill -9.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // pure-Go driver, no cgo
)

// Open opens (creating if needed) the database at path and applies schema.
// WAL with synchronous=FULL: a committed transaction is on disk before the
// commit returns, so an acknowledgement never outruns durability.
func Open(ctx context.Context, path string, schema string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite open %s: %w", path, err)
	}
	// One writer at a time is all SQLite allows; a small pool lets readers
	// proceed under WAL.
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite schema %s: %w", path, err)
	}
	return db, nil
}
