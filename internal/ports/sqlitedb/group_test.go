package sqlitedb

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "g.db"),
		`CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0))`)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Concurrent writers each get their own statement's result, every write is
// committed when its call returns, and writes that wait meet in groups.
func TestGroupCommit(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				k := fmt.Sprintf("w%d-%d", w, i)
				res, err := db.ExecContext(ctx, `INSERT INTO kv(k, v) VALUES(?, 1) ON CONFLICT DO NOTHING`, k)
				if !assert.NoError(t, err) {
					return
				}
				n, _ := res.RowsAffected()
				assert.EqualValues(t, 1, n, "the insert of %s", k)
				// Committed on return: visible to a read right away.
				var v int
				assert.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k=?`, k).Scan(&v))
				res, err = db.ExecContext(ctx, `INSERT INTO kv(k, v) VALUES(?, 1) ON CONFLICT DO NOTHING`, k)
				if assert.NoError(t, err) {
					n, _ = res.RowsAffected()
					assert.Zero(t, n, "a second insert of %s changes nothing", k)
				}
			}
		})
	}
	wg.Wait()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM kv`).Scan(&n))
	assert.Equal(t, writers*each, n)
	assert.Positive(t, db.groups.Load(), "some writes were committed together")
}

// A write that fails in a group fails alone: the others commit, once each.
func TestGroupCommitFailure(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `INSERT INTO kv(k, v) VALUES('n', 0)`)
	require.NoError(t, err)
	const writers = 32
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			delta := 1
			if w%4 == 0 {
				delta = -1000 // violates the CHECK: this write alone fails
			}
			_, errs[w] = db.ExecContext(ctx, `UPDATE kv SET v = v + ? WHERE k='n'`, delta)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for w, err := range errs {
		if w%4 == 0 {
			assert.ErrorContains(t, err, "CHECK constraint failed", "writer %d", w)
			continue
		}
		if assert.NoError(t, err, "writer %d", w) {
			ok++
		}
	}
	var v int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k='n'`).Scan(&v))
	assert.Equal(t, ok, v, "each successful increment applied once, no failed one")
}

// A writer whose context ends while it waits still gets the truth: its
// write either failed or is committed.
func TestGroupCommitCancelled(t *testing.T) {
	db := openTest(t)
	var wg sync.WaitGroup
	const writers = 32
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			if w%2 == 0 {
				cancel()
			}
			defer cancel()
			_, errs[w] = db.ExecContext(ctx, `INSERT INTO kv(k, v) VALUES(?, 1)`, fmt.Sprint(w))
		})
	}
	wg.Wait()
	for w, err := range errs {
		var n int
		require.NoError(t, db.QueryRowContext(context.Background(), `SELECT count(*) FROM kv WHERE k=?`, fmt.Sprint(w)).Scan(&n))
		if err != nil {
			assert.Zero(t, n, "writer %d failed (%v) but its row is there", w, err)
		} else {
			assert.Equal(t, 1, n, "writer %d succeeded but its row is missing", w)
		}
		if w%2 == 1 {
			assert.NoError(t, err, "writer %d was not cancelled", w)
		}
	}
}
