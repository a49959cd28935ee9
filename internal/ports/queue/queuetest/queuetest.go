// Package queuetest is the conformance suite for queue.Queue drivers. Every
// driver runs it from its own tests, so the webhook, the processor and the
// tools can rely on one set of semantics whichever backend is wired in.
//
// The suite runs on real time with short timeouts: a driver need not expose a
// clock. Subtests run in parallel, each on a queue of its own.
package queuetest

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

// Options describe what a driver cannot do, so the suite checks the rest.
type Options struct {
	// Resolution is the coarsest timeout the driver honours (SQS counts whole
	// seconds). The suite's time unit is the larger of this and 300 ms.
	Resolution time.Duration
	// NoOldestAge says Depth and DLQDepth leave OldestAge zero.
	NoOldestAge bool
	// AsyncRedriveAll says Redrive("") only starts a move that completes
	// later and returns an estimate; the suite then waits for the messages
	// instead of checking the count.
	AsyncRedriveAll bool
	// OpenAgain, if set, opens a second handle on the store behind q without
	// closing q. The durability test reads through it what Send acknowledged.
	OpenAgain func(t *testing.T, q queue.Queue) queue.Queue
}

// long is a visibility that outlasts any test: a message received with it
// stays hidden unless the test changes that.
const long = time.Minute

// Run runs the suite. open must return a new, empty queue (with an empty
// dead-letter queue) and release it when t ends.
func Run(t *testing.T, open func(t *testing.T) queue.Queue, opts Options) {
	s := &suite{open: open, opts: opts, unit: max(opts.Resolution, 300*time.Millisecond)}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"SendReceive", s.sendReceive},
		{"Durability", s.durability},
		{"ReceiveMax", s.receiveMax},
		{"Visibility", s.visibility},
		{"Delete", s.delete},
		{"DeleteStaleReceipt", s.deleteStale},
		{"ChangeVisibility", s.changeVisibility},
		{"ChangeVisibilityStaleReceipt", s.changeVisibilityStale},
		{"DeadLetter", s.deadLetter},
		{"DeadLetterStaleReceipt", s.deadLetterStale},
		{"Depth", s.depth},
		{"DLQDepth", s.dlqDepth},
		{"ListDeadLetters", s.listDeadLetters},
		{"RedriveOne", s.redriveOne},
		{"RedriveUnknown", s.redriveUnknown},
		{"RedriveAll", s.redriveAll},
		{"Concurrent", s.concurrent},
		{"SendDeadLetter", s.sendDeadLetter},
		{"Limits", s.limits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer failOnPanic(t)
			tc.run(t)
		})
	}
}

// failOnPanic turns a driver panic into a failure of the one subtest, so the
// other results are still reported.
func failOnPanic(t *testing.T) {
	if r := recover(); r != nil {
		t.Fatalf("driver panicked: %v\n%s", r, debug.Stack())
	}
}

type suite struct {
	open func(t *testing.T) queue.Queue
	opts Options
	unit time.Duration
}

// eventAttributes returns the attributes the webhook puts on every event.
func eventAttributes() map[string]string {
	return map[string]string{
		queue.AttrDelivery:   "7d8f7f5e-2c4b-4b43-9d1e-5c1f4b2a9e10",
		queue.AttrTimestamp:  "1764325200",
		queue.AttrSignature:  "sha256=3f1c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a",
		queue.AttrReceivedAt: "2026-11-28T10:20:00.123456789Z",
		queue.AttrAccount:    "42",
		queue.AttrEvent:      "message_created",
	}
}

