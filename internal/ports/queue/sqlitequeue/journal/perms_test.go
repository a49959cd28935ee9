//go:build unix

package journal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ports/private/privatetest"
	"supportpipe/internal/ports/queue/sqlitequeue/journal"
)

// TestFilesArePrivate: under umask 022, in a folder a user made 0755, the
// database, its -wal and -shm, the journal's folder, lock, segments and
// spare are the owner's only; an install left readable by others (as
// earlier versions or a copy may leave it) is tightened when it is opened
// again, its messages intact.
func TestFilesArePrivate(t *testing.T) {
	privatetest.Umask(t)
	defer journal.SetSegmentMax(256 << 10)()
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := newQueue(t, dir)
	j := open(t, path)
	body := `{"content":"` + strings.Repeat("x", 500) + `"}`
	for range 300 { // past the size at which a spare segment is prepared
		send(t, j, body)
	}
	waitfor.Until(t, func() bool { return journal.Spare(path, "events") }, "a spare segment is prepared")
	require.NoError(t, j.Flush(t.Context())) // moves the journal into the database
	seen := privatetest.AssertTree(t, dir)
	for _, name := range []string{"queue.db", "queue.db-wal", "queue.db-shm", "queue.db.intake.events",
		"queue.db.intake.events/lock", "queue.db.intake.events/spare"} {
		assert.Contains(t, seen, name)
	}
	require.NotEmpty(t, journal.Segments(path, "events"))
	j.crash()

	privatetest.Loosen(t, dir)
	open(t, path)
	privatetest.AssertTree(t, dir)
	assert.Len(t, drain(t, path), 300)
}
