package queuetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

func (s *suite) visibility(t *testing.T) {
	q := s.open(t)
	id := send(t, q, `{"v":1}`, eventAttributes())
	received := time.Now()
	first := receiveOne(t, q, s.unit)
	assert.Equal(t, 1, first.ReceiveCount)
	var second queue.Message
	if late := hiddenFor(t, q, received, s.unit, "a received message is hidden for its visibility"); len(late) > 0 {
		second = late[0]
	} else {
		time.Sleep(s.unit + s.unit/2)
		second = receiveOne(t, q, long)
	}
	assert.Equal(t, id, second.ID)
	assert.Equal(t, 2, second.ReceiveCount)
	assert.NotEqual(t, first.ReceiptHandle, second.ReceiptHandle, "each receive gets a new receipt handle")
	assert.Equal(t, `{"v":1}`, string(second.Body))
	assert.Equal(t, eventAttributes(), second.Attributes)
}

func (s *suite) changeVisibility(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"zero makes it visible now", 0},
		{"backoff one unit", s.unit},
		{"backoff two units", 2 * s.unit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer failOnPanic(t)
			q := s.open(t)
			id := send(t, q, `{}`, nil)
			m := receiveOne(t, q, long)
			before := time.Now()
			require.NoError(t, q.ChangeVisibility(t.Context(), m.ReceiptHandle, tc.d))
			changed := time.Now()
			var late []queue.Message
			if tc.d > 0 {
				time.Sleep(tc.d / 2)
				late = hiddenFor(t, q, before, tc.d, "hidden until the new visibility ends")
			}
			var again queue.Message
			if len(late) > 0 {
				again = late[0]
			} else {
				time.Sleep(time.Until(changed.Add(tc.d + s.unit/2)))
				again = receiveOne(t, q, long)
			}
			assert.Equal(t, id, again.ID)
			assert.Equal(t, 2, again.ReceiveCount)
		})
	}
}

func (s *suite) changeVisibilityStale(t *testing.T) {
	q := s.open(t)
	send(t, q, `{}`, nil)
	slow := receiveOne(t, q, s.unit)
	time.Sleep(s.unit + s.unit/2)
	receiveOne(t, q, long)
	err := q.ChangeVisibility(t.Context(), slow.ReceiptHandle, 0)
	assert.ErrorIs(t, err, queue.ErrNotFound, "a stale receipt cannot change visibility")
	assertNone(t, q, "the current consumer keeps the message hidden")
}
