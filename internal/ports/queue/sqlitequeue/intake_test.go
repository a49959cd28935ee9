package sqlitequeue_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
)

func openQ(t *testing.T, path string) *sqlitequeue.Queue {
	t.Helper()
	q, err := sqlitequeue.Open(t.Context(), path, "events", sqlitequeue.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return q
}

// drain receives and deletes everything visible and returns the bodies by id.
func drain(t *testing.T, q *sqlitequeue.Queue) map[string]string {
	t.Helper()
	got := map[string]string{}
	for {
		ms, err := q.Receive(t.Context(), 10, time.Minute)
		require.NoError(t, err)
		if len(ms) == 0 {
			return got
		}
		for _, m := range ms {
			_, dup := got[m.ID]
			require.False(t, dup, "message %s delivered twice", m.ID)
			got[m.ID] = string(m.Body)
			require.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
		}
	}
}

// TestJournalKill9 acknowledges sends in a child process, kill -9s it in the
// middle of the burst, and expects every acknowledged message, and none
// twice, when the queue is opened again.
func TestJournalKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := filepath.Join(t.TempDir(), "queue.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalHelper$")
	cmd.Env = append(os.Environ(), "SQLITEQUEUE_HELPER="+path)
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
	assert.NotEmpty(t, sqlitequeue.Segments(path, "events"), "the killed sender left its journal")

	q := openQ(t, path)
	got := drain(t, q)
	for id, body := range acked {
		assert.Equal(t, body, got[id], "acknowledged message %s", id)
	}
	t.Logf("acknowledged %d, recovered %d", len(acked), len(got))
}

