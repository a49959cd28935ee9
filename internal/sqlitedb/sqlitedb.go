// Package sqlitedb opens the embedded SQLite databases of the local mode with
// the settings that make an acknowledged write survive kill -9.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // pure-Go driver, no cgo
)

// Sync levels for Open.
const (
	// Durable fsyncs the WAL on every commit: a committed transaction is on
	// disk before Commit returns. Used where a commit is an acknowledgement.
	Durable = "FULL"
	// Fast leaves the fsync to the next Durable commit or checkpoint. A
	// commit survives kill -9 (it is in the OS page cache) but not a power
	// cut; callers that acknowledge on it must issue a Durable commit first.
	Fast = "NORMAL"
)

// Open opens (creating if needed) the database at path in WAL mode with the
// given sync level and applies schema.
func Open(ctx context.Context, path, sync, schema string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is part of a URI: a '#' or '?' in a folder name would
	// otherwise silently cut it short and open another file.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?"+q.Encode())
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
	return &DB{DB: db}, nil
}
