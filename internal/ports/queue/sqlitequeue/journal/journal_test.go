package journal_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/queue/sqlitequeue/journal"
	"supportpipe/internal/ports/sqlitedb"
)

// newQueue makes the database of queue "events" in dir, as the queue leaves
// it, and returns its path.
func newQueue(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "queue.db")
	q, err := sqlitequeue.Open(context.Background(), path, "events", sqlitequeue.Options{})
	require.NoError(tb, err)
	require.NoError(tb, q.Close())
	return path
}

// handle is a journal its test closes, or crashes, once.
type handle struct {
	*journal.Journal
	once sync.Once
}

func (h *handle) crash() { h.once.Do(h.Crash) }

func open(tb testing.TB, path string) *handle {
	tb.Helper()
	j, err := journal.Open(context.Background(), path, "events", journal.Schema)
	require.NoError(tb, err)
	h := &handle{Journal: j}
	tb.Cleanup(func() { h.once.Do(func() { h.Close() }) })
	return h
}

var sends atomic.Int64

// send sends body and returns its id once the journal acknowledged it.
func send(t *testing.T, j *handle, body string) string {
	t.Helper()
	id := fmt.Sprintf("m%06d", sends.Add(1))
	require.NoError(t, j.Send(t.Context(), journal.Entry{ID: id, SentAt: time.Now().UnixNano(), Attrs: `{}`, Body: []byte(body)}))
	return id
}

// messages returns the bodies of the messages in the database, by id.
func messages(t *testing.T, path string) map[string]string {
	t.Helper()
	return query(t, path, `SELECT id, body FROM messages WHERE queue='events'`)
}

// drain takes every message out of the database and returns the bodies by
// id, as a consumer that processed them would.
func drain(t *testing.T, path string) map[string]string {
	t.Helper()
	return query(t, path, `DELETE FROM messages WHERE queue='events' RETURNING id, body`)
}

func query(t *testing.T, path, q string) map[string]string {
	t.Helper()
	db, err := sqlitedb.Open(t.Context(), path, journal.Schema)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), q)
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, body string
		require.NoError(t, rows.Scan(&id, &body))
		got[id] = body
	}
	require.NoError(t, rows.Err())
	return got
}

// TestJournalKill9 acknowledges sends in a child process, kill -9s it in the
// middle of the burst, and expects every acknowledged message, and none
// twice, when the journal is opened again.
func TestJournalKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := newQueue(t, t.TempDir())
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalHelper$")
	cmd.Env = append(os.Environ(), "JOURNAL_HELPER="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	acked := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, body, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		acked[id] = body
		if len(acked) == 1500 {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		}
	}
	_ = cmd.Wait()
	require.GreaterOrEqual(t, len(acked), 1500, "acknowledged before the kill")
	assert.NotEmpty(t, journal.Segments(path, "events"), "the killed sender left its journal")

	open(t, path)
	got := messages(t, path)
	for id, body := range acked {
		assert.Equal(t, body, got[id], "acknowledged message %s", id)
	}
	t.Logf("acknowledged %d, recovered %d", len(acked), len(got))
}

