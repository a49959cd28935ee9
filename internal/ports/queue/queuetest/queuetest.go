// Package queuetest is the conformance suite for queue.Queue drivers. Every
// driver runs it from its own tests, so the webhook, the processor and the
// tools can rely on one set of semantics whichever backend is wired in.
//
// The suite runs on real time with short timeouts: a driver need not expose a
// clock. Subtests run in parallel, each on a queue of its own. A check that
// something is still hidden is made only when the test can tell, on its own
// clock, that the time it is hidden for has not passed yet: on a busy
// machine a step can take longer than a visibility timeout.

package queuetest

import (
	"context"
	"maps"
	"runtime/debug"
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
const long = time.Hour

// hang bounds a wait for messages, only so that a driver that never delivers
// them fails the test instead of hanging it: far beyond what a busy machine
// needs.
const hang = 5 * time.Minute

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

// receiveN receives until n messages arrived (or hang passed), holding each
// for vis.
func receiveN(t *testing.T, q queue.Queue, n int, vis time.Duration) []queue.Message {
	t.Helper()
	var out []queue.Message
	deadline := time.Now().Add(hang)
	for len(out) < n && time.Now().Before(deadline) {
		ms, err := q.Receive(t.Context(), min(n-len(out), 10), vis)
		require.NoError(t, err, "Receive")
		if len(ms) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		out = append(out, ms...)
	}
	require.Len(t, out, n, "messages received within %v", hang)
	return out
}

// hiddenFor checks that q delivers nothing while a visibility of d, which
// started no earlier than since, still runs. Reached after d has passed (a
// slow step), the check proves nothing and is not made; what the receive got
// then, held for long, is returned.
func hiddenFor(t *testing.T, q queue.Queue, since time.Time, d time.Duration, msg string) []queue.Message {
	t.Helper()
	ms, err := q.Receive(t.Context(), 10, long)
	require.NoError(t, err, "Receive")
	if late := time.Since(since); late >= d {
		t.Logf("not checked (%s): checked %v after the visibility of %v started", msg, late, d)
		return ms
	}
	assert.Empty(t, ms, msg)
	return ms
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
