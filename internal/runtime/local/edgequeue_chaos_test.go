//go:build chaos

package local

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

type countingQueue struct{ sent, dead int }

func (q *countingQueue) Send(context.Context, []byte, map[string]string) (string, error) {
	q.sent++
	return "m", nil
}

func (q *countingQueue) SendDeadLetter(context.Context, []byte, map[string]string, string) (string, error) {
	q.dead++
	return "d", nil
}

func TestFailingQueueFailsItsShareOfSends(t *testing.T) {
	inner := &countingQueue{}
	q := failingQueue{Queue: inner, share: 1}
	lost := 0
	for range 200 {
		_, err := q.Send(context.Background(), []byte("{}"), nil)
		require.Error(t, err)
		if errors.Is(err, errReplyLost) {
			lost++
		} else {
			require.ErrorIs(t, err, errSendFailed)
		}
	}
	assert.Equal(t, lost, inner.sent, "a lost answer follows a send that reached the queue; a failed send reaches nothing")
	assert.Positive(t, lost)
	assert.Less(t, lost, 200)

	_, err := q.SendDeadLetter(context.Background(), []byte("{}"), nil, queue.InvalidPayload)
	require.NoError(t, err)
	assert.Equal(t, 1, inner.dead, "dead letters are not failed")

	none := failingQueue{Queue: inner, share: 0}
	for range 50 {
		_, err := none.Send(context.Background(), []byte("{}"), nil)
		require.NoError(t, err)
	}
}
