package queuetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

func (s *suite) sendReceive(t *testing.T) {
	large := `{"content":"` + strings.Repeat("réponse 🙂 ", 8<<10) + `"}`
	tests := []struct {
		name  string
		body  string
		attrs map[string]string
	}{
		{"plain JSON", `{"event":"message_created","id":1}`, eventAttributes()},
		{"emoji", `{"content":"thanks 👍🏽 ✅ 🇫🇷"}`, eventAttributes()},
		{"escaped in JSON", `{"content":"\u003cb\u003ehi\u003c/b\u003e \u00e9 \ud83d\ude00"}`, eventAttributes()},
		{"raw markup", `{"content":"<b>\"hi\" & 'bye'</b> \\ /"}`, eventAttributes()},
		{"scripts", `{"content":"Grüße, 你好, مرحبا, שלום, Привет"}`, eventAttributes()},
		{"whitespace", "{\n\t\"content\": \"line1\\nline2\"\r\n}\n", eventAttributes()},
		{"large", large, eventAttributes()},
		{"unicode attribute values", `{}`, with(eventAttributes(), queue.AttrEvent, "Grüße 👋 <&>")},
		{"backfilled", `{}`, with(eventAttributes(), queue.AttrBackfilled, "true")},
		{"empty attribute value", `{}`, with(eventAttributes(), queue.AttrSignature, "")},
		{"no attributes", `{}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer failOnPanic(t)
			q := s.open(t)
			before := time.Now()
			id := send(t, q, tc.body, tc.attrs)
			after := time.Now()
			m := receiveOne(t, q, long)
			assert.Equal(t, id, m.ID)
			assert.Equal(t, tc.body, string(m.Body), "body must come back byte for byte")
			assert.Equal(t, nonEmpty(tc.attrs), nonEmpty(m.Attributes))
			assert.Equal(t, 1, m.ReceiveCount)
			assert.NotEmpty(t, m.ReceiptHandle)
			assert.WithinRange(t, m.SentAt, before.Add(-time.Second), after.Add(time.Second))
		})
	}
}

func (s *suite) durability(t *testing.T) {
	if s.opts.OpenAgain == nil {
		t.Skip("driver cannot open a second handle on its store")
	}
	q := s.open(t)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := q.Send(t.Context(), []byte(fmt.Sprintf(`{"n":%d}`, i)), eventAttributes())
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	other := s.opts.OpenAgain(t, q)
	assert.Equal(t, queue.Depth{Visible: n}, counts(depth(t, other.Depth)), "acknowledged sends seen by a second handle")
	var got []string
	for _, m := range receiveN(t, other, n, long) {
		got = append(got, m.ID)
	}
	assert.ElementsMatch(t, ids, got)
}

func (s *suite) receiveMax(t *testing.T) {
	q := s.open(t)
	assertNone(t, q, "an empty queue returns no messages")
	var ids []string
	for i := range 5 {
		ids = append(ids, send(t, q, fmt.Sprintf(`{"n":%d}`, i), nil))
	}
	ms, err := q.Receive(t.Context(), 2, long)
	require.NoError(t, err)
	assert.NotEmpty(t, ms)
	assert.LessOrEqual(t, len(ms), 2, "Receive returns at most max")
	rest := receiveN(t, q, 5-len(ms), long)
	var got []string
	for _, m := range append(ms, rest...) {
		got = append(got, m.ID)
	}
	assert.ElementsMatch(t, ids, got, "each message once")
	assertNone(t, q, "all messages are in flight")
}

func (s *suite) delete(t *testing.T) {
	q := s.open(t)
	send(t, q, `{}`, nil)
	m := receiveOne(t, q, s.unit)
	require.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
	// The Lambda event source and a tool may both delete; the second is harmless.
	assert.NoError(t, q.Delete(t.Context(), m.ReceiptHandle), "deleting twice")
	time.Sleep(s.unit + s.unit/2)
	assertNone(t, q, "a deleted message is not redelivered")
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)))
}

// deleteStale: a consumer that outlived its visibility must not delete the
// message another consumer now holds.
func (s *suite) deleteStale(t *testing.T) {
	q := s.open(t)
	id := send(t, q, `{}`, nil)
	slow := receiveOne(t, q, s.unit)
	time.Sleep(s.unit + s.unit/2)
	current := receiveOne(t, q, long)
	require.Equal(t, id, current.ID)
	// SQS accepts a stale handle and deletes nothing; an error is fine too.
	_ = q.Delete(t.Context(), slow.ReceiptHandle)
	assert.Equal(t, queue.Depth{InFlight: 1}, counts(depth(t, q.Depth)), "message survives a stale delete")
	require.NoError(t, q.ChangeVisibility(t.Context(), current.ReceiptHandle, 0), "the current receipt still works")
	again := receiveOne(t, q, long)
	assert.Equal(t, id, again.ID)
	assert.Equal(t, 3, again.ReceiveCount)
}