// TestJournalHelper is the child of TestJournalKill9: it sends until killed
// and prints each acknowledged id with its body.
func TestJournalHelper(t *testing.T) {
	path := os.Getenv("SQLITEQUEUE_HELPER")
	if path == "" {
		t.Skip("helper process")
	}
	q, err := sqlitequeue.Open(context.Background(), path, "events", sqlitequeue.Options{})
	require.NoError(t, err)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				body := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				id, err := q.Send(context.Background(), []byte(body), map[string]string{queue.AttrDelivery: body})
				if err != nil {
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
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := sqlitequeue.Open(t.Context(), path, "events", sqlitequeue.Options{})
	require.NoError(t, err)
	require.True(t, q.Journaled())
	var ids []string
	for i := range 5 {
		id, err := q.Send(t.Context(), []byte(fmt.Sprintf(`{"n":%d}`, i)), nil)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	// Receiving moves all five; two are then processed and deleted.
	ms, err := q.Receive(t.Context(), 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	for _, m := range ms {
		require.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
	}
	// Two more stay in the journal only, unmoved, at the crash.
	for i := range 2 {
		id, err := q.Send(t.Context(), []byte(fmt.Sprintf(`{"late":%d}`, i)), nil)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	q.Crash()

	q = openQ(t, path)
	got := drain(t, q)
	assert.Len(t, got, 5, "3 moved and not deleted + 2 replayed, none of the 2 deleted")
	for _, m := range ms {
		assert.NotContains(t, got, m.ID, "deleted before the crash")
	}
	for _, id := range ids[5:] {
		assert.Contains(t, got, id, "synced to the journal only")
	}
	assert.Len(t, sqlitequeue.Segments(path, "events"), 0, "the replayed journal is deleted")
}

// TestJournalTornTail: a record cut short or corrupted at a segment's end was
// never acknowledged; the records before it are replayed.
func TestJournalTornTail(t *testing.T) {
	for name, tail := range map[string][]byte{
		"cut":     {40, 0, 0, 0, 1, 2, 3, 4, 5},
		"garbage": []byte("\x10\x00\x00\x00\xde\xad\xbe\xefxxxxxxxxxxxxxxxx"),
		"zeros":   make([]byte, 4096),
		// A recycled file: records of its previous life follow the new ones.
		"recycled": append(sqlitequeue.Record(2, "old", []byte(`{"old":1}`)), make([]byte, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "queue.db")
			require.NoError(t, sqlitequeue.WriteSegment(path, "events", 3,
				[]string{"a", "b"}, [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}, tail))
			q := openQ(t, path)
			d, err := q.Depth(t.Context())
			require.NoError(t, err)
			assert.Equal(t, int64(2), d.Visible)
			assert.Equal(t, map[string]string{"a": `{"a":1}`, "b": `{"b":2}`}, drain(t, q))
			// New sends go to a later segment and survive another crash.
			id, err := q.Send(t.Context(), []byte(`{"c":3}`), nil)
			require.NoError(t, err)
			q.Crash()
			q = openQ(t, path)
			assert.Equal(t, map[string]string{id: `{"c":3}`}, drain(t, q))
		})
	}
}

// TestJournalSegments: the journal moves on to new files as it grows and
// recycles or deletes those the database has durably caught up with; the
// old records in a recycled file are not replayed.
func TestJournalSegments(t *testing.T) {
	defer sqlitequeue.SetSegmentMax(4 << 10)()
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := sqlitequeue.Open(t.Context(), path, "events", sqlitequeue.Options{})
	require.NoError(t, err)
	body := []byte(`{"content":"` + strings.Repeat("x", 500) + `"}`)
	sent := map[string]bool{}
	for range 100 {
		id, err := q.Send(t.Context(), body, nil)
		require.NoError(t, err)
		sent[id] = true
		if len(sent)%10 == 0 {
			d, err := q.Depth(t.Context()) // moves what is committed
			require.NoError(t, err)
			require.Equal(t, int64(len(sent)), d.Visible)
		}
	}
	_, err = q.Depth(t.Context())
	require.NoError(t, err)
	assert.LessOrEqual(t, len(sqlitequeue.Segments(path, "events")), 3, "moved segments are deleted")
	assert.True(t, sqlitequeue.Spare(path, "events"), "a moved segment is kept as the spare")
	q.Crash()
	q = openQ(t, path)
	got := drain(t, q)
	assert.Len(t, got, len(sent))
	for id := range sent {
		assert.Contains(t, got, id)
	}
}

// TestJournalTaken: when another process owns the journal, sends commit to
// the database directly and are visible to the owner.
func TestJournalTaken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	lock, err := sqlitequeue.LockJournal(path, "events")
	require.NoError(t, err)
	q := openQ(t, path)
	assert.False(t, q.Journaled())
	id, err := q.Send(t.Context(), []byte(`{"direct":1}`), nil)
	require.NoError(t, err)
	require.NoError(t, q.Close())
	require.NoError(t, lock.Close())

	q = openQ(t, path)
	assert.True(t, q.Journaled())
	assert.Equal(t, map[string]string{id: `{"direct":1}`}, drain(t, q))
}

// TestJournalSharedInProcess: two handles in one process share the journal,
// so each sees the other's acknowledged sends at once.
func TestJournalSharedInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	a, b := openQ(t, path), openQ(t, path)
	require.True(t, a.Journaled())
	require.True(t, b.Journaled())
	id, err := a.Send(t.Context(), []byte(`{}`), nil)
	require.NoError(t, err)
	require.NoError(t, a.Close())
	ms, err := b.Receive(t.Context(), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, id, ms[0].ID)
}

// TestJournalYields: while the edge is saturated the mover leaves
// acknowledged sends in the journal, up to deferAge; a receive still sees
// them at once.
func TestJournalYields(t *testing.T) {
	t.Run("held back while saturated, received at once", func(t *testing.T) {
		q := openQ(t, filepath.Join(t.TempDir(), "queue.db"))
		q.Saturate(time.Hour)
		id, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond) // six move delays
		assert.Equal(t, 1, q.Unmoved(), "moved while the edge was saturated")
		ms, err := q.Receive(t.Context(), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, ms, 1)
		assert.Equal(t, id, ms[0].ID)
		assert.Zero(t, q.Unmoved())
	})
	t.Run("moved once the backlog is deferAge old", func(t *testing.T) {
		defer sqlitequeue.SetDeferAge(200 * time.Millisecond)()
		q := openQ(t, filepath.Join(t.TempDir(), "queue.db"))
		q.Saturate(time.Hour)
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return q.Unmoved() == 0 }, 10*time.Second, 10*time.Millisecond)
	})
	t.Run("moved when not saturated", func(t *testing.T) {
		q := openQ(t, filepath.Join(t.TempDir(), "queue.db"))
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return q.Unmoved() == 0 }, 10*time.Second, 10*time.Millisecond)
	})
}

// TestJournalBusy: the edge counts as busy after a window of at least
// busyRate sends a second, and not after a quiet one.
func TestJournalBusy(t *testing.T) {
	q := openQ(t, filepath.Join(t.TempDir(), "queue.db"))
	assert.False(t, q.Observe(0), "opens a window")
	time.Sleep(110 * time.Millisecond)
	assert.False(t, q.Observe(10), "10 sends in a window are not a burst")
	time.Sleep(110 * time.Millisecond)
	// 2,000 sends in a window of 110 ms to (on a very slow machine) 600 ms.
	assert.True(t, q.Observe(2000), "a burst")
	assert.True(t, q.Observe(1), "still busy inside the next window")
}