// TestJournalHelper is the child of TestJournalKill9: it sends until killed
// and prints each acknowledged id with its body.
func TestJournalHelper(t *testing.T) {
	path := os.Getenv("JOURNAL_HELPER")
	if path == "" {
		t.Skip("helper process")
	}
	j, err := journal.Open(context.Background(), path, "events", journal.Schema)
	require.NoError(t, err)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id, body := fmt.Sprintf("%d-%d", w, i), fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				e := journal.Entry{ID: id, SentAt: time.Now().UnixNano(), Attrs: `{}`, Body: []byte(body)}
				if err := j.Send(context.Background(), e); err != nil {
					continue
				}
				mu.Lock()
				fmt.Printf("%s %s\n", id, body)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestJournalReplayOnce: what the journal held at a crash is moved once,
// and what was moved and deleted before it does not come back.
func TestJournalReplayOnce(t *testing.T) {
	path := newQueue(t, t.TempDir())
	j := open(t, path)
	for i := range 5 {
		send(t, j, fmt.Sprintf(`{"n":%d}`, i))
	}
	// A flush moves all five, which are then processed and deleted.
	require.NoError(t, j.Flush(t.Context()))
	moved := drain(t, path)
	require.Len(t, moved, 5)
	// Two more stay in the journal only, unmoved, at the crash.
	late := map[string]string{}
	for i := range 2 {
		body := fmt.Sprintf(`{"late":%d}`, i)
		late[send(t, j, body)] = body
	}
	j.crash()

	open(t, path)
	assert.Equal(t, late, drain(t, path), "synced to the journal only, once; none of the deleted")
	assert.Empty(t, journal.Segments(path, "events"), "the replayed journal is deleted")
}

// TestJournalTornTail: a record cut short or corrupted at a segment's end was
// never acknowledged; the records before it are replayed.
func TestJournalTornTail(t *testing.T) {
	for name, tail := range map[string][]byte{
		"cut":     {40, 0, 0, 0, 1, 2, 3, 4, 5},
		"garbage": []byte("\x10\x00\x00\x00\xde\xad\xbe\xefxxxxxxxxxxxxxxxx"),
		"zeros":   make([]byte, 4096),
		// A recycled file: records of its previous life follow the new ones.
		"recycled": append(journal.Record(2, "old", []byte(`{"old":1}`)), make([]byte, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			path := newQueue(t, t.TempDir())
			require.NoError(t, journal.WriteSegment(path, "events", 3,
				[]string{"a", "b"}, [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}, tail))
			j := open(t, path)
			assert.Equal(t, map[string]string{"a": `{"a":1}`, "b": `{"b":2}`}, drain(t, path))
			// New sends go to a later segment and survive another crash.
			id := send(t, j, `{"c":3}`)
			j.crash()
			open(t, path)
			assert.Equal(t, map[string]string{id: `{"c":3}`}, drain(t, path))
		})
	}
}

// TestJournalSegments: the journal moves on to new files as it grows and
// recycles or deletes those the database has durably caught up with; the
// old records in a recycled file are not replayed.
func TestJournalSegments(t *testing.T) {
	defer journal.SetSegmentMax(4 << 10)()
	path := newQueue(t, t.TempDir())
	j := open(t, path)
	body := `{"content":"` + strings.Repeat("x", 500) + `"}`
	sent := map[string]string{}
	for range 100 {
		sent[send(t, j, body)] = body
		if len(sent)%10 == 0 {
			require.NoError(t, j.Flush(t.Context()))
			require.Len(t, messages(t, path), len(sent))
		}
	}
	require.NoError(t, j.Flush(t.Context()))
	assert.LessOrEqual(t, len(journal.Segments(path, "events")), 3, "moved segments are deleted")
	assert.True(t, journal.Spare(path, "events"), "a moved segment is kept as the spare")
	j.crash()
	open(t, path)
	assert.Equal(t, sent, drain(t, path))
}

// TestJournalYields: while the edge is saturated the mover leaves
// acknowledged sends in the journal, up to deferAge; a flush (a receive)
// still moves them at once.
func TestJournalYields(t *testing.T) {
	t.Run("held back while saturated, flushed at once", func(t *testing.T) {
		// However long the sleep below really lasts, the backlog stays
		// younger than deferAge.
		defer journal.SetDeferAge(time.Hour)()
		path := newQueue(t, t.TempDir())
		j := open(t, path)
		j.Saturate(time.Hour)
		id := send(t, j, `{}`)
		time.Sleep(300 * time.Millisecond) // six move delays
		assert.Equal(t, 1, j.Unmoved(), "moved while the edge was saturated")
		require.NoError(t, j.Flush(t.Context()))
		assert.Equal(t, map[string]string{id: `{}`}, messages(t, path))
		assert.Zero(t, j.Unmoved())
	})
	t.Run("moved once the backlog is deferAge old", func(t *testing.T) {
		defer journal.SetDeferAge(200 * time.Millisecond)()
		j := open(t, newQueue(t, t.TempDir()))
		j.Saturate(time.Hour)
		send(t, j, `{}`)
		waitfor.Until(t, func() bool { return j.Unmoved() == 0 }, "the backlog moved once deferAge old, the edge still saturated")
	})
	t.Run("moved when not saturated", func(t *testing.T) {
		j := open(t, newQueue(t, t.TempDir()))
		send(t, j, `{}`)
		waitfor.Until(t, func() bool { return j.Unmoved() == 0 }, "the send moved")
	})
}

// TestJournalBusy: the edge counts as busy after a window of at least
// busyRate sends a second, and not after a quiet one.
func TestJournalBusy(t *testing.T) {
	j := open(t, newQueue(t, t.TempDir()))
	assert.False(t, j.Observe(0), "opens a window")
	time.Sleep(110 * time.Millisecond)
	assert.False(t, j.Observe(10), "10 sends in a window are not a burst")
	time.Sleep(110 * time.Millisecond)
	// An hour of sends at 3,000 a second: a burst however long this machine
	// made the window.
	burst := time.Now()
	assert.True(t, j.Observe(3000*3600), "a burst")
	busy := j.Observe(1)
	// Busy until two windows after the burst was seen; a machine too slow to
	// look again within them cannot tell.
	if looked := time.Since(burst); looked < 200*time.Millisecond {
		assert.True(t, busy, "still busy inside the next window")
	} else {
		t.Logf("looked again %v after the burst: too late to check it is still busy", looked)
	}
}
