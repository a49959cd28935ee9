package journal_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/queue/sqlitequeue/journal"
)

// BenchmarkMove measures copying journal entries into the database, per
// message, in moves of 256.
func BenchmarkMove(b *testing.B) {
	// The journal is the one the queue's handle shares, on the file as the
	// queue opens it (its pragmas).
	path := filepath.Join(b.TempDir(), "q.db")
	q, err := sqlitequeue.Open(context.Background(), path, "events", sqlitequeue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	j := open(b, path)
	body := []byte(`{"content":"` + strings.Repeat("x", 600) + `"}`)
	attrs := `{"account_id":"7","delivery_id":"bench-1","event":"message_created"}`
	b.ResetTimer()
	for i := 0; i < b.N; i += 256 {
		b.StopTimer()
		es := make([]journal.Entry, min(256, b.N-i))
		for k := range es {
			es[k] = journal.Entry{ID: fmt.Sprintf("%08d-%04d", i, k), SentAt: int64(i + k), Attrs: attrs, Body: body}
		}
		b.StartTimer()
		if err := j.Insert(context.Background(), es, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}
