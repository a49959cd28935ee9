package processor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/support/conversation"
)

type env struct {
	p  *processor.Processor
	q  *sqlitequeue.Queue
	st *sqlitestore.Store
}

func newEnv(t *testing.T, stages ...processor.Stage) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "q.db"), "events", sqlitequeue.Options{})
	require.NoError(t, err)
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "s.db"))
	require.NoError(t, err)
	t.Cleanup(func() { q.Close(); st.Close() })
	return &env{q: q, st: st, p: &processor.Processor{
		Store: st, Queue: q, Stages: stages, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now,
		Backoff: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond},
	}}
}

func fixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

func (e *env) send(t *testing.T, name, delivery string) {
	t.Helper()
	_, err := e.q.Send(context.Background(), fixture(t, name), map[string]string{
		queue.AttrDelivery: delivery, queue.AttrAccount: "7", queue.AttrReceivedAt: time.Now().UTC().Format(time.RFC3339Nano),
	})
	require.NoError(t, err)
}

// drain runs the event-source-mapping loop until the queue is empty, the
// retries' backoffs included.
func (e *env) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var d queue.Depth
	waitfor.Until(t, func() bool {
		msgs, err := e.q.Receive(ctx, 10, 30*time.Second)
		require.NoError(t, err)
		if len(msgs) == 0 {
			d, err = e.q.Depth(ctx)
			require.NoError(t, err)
			return d.Visible+d.InFlight+d.Delayed == 0
		}
		failed := map[string]bool{}
		for _, id := range e.p.Process(ctx, msgs) {
			failed[id] = true
		}
		for _, m := range msgs {
			if !failed[m.ID] {
				require.NoError(t, e.q.Delete(ctx, m.ReceiptHandle))
			}
		}
		return false
	}, "the queue drained (depth %s)", func() string { return fmt.Sprintf("%+v", d) })
}

func (e *env) counters(t *testing.T) map[string]int64 {
	c, err := e.st.Counters(context.Background(), stats.Day(time.Now()))
	require.NoError(t, err)
	return c
}

func (e *env) conversation(t *testing.T) conversation.State {
	s, ok, err := e.st.Conversation(context.Background(), conversation.Key{AccountID: 7, ConversationID: 1423})
	require.NoError(t, err)
	require.True(t, ok)
	return s
}

type countingStage struct {
	mu    sync.Mutex
	runs  map[string]int
	fails int32 // fail this many runs first
}

func (s *countingStage) Name() string { return "counting" }
func (s *countingStage) Run(_ context.Context, ev *processor.Event) error {
	if atomic.AddInt32(&s.fails, -1) >= 0 {
		return errors.New("chatwoot answered 503")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = map[string]int{}
	}
	s.runs[ev.DeliveryID]++
	return nil
}

func TestStoryProcessed(t *testing.T) {
	e := newEnv(t)
	for i, f := range []string{"05_message_created_agent_reply.json", "02_message_created_incoming.json", "04_message_created_private_note.json",
		"01_conversation_created.json", "07_conversation_status_changed.json", "03_message_created_bot.json"} {
		e.send(t, f, "d"+string(rune('a'+i)))
	}
	e.drain(t)
	s := e.conversation(t)
	assert.Equal(t, "resolved", s.Status)
	assert.Equal(t, 6*time.Minute+24*time.Second, s.FirstResponseTime())
	c := e.counters(t)
	assert.Equal(t, int64(6), c[stats.Processed])
	assert.Zero(t, c[stats.Duplicates])
	p := stats.Processing.Percentiles(c, 0.5)
	assert.Greater(t, p[0], 0.0, "processing time recorded")
}

func TestDuplicates(t *testing.T) {
	stage := &countingStage{}
	e := newEnv(t, stage)
	e.send(t, "02_message_created_incoming.json", "delivery-1")
	e.send(t, "02_message_created_incoming.json", "delivery-1") // redelivered by the sender
	e.send(t, "02_message_created_incoming.json", "delivery-2") // Chatwoot double-emit: new delivery id
	e.drain(t)
	c := e.counters(t)
	assert.Equal(t, int64(1), c[stats.Processed])
	assert.Equal(t, int64(2), c[stats.Duplicates])
	assert.Equal(t, int64(3), c[stats.Received], "every delivery was received and accepted")
	assert.Equal(t, int64(3), c[stats.Accepted])
	total := 0
	for _, n := range stage.runs {
		total += n
	}
	assert.Equal(t, 1, total, "stages ran once")
}

func TestRetryThenSuccess(t *testing.T) {
	stage := &countingStage{fails: 2}
	e := newEnv(t, stage)
	e.send(t, "02_message_created_incoming.json", "d1")
	e.drain(t)
	c := e.counters(t)
	assert.Equal(t, int64(1), c[stats.Processed])
	assert.Equal(t, int64(2), c[stats.Retried])
	assert.Equal(t, int64(2), c[stats.Failed])
	assert.Zero(t, c[stats.DeadLettered])
	dl, err := e.q.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, dl)
}

