package queuetest

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

func (s *suite) redriveOne(t *testing.T) {
	q := s.open(t)
	var orig []string
	for i := range 3 {
		orig = append(orig, deadLetter(t, q, fmt.Sprintf(`{"n":%d}`, i),
			with(eventAttributes(), queue.AttrDelivery, "d"+strconv.Itoa(i)), "bad", 5))
	}
	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 3)
	target := dls[1]

	n, err := q.Redrive(t.Context(), target.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	rest, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, rest, 2, "the others stay in the DLQ")
	for _, d := range rest {
		assert.NotEqual(t, target.ID, d.ID)
		assert.NotEqual(t, `{"n":1}`, string(d.Body))
	}

	m := receiveOne(t, q, long)
	assert.Equal(t, `{"n":1}`, string(m.Body))
	assert.Equal(t, with(with(eventAttributes(), queue.AttrDelivery, "d1"), queue.AttrRedriven, "true"), m.Attributes,
		"original attributes and the redrive mark, no other dlq_*")
	assert.NotContains(t, orig, m.ID, "a redriven message gets a new id")
	assert.NotEqual(t, target.ID, m.ID)
	assert.Equal(t, 1, m.ReceiveCount)
	assert.Equal(t, queue.Depth{InFlight: 1}, counts(depth(t, q.Depth)))
	assert.Equal(t, queue.Depth{Visible: 2}, counts(depth(t, q.DLQDepth)))
}

func (s *suite) redriveUnknown(t *testing.T) {
	q := s.open(t)
	deadLetter(t, q, `{}`, nil, "bad", 5)
	n, err := q.Redrive(t.Context(), "no-such-message")
	assert.ErrorIs(t, err, queue.ErrNotFound)
	assert.Zero(t, n)
	assert.Equal(t, queue.Depth{Visible: 1}, counts(depth(t, q.DLQDepth)), "the search leaves the DLQ as it was")
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)))
}

func (s *suite) redriveAll(t *testing.T) {
	q := s.open(t)
	n, err := q.Redrive(t.Context(), "")
	require.NoError(t, err, "redriving an empty DLQ")
	assert.Zero(t, n)

	orig := map[string]bool{}
	bodies := map[string]bool{}
	for i := range 3 {
		b := fmt.Sprintf(`{"n":%d}`, i)
		bodies[b] = true
		orig[deadLetter(t, q, b, eventAttributes(), "bad", 5)] = true
	}
	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	for _, d := range dls {
		orig[d.ID] = true
	}

	n, err = q.Redrive(t.Context(), "")
	require.NoError(t, err)
	if !s.opts.AsyncRedriveAll {
		assert.Equal(t, 3, n)
	}
	got := map[string]bool{}
	for _, m := range receiveN(t, q, 3, long) {
		got[string(m.Body)] = true
		assert.False(t, orig[m.ID], "a redriven message gets a new id")
		assert.Equal(t, 1, m.ReceiveCount)
		for k, v := range eventAttributes() {
			assert.Equal(t, v, m.Attributes[k], "original attribute %s", k)
		}
		assert.True(t, queue.Redriven(m.Attributes), "marked as redriven")
	}
	assert.Equal(t, bodies, got)
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.DLQDepth)), "DLQ empty after redrive")
}
