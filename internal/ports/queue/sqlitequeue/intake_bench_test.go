package sqlitequeue

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkMove measures copying journal entries into the database, per
// message, in moves of 256.
func BenchmarkMove(b *testing.B) {
	q, err := Open(context.Background(), filepath.Join(b.TempDir(), "q.db"), "events", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	body := []byte(`{"content":"` + strings.Repeat("x", 600) + `"}`)
	attrs := `{"account_id":"7","delivery_id":"bench-1","event":"message_created"}`
	b.ResetTimer()
	for i := 0; i < b.N; i += 256 {
		b.StopTimer()
		es := make([]entry, min(256, b.N-i))
		for k := range es {
			es[k] = entry{id: fmt.Sprintf("%08d-%04d", i, k), sentAt: int64(i + k), attrs: attrs, body: body, end: pos{1, int64(i + k)}}
		}
		b.StartTimer()
		if err := q.in.insert(context.Background(), es, es[len(es)-1].end, false); err != nil {
			b.Fatal(err)
		}
	}
}