func TestDeadLetterAndRedrive(t *testing.T) {
	stage := &countingStage{fails: 3}
	e := newEnv(t, stage)
	e.send(t, "02_message_created_incoming.json", "d1")
	e.drain(t)
	c := e.counters(t)
	assert.Zero(t, c[stats.Processed])
	assert.Equal(t, int64(3), c[stats.Failed])
	assert.Equal(t, int64(2), c[stats.Retried])
	assert.Equal(t, int64(1), c[stats.DeadLettered])
	assert.Equal(t, int64(1), c[stats.Received], "counted as received when it reached the DLQ")
	assert.Equal(t, int64(1), c[stats.Accepted])
	dl, err := e.q.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dl, 1)
	assert.Equal(t, 3, dl[0].Attempts)
	assert.Contains(t, dl[0].Reason, "chatwoot answered 503")
	assert.Equal(t, fixture(t, "02_message_created_incoming.json"), dl[0].Body, "original body kept")
	assert.Equal(t, "d1", dl[0].Attributes[queue.AttrDelivery], "original headers kept")

	n, err := e.q.Redrive(context.Background(), dl[0].ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	e.drain(t)
	c = e.counters(t)
	assert.Equal(t, int64(1), c[stats.Processed], "redriven message gets fresh attempts and succeeds")
	assert.Equal(t, int64(1), c[stats.Received], "and is not received twice")
	assert.Equal(t, int64(1), c[stats.Accepted])
}

// TestDeadLettersCountOnTheDayReceived: a dead letter, and its recovery
// after a redrive, are counted on the day its webhook was received, beside
// its received and accepted counts, whatever day they happen; a redriven
// message that fails again is not a second dead letter.
func TestDeadLettersCountOnTheDayReceived(t *testing.T) {
	stage := &countingStage{fails: 6}
	e := newEnv(t, stage)
	now := time.Now().UTC()
	e.p.Now = func() time.Time { return now }
	received := now.Add(-24 * time.Hour)
	yesterday, today := stats.Day(received), stats.Day(now)
	_, err := e.q.Send(context.Background(), fixture(t, "02_message_created_incoming.json"), map[string]string{
		queue.AttrDelivery: "d1", queue.AttrAccount: "7", queue.AttrReceivedAt: received.Format(time.RFC3339Nano),
	})
	require.NoError(t, err)
	counters := func(day string) map[string]int64 {
		c, err := e.st.Counters(context.Background(), day)
		require.NoError(t, err)
		return c
	}
	redrive := func() {
		dl, err := e.q.ListDeadLetters(context.Background(), 10)
		require.NoError(t, err)
		require.Len(t, dl, 1)
		_, err = e.q.Redrive(context.Background(), dl[0].ID)
		require.NoError(t, err)
	}
	arrival := map[string]int64{stats.Received: 1, stats.Accepted: 1, stats.DeadLettered: 1}

	e.drain(t)
	assert.Equal(t, arrival, counters(yesterday), "dead-lettered today, counted on the day it came")
	assert.Equal(t, map[string]int64{stats.Failed: 3, stats.Retried: 2}, counters(today))

	redrive()
	e.drain(t)
	assert.Equal(t, arrival, counters(yesterday), "dead-lettered again after a redrive: the same dead letter")
	assert.Equal(t, map[string]int64{stats.Failed: 6, stats.Retried: 4}, counters(today))

	redrive()
	e.drain(t)
	arrival[stats.Recovered] = 1
	assert.Equal(t, arrival, counters(yesterday), "recovered beside its dead letter")
	c := counters(today)
	assert.Equal(t, int64(1), c[stats.Processed])
	assert.Zero(t, c[stats.Recovered]+c[stats.Received])
}

type recordingQueue struct {
	mu         sync.Mutex
	visibility []time.Duration
	dead       []int
}

func (r *recordingQueue) ChangeVisibility(_ context.Context, _ string, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.visibility = append(r.visibility, d)
	return nil
}

func (r *recordingQueue) DeadLetter(_ context.Context, _ queue.Message, _ string, attempts int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = append(r.dead, attempts)
	return nil
}

// TestDefaultBackoff checks the production policy (1 s, 2 s, 4 s would make
// the queue-driven tests slow, so the durations are checked at the port).
func TestDefaultBackoff(t *testing.T) {
	e := newEnv(t, &countingStage{fails: 100})
	rq := &recordingQueue{}
	e.p.Queue, e.p.Backoff = rq, nil
	msg := queue.Message{ID: "m1", ReceiptHandle: "r1", Body: fixture(t, "02_message_created_incoming.json"),
		Attributes: map[string]string{queue.AttrAccount: "7"}, ReceiveCount: 1, SentAt: time.Now()}
	var failures []int
	for i := 0; i < 4; i++ {
		failures = append(failures, len(e.p.Process(context.Background(), []queue.Message{msg})))
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, rq.visibility, "attempts 1 and 2 back off 1 s then 2 s")
	assert.Equal(t, []int{1, 1, 0, 0}, failures, "the third failure goes to the DLQ and is not retried")
	assert.Equal(t, []int{3, 4}, rq.dead, "a redelivery after an unfinished move moves again")
	assert.Equal(t, int64(1), e.counters(t)[stats.DeadLettered], "but is counted once")
}

