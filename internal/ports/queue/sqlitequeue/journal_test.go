package sqlitequeue_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestJournalTaken: when another process owns the journal, sends commit to
// the database directly and are visible to the owner.
func TestJournalTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := filepath.Join(t.TempDir(), "queue.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalOwner$")
	cmd.Env = append(os.Environ(), "SQLITEQUEUE_OWNER="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	ready := bufio.NewScanner(out)
	require.True(t, ready.Scan(), "the owner opened the queue")

	q := openQ(t, path)
	assert.False(t, q.Journaled())
	id, err := q.Send(t.Context(), []byte(`{"direct":1}`), nil)
	require.NoError(t, err)
	require.NoError(t, q.Close())
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())

	q = openQ(t, path)
	assert.True(t, q.Journaled())
	assert.Equal(t, map[string]string{id: `{"direct":1}`}, drain(t, q))
}

// TestJournalOwner is the child of TestJournalTaken: it holds the queue
// open, and so its journal, until its input ends.
func TestJournalOwner(t *testing.T) {
	path := os.Getenv("SQLITEQUEUE_OWNER")
	if path == "" {
		t.Skip("helper process")
	}
	q := openQ(t, path)
	require.True(t, q.Journaled())
	os.Stdout.WriteString("ready\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
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
