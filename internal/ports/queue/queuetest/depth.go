package queuetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

func (s *suite) depth(t *testing.T) {
	q := s.open(t)
	assert.Equal(t, queue.Depth{}, depth(t, q.Depth), "empty queue")
	before := time.Now()
	for i := range 3 {
		send(t, q, fmt.Sprintf(`{"n":%d}`, i), nil)
	}
	wait := s.unit / 3
	time.Sleep(wait)
	d := depth(t, q.Depth)
	assert.Equal(t, queue.Depth{Visible: 3}, counts(d))
	s.checkAge(t, d, wait, time.Since(before))

	m := receiveOne(t, q, long)
	assert.Equal(t, queue.Depth{Visible: 2, InFlight: 1}, counts(depth(t, q.Depth)))
	require.NoError(t, q.ChangeVisibility(t.Context(), m.ReceiptHandle, 0))
	assert.Equal(t, queue.Depth{Visible: 3}, counts(depth(t, q.Depth)), "visible again after a zero visibility")
	m = receiveOne(t, q, long)
	require.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
	assert.Equal(t, queue.Depth{Visible: 2}, counts(depth(t, q.Depth)))
	assert.Equal(t, queue.Depth{}, depth(t, q.DLQDepth), "the DLQ is separate")
}

// checkAge checks d's oldest age against what the test measured: at least
// the wait after the last send, at most the time since before the first.
func (s *suite) checkAge(t *testing.T, d queue.Depth, atLeast, atMost time.Duration) {
	t.Helper()
	if s.opts.NoOldestAge {
		assert.Zero(t, d.OldestAge, "driver reports no oldest age")
		return
	}
	assert.GreaterOrEqual(t, d.OldestAge, atLeast, "oldest age")
	assert.LessOrEqual(t, d.OldestAge, atMost+s.opts.Resolution, "oldest age")
}

func (s *suite) dlqDepth(t *testing.T) {
	q := s.open(t)
	assert.Equal(t, queue.Depth{}, depth(t, q.DLQDepth), "empty DLQ")
	before := time.Now()
	deadLetter(t, q, `{"n":1}`, eventAttributes(), "bad", 5)
	deadLetter(t, q, `{"n":2}`, eventAttributes(), "bad", 5)
	wait := s.unit / 3
	time.Sleep(wait)
	d := depth(t, q.DLQDepth)
	assert.Equal(t, queue.Depth{Visible: 2}, counts(d))
	s.checkAge(t, d, wait, time.Since(before))
	assert.Equal(t, queue.Depth{}, depth(t, q.Depth), "the main queue is empty")
}