func TestThrottledReceivesDoNotBurnAttempts(t *testing.T) {
	stage := &countingStage{fails: 1}
	e := newEnv(t, stage)
	e.send(t, "02_message_created_incoming.json", "d1")
	ctx := context.Background()
	// Three receives whose invocation never ran (throttled, crashed): the
	// message reappears with a high receive count but no recorded attempts.
	for i := 0; i < 3; i++ {
		msgs, err := e.q.Receive(ctx, 1, time.Millisecond)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		time.Sleep(5 * time.Millisecond)
	}
	e.drain(t)
	c := e.counters(t)
	assert.Equal(t, int64(1), c[stats.Processed])
	assert.Zero(t, c[stats.DeadLettered])
}

func TestDecodeFailureIsRetriedThenDeadLettered(t *testing.T) {
	e := newEnv(t)
	_, err := e.q.Send(context.Background(), []byte(`{"event":"message_created","id":"x"}`), map[string]string{queue.AttrDelivery: "bad"})
	require.NoError(t, err)
	e.drain(t)
	dl, err := e.q.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dl, 1)
	assert.Contains(t, dl[0].Reason, "decode")
}

// withClaims gives the processor a claim check on a file bucket.
func (e *env) withClaims(t *testing.T) *claim.Check {
	t.Helper()
	b, err := fileblob.New(filepath.Join(t.TempDir(), "claims"))
	require.NoError(t, err)
	c := &claim.Check{Bucket: b, Prefix: claim.Prefix}
	e.p.Claims = c
	return c
}

// sendClaimed sends a fixture by claim check, as the edge does with a body
// the queue cannot carry.
func (e *env) sendClaimed(t *testing.T, c *claim.Check, body []byte, delivery string) {
	t.Helper()
	send := func(ctx context.Context, b []byte, a map[string]string) (string, error) {
		if !claim.Claimed(a) {
			return "", queue.ErrUnfit // as for a body over 1 MiB
		}
		return e.q.Send(ctx, b, a)
	}
	_, claimed, err := c.Send(context.Background(), send, body, map[string]string{
		queue.AttrDelivery: delivery, queue.AttrAccount: "7", queue.AttrReceivedAt: time.Now().UTC().Format(time.RFC3339Nano),
	})
	require.NoError(t, err)
	require.True(t, claimed)
}

func objects(t *testing.T, c *claim.Check) []string {
	t.Helper()
	keys, err := c.Bucket.List(context.Background(), claim.Prefix, 0)
	require.NoError(t, err)
	return keys
}

func TestClaimCheckedEventsAreProcessedAndReleased(t *testing.T) {
	stage := &countingStage{}
	e := newEnv(t, stage)
	c := e.withClaims(t)
	body := fixture(t, "02_message_created_incoming.json")
	e.sendClaimed(t, c, body, "d1")
	e.sendClaimed(t, c, body, "d2") // Chatwoot's double emit: a second object
	require.Len(t, objects(t, c), 2)
	e.drain(t)
	cnt := e.counters(t)
	assert.Equal(t, int64(1), cnt[stats.Processed])
	assert.Equal(t, int64(1), cnt[stats.Duplicates])
	assert.Equal(t, 1, stage.runs["d1"]+stage.runs["d2"], "stages ran once")
	assert.Empty(t, objects(t, c), "both bodies released once their events completed")
	assert.NotZero(t, e.conversation(t).FirstCustomerMessageAt, "the body read back was merged")
}

// TestClaimRedeliveredAfterRelease: a message whose delete was lost comes
// back after its body was released; its completion tells it apart from a
// lost body.
func TestClaimRedeliveredAfterRelease(t *testing.T) {
	e := newEnv(t)
	c := e.withClaims(t)
	e.sendClaimed(t, c, fixture(t, "02_message_created_incoming.json"), "d1")
	ctx := context.Background()
	msgs, err := e.q.Receive(ctx, 10, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Empty(t, e.p.Process(ctx, msgs))
	require.Empty(t, objects(t, c))

	assert.Empty(t, e.p.Process(ctx, msgs), "a redelivery of a completed event is done, not failed (the same message again)")
	assert.Equal(t, int64(1), e.counters(t)[stats.Processed])
}

func TestClaimWithoutItsBodyFails(t *testing.T) {
	e := newEnv(t)
	c := e.withClaims(t)
	e.sendClaimed(t, c, fixture(t, "02_message_created_incoming.json"), "d1")
	for _, k := range objects(t, c) {
		require.NoError(t, c.Bucket.Delete(context.Background(), k))
	}
	e.drain(t)
	dl, err := e.q.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dl, 1, "a lost body is an error to review, not a silent success")
	assert.Contains(t, dl[0].Reason, "no longer stored")
	assert.True(t, claim.Claimed(dl[0].Attributes), "the dead letter still names its object")
}
