package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

type attempts map[string]int

func (a attempts) RecordFailure(_ context.Context, id, _ string, _ time.Time) (int, error) {
	if id == "broken" {
		return 0, errors.New("store down")
	}
	a[id]++
	return a[id], nil
}

type fakeQueue struct {
	hidden    []time.Duration
	dead      []int
	deadErr   error
	hiddenErr error
}

func (q *fakeQueue) ChangeVisibility(_ context.Context, _ string, d time.Duration) error {
	q.hidden = append(q.hidden, d)
	return q.hiddenErr
}

func (q *fakeQueue) DeadLetter(_ context.Context, _ queue.Message, _ string, n int) error {
	if q.deadErr != nil {
		return q.deadErr
	}
	q.dead = append(q.dead, n)
	return nil
}

func TestPolicy(t *testing.T) {
	ctx, now := context.Background(), time.Now()
	msg := queue.Message{ID: "m", ReceiptHandle: "r"}

	t.Run("backs off, then dead-letters, then dead-letters again", func(t *testing.T) {
		q := &fakeQueue{}
		p := Policy{Attempts: attempts{}, Queue: q}
		var got []Verdict
		for range 4 {
			v, err := p.Fail(ctx, msg, "boom", now)
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, []Verdict{
			{Attempt: 1, Backoff: time.Second},
			{Attempt: 2, Backoff: 2 * time.Second},
			{Attempt: 3, DeadLettered: true},
			{Attempt: 4, DeadLettered: true, Again: true},
		}, got)
		assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, q.hidden)
		assert.Equal(t, []int{3, 4}, q.dead)
	})

	t.Run("the last backoff repeats", func(t *testing.T) {
		q := &fakeQueue{}
		p := Policy{Attempts: attempts{}, Queue: q, MaxAttempts: 5, Backoff: []time.Duration{time.Minute}}
		for range 4 {
			_, err := p.Fail(ctx, msg, "boom", now)
			require.NoError(t, err)
		}
		assert.Equal(t, []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute}, q.hidden)
	})

	t.Run("a backoff the queue refused is reported, not an error", func(t *testing.T) {
		q := &fakeQueue{hiddenErr: errors.New("receipt expired")}
		v, err := Policy{Attempts: attempts{}, Queue: q}.Fail(ctx, msg, "boom", now)
		require.NoError(t, err)
		assert.EqualError(t, v.BackoffErr, "receipt expired")
		assert.False(t, v.DeadLettered)
	})

	t.Run("an unrecorded failure is an error with no attempt", func(t *testing.T) {
		v, err := Policy{Attempts: attempts{}, Queue: &fakeQueue{}}.Fail(ctx, queue.Message{ID: "broken"}, "boom", now)
		require.Error(t, err)
		assert.Zero(t, v.Attempt)
	})

	t.Run("a failed move is an error, with the attempt", func(t *testing.T) {
		p := Policy{Attempts: attempts{}, Queue: &fakeQueue{deadErr: errors.New("dlq down")}, MaxAttempts: 1}
		v, err := p.Fail(ctx, msg, "boom", now)
		require.ErrorContains(t, err, "dlq down")
		assert.Equal(t, 1, v.Attempt)
		assert.False(t, v.DeadLettered)
	})
}
