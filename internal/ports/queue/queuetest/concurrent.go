package queuetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

// concurrent: eight senders, then eight receivers; every message arrives
// exactly once.
func (s *suite) concurrent(t *testing.T) {
	q := s.open(t)
	const workers, each = 8, 25
	const total = workers * each
	var mu sync.Mutex
	sent := map[string]string{} // id -> body
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"worker":%d,"n":%d}`, w, i)
				id, err := q.Send(t.Context(), []byte(body), eventAttributes())
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				sent[id] = body
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, sent, total, "distinct ids for all sends")

	got := map[string][]string{} // body -> ids received
	var done atomic.Int64
	deadline := time.Now().Add(hang)
	for range workers {
		wg.Go(func() {
			for done.Load() < total && time.Now().Before(deadline) {
				ms, err := q.Receive(t.Context(), 10, long)
				if !assert.NoError(t, err) {
					return
				}
				if len(ms) == 0 {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				for _, m := range ms {
					assert.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
					mu.Lock()
					got[string(m.Body)] = append(got[string(m.Body)], m.ID)
					mu.Unlock()
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Len(t, got, total, "no message lost")
	for id, body := range sent {
		assert.Equal(t, []string{id}, got[body], "received exactly once: %s", body)
	}
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)))
}