func with(attrs map[string]string, kv ...string) map[string]string {
	out := maps.Clone(attrs)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// nonEmpty drops empty values: SQS cannot carry them, and a lookup cannot
// tell an empty attribute from an absent one.
func nonEmpty(attrs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range attrs {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func send(t *testing.T, q queue.Queue, body string, attrs map[string]string) string {
	t.Helper()
	id, err := q.Send(t.Context(), []byte(body), attrs)
	require.NoError(t, err, "Send")
	require.NotEmpty(t, id, "Send id")
	return id
}

func receiveOne(t *testing.T, q queue.Queue, vis time.Duration) queue.Message {
	t.Helper()
	ms, err := q.Receive(t.Context(), 1, vis)
	require.NoError(t, err, "Receive")
	require.Len(t, ms, 1, "Receive(1) with a visible message")
	return ms[0]
}

func assertNone(t *testing.T, q queue.Queue, msg string) {
	t.Helper()
	ms, err := q.Receive(t.Context(), 10, long)
	require.NoError(t, err, "Receive")
	assert.Empty(t, ms, msg)
}

// receiveN receives until n messages arrived or a deadline passed, holding
// each for vis.
func receiveN(t *testing.T, q queue.Queue, n int, vis time.Duration) []queue.Message {
	t.Helper()
	var out []queue.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		ms, err := q.Receive(t.Context(), min(n-len(out), 10), vis)
		require.NoError(t, err, "Receive")
		if len(ms) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		out = append(out, ms...)
	}
	require.Len(t, out, n, "messages received before the deadline")
	return out
}

// deadLetter sends body, receives it and dead-letters it; it returns the id
// the message had in the main queue.
func deadLetter(t *testing.T, q queue.Queue, body string, attrs map[string]string, reason string, attempts int) string {
	t.Helper()
	id := send(t, q, body, attrs)
	m := receiveOne(t, q, long)
	require.Equal(t, id, m.ID)
	require.NoError(t, q.DeadLetter(t.Context(), m, reason, attempts), "DeadLetter")
	return id
}

func depth(t *testing.T, f func(context.Context) (queue.Depth, error)) queue.Depth {
	t.Helper()
	d, err := f(t.Context())
	require.NoError(t, err)
	return d
}

// counts drops OldestAge, which the tests check on its own.
func counts(d queue.Depth) queue.Depth {
	d.OldestAge = 0
	return d
}

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

func (s *suite) visibility(t *testing.T) {
	q := s.open(t)
	id := send(t, q, `{"v":1}`, eventAttributes())
	first := receiveOne(t, q, s.unit)
	assert.Equal(t, 1, first.ReceiveCount)
	assertNone(t, q, "a received message is hidden for its visibility")
	time.Sleep(s.unit + s.unit/2)
	second := receiveOne(t, q, long)
	assert.Equal(t, id, second.ID)
	assert.Equal(t, 2, second.ReceiveCount)
	assert.NotEqual(t, first.ReceiptHandle, second.ReceiptHandle, "each receive gets a new receipt handle")
	assert.Equal(t, `{"v":1}`, string(second.Body))
	assert.Equal(t, eventAttributes(), second.Attributes)
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
			require.NoError(t, q.ChangeVisibility(t.Context(), m.ReceiptHandle, tc.d))
			changed := time.Now()
			if tc.d > 0 {
				time.Sleep(tc.d / 2)
				assertNone(t, q, "hidden until the new visibility ends")
			}
			time.Sleep(time.Until(changed.Add(tc.d + s.unit/2)))
			again := receiveOne(t, q, long)
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

func (s *suite) depth(t *testing.T) {
	q := s.open(t)
	assert.Equal(t, queue.Depth{}, depth(t, q.Depth), "empty queue")
	for i := range 3 {
		send(t, q, fmt.Sprintf(`{"n":%d}`, i), nil)
	}
	wait := s.unit / 3
	time.Sleep(wait)
	d := depth(t, q.Depth)
	assert.Equal(t, queue.Depth{Visible: 3}, counts(d))
	s.checkAge(t, d, wait)

	m := receiveOne(t, q, long)
	assert.Equal(t, queue.Depth{Visible: 2, InFlight: 1}, counts(depth(t, q.Depth)))
	require.NoError(t, q.ChangeVisibility(t.Context(), m.ReceiptHandle, 0))
	assert.Equal(t, queue.Depth{Visible: 3}, counts(depth(t, q.Depth)), "visible again after a zero visibility")
	m = receiveOne(t, q, long)
	require.NoError(t, q.Delete(t.Context(), m.ReceiptHandle))
	assert.Equal(t, queue.Depth{Visible: 2}, counts(depth(t, q.Depth)))
	assert.Equal(t, queue.Depth{}, depth(t, q.DLQDepth), "the DLQ is separate")
}

func (s *suite) checkAge(t *testing.T, d queue.Depth, atLeast time.Duration) {
	t.Helper()
	if s.opts.NoOldestAge {
		assert.Zero(t, d.OldestAge, "driver reports no oldest age")
		return
	}
	assert.GreaterOrEqual(t, d.OldestAge, atLeast, "oldest age")
	assert.Less(t, d.OldestAge, time.Minute, "oldest age")
}

func (s *suite) dlqDepth(t *testing.T) {
	q := s.open(t)
	assert.Equal(t, queue.Depth{}, depth(t, q.DLQDepth), "empty DLQ")
	deadLetter(t, q, `{"n":1}`, eventAttributes(), "bad", 5)
	deadLetter(t, q, `{"n":2}`, eventAttributes(), "bad", 5)
	wait := s.unit / 3
	time.Sleep(wait)
	d := depth(t, q.DLQDepth)
	assert.Equal(t, queue.Depth{Visible: 2}, counts(d))
	s.checkAge(t, d, wait)
	assert.Equal(t, queue.Depth{}, depth(t, q.Depth), "the main queue is empty")
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
	deadline := time.Now().Add(10 * time.Second)
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

// limits checks that every driver refuses what SQS refuses, with
// queue.ErrUnfit and nothing stored, and takes what SQS takes.
func (s *suite) limits(t *testing.T) {
	q := s.open(t)
	attrs := eventAttributes()
	size := 0
	for k, v := range nonEmpty(attrs) {
		size += len(k) + len("String") + len(v)
	}
	atLimit := strings.Repeat("a", queue.MaxMessageSize-size)
	refused := []struct {
		name  string
		body  string
		attrs map[string]string
	}{
		{"one byte over with attributes", atLimit + "a", attrs},
		{"raw U+FFFE", "{\"c\":\"\uFFFE\"}", attrs},
		{"raw U+FFFF", "{\"c\":\"\uFFFF\"}", attrs},
		{"control character", "{\"c\":\"\x01\"}", attrs},
		{"invalid UTF-8", "{\"c\":\"\xff\"}", attrs},
		{"empty body", "", attrs},
		{"control character in an attribute", `{}`, with(attrs, queue.AttrDelivery, "a\x00b")},
	}
	for _, tc := range refused {
		_, err := q.Send(t.Context(), []byte(tc.body), tc.attrs)
		assert.ErrorIs(t, err, queue.ErrUnfit, "Send: %s", tc.name)
		_, err = q.SendDeadLetter(t.Context(), []byte(tc.body), tc.attrs, "r")
		assert.ErrorIs(t, err, queue.ErrUnfit, "SendDeadLetter: %s", tc.name)
	}
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)), "nothing refused was stored")
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.DLQDepth)), "nothing refused was stored")

	// JSON's escape of U+FFFF is plain ASCII; U+FFFD and the three
	// control characters SQS allows go through raw.
	for _, body := range []string{atLimit, `{"c":"\uffff"}`, "{\"c\":\"\uFFFD\t\r\n\U0001F600\"}"} {
		send(t, q, body, attrs)
	}
	got := receiveN(t, q, 3, long)
	lens := map[int]bool{}
	for _, m := range got {
		lens[len(m.Body)] = true
	}
	assert.True(t, lens[len(atLimit)], "a message of exactly the limit, attributes included, is taken whole")
}
