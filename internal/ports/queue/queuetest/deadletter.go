package queuetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

func (s *suite) deadLetter(t *testing.T) {
	ten := map[string]string{}
	for i := range 10 {
		ten["attr_"+strconv.Itoa(i)] = "value " + strconv.Itoa(i)
	}
	tests := []struct {
		name  string
		attrs map[string]string
	}{
		{"event attributes", eventAttributes()},
		{"backfilled event", with(eventAttributes(), queue.AttrBackfilled, "true")},
		{"ten attributes", ten},
		{"no attributes", nil},
	}
	const reason = "stage conversation: update conversation: throttled 🐢 <retry later>"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer failOnPanic(t)
			q := s.open(t)
			body := `{"event":"message_created","content":"dead ☠ \u003cx\u003e"}`
			before := time.Now()
			deadLetter(t, q, body, tc.attrs, reason, 3)
			after := time.Now()
			assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)), "gone from the main queue")
			assertNone(t, q, "not delivered from the main queue")

			dls, err := q.ListDeadLetters(t.Context(), 10)
			require.NoError(t, err)
			require.Len(t, dls, 1)
			d := dls[0]
			assert.NotEmpty(t, d.ID)
			assert.Equal(t, body, string(d.Body))
			assert.Equal(t, reason, d.Reason)
			assert.Equal(t, 3, d.Attempts)
			assert.WithinRange(t, d.At, before.Add(-time.Second), after.Add(time.Second))
			for k, v := range tc.attrs {
				assert.Equal(t, v, d.Attributes[k], "original attribute %s", k)
			}
			assert.Equal(t, reason, d.Attributes[queue.AttrDLQReason])
			assert.Equal(t, "3", d.Attributes[queue.AttrDLQAttempts])
			assert.Equal(t, queue.Depth{Visible: 1}, counts(depth(t, q.DLQDepth)), "a dead letter is visible in the DLQ")
		})
	}
}

// deadLetterStale: a consumer that outlived its visibility must not move the
// message another consumer now holds.
func (s *suite) deadLetterStale(t *testing.T) {
	q := s.open(t)
	send(t, q, `{}`, eventAttributes())
	slow := receiveOne(t, q, s.unit)
	time.Sleep(s.unit + s.unit/2)
	current := receiveOne(t, q, long)
	err := q.DeadLetter(t.Context(), slow, "too late", 5)
	assert.ErrorIs(t, err, queue.ErrNotFound)
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.DLQDepth)), "nothing dead-lettered")
	assert.Equal(t, queue.Depth{InFlight: 1}, counts(depth(t, q.Depth)), "still in flight with the current consumer")
	require.NoError(t, q.Delete(t.Context(), current.ReceiptHandle))
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)))
}

func (s *suite) listDeadLetters(t *testing.T) {
	q := s.open(t)
	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	assert.Empty(t, dls)

	var bodies []string
	for i := range 3 {
		b := fmt.Sprintf(`{"n":%d}`, i)
		bodies = append(bodies, b)
		deadLetter(t, q, b, with(eventAttributes(), queue.AttrDelivery, "d"+strconv.Itoa(i)), "reason "+strconv.Itoa(i), i+1)
		time.Sleep(10 * time.Millisecond)
	}
	all, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, all, 3)
	ids := map[string]bool{}
	for i, d := range all {
		assert.Equal(t, bodies[i], string(d.Body), "oldest first")
		assert.Equal(t, "reason "+strconv.Itoa(i), d.Reason)
		assert.Equal(t, i+1, d.Attempts)
		assert.Equal(t, "d"+strconv.Itoa(i), d.Attributes[queue.AttrDelivery])
		if i > 0 {
			assert.False(t, d.At.Before(all[i-1].At), "At never decreases")
		}
		ids[d.ID] = true
	}
	assert.Len(t, ids, 3, "distinct ids")

	two, err := q.ListDeadLetters(t.Context(), 2)
	require.NoError(t, err)
	require.Len(t, two, 2, "at most max")
	assert.Equal(t, all[0].ID, two[0].ID)
	assert.Equal(t, all[1].ID, two[1].ID)

	again, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	assert.Len(t, again, 3, "listing does not consume")
	assert.Equal(t, queue.Depth{Visible: 3}, counts(depth(t, q.DLQDepth)), "listed dead letters stay visible")
}

func (s *suite) sendDeadLetter(t *testing.T) {
	q := s.open(t)
	attrs := with(eventAttributes(), queue.AttrDelivery, "kept")
	id, err := q.SendDeadLetter(t.Context(), []byte(`{"event":1}`), attrs, "invalid_payload")
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)), "nothing reaches the main queue")

	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	assert.Equal(t, `{"event":1}`, string(dls[0].Body))
	assert.Equal(t, "invalid_payload", dls[0].Reason)
	assert.Zero(t, dls[0].Attempts, "the processor never ran it")
	assert.Equal(t, "kept", dls[0].Attributes[queue.AttrDelivery])

	n, err := q.Redrive(t.Context(), dls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	m := receiveOne(t, q, long)
	assert.Equal(t, `{"event":1}`, string(m.Body))
	assert.Equal(t, with(attrs, queue.AttrRedriven, "true"), m.Attributes)
	assert.True(t, queue.Redriven(m.Attributes), "counted when it was kept, not again")
}
