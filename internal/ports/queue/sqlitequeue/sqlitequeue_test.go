package sqlitequeue_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/queuetest"
	"supportpipe/internal/ports/queue/sqlitequeue"
)

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queue.Queue { return open(t, filepath.Join(t.TempDir(), "queue.db")) },
		queuetest.Options{OpenAgain: func(t *testing.T, q queue.Queue) queue.Queue { return open(t, q.(handle).path) }})
}

// handle remembers the file so that the durability test can open it again.
type handle struct {
	*sqlitequeue.Queue
	path string
}

func open(t *testing.T, path string) queue.Queue {
	q, err := sqlitequeue.Open(t.Context(), path, "events", sqlitequeue.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return handle{q, path}
}
