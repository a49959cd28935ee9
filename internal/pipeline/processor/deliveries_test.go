package processor_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// poisonStage fails the events of the delivery ids it names, as often as
// it says.
type poisonStage struct {
	mu    sync.Mutex
	fails map[string]int
}

func (s *poisonStage) Name() string { return "poison" }
func (s *poisonStage) Run(_ context.Context, ev *processor.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails[ev.DeliveryID] > 0 {
		s.fails[ev.DeliveryID]--
		return errors.New("chatwoot answered 503")
	}
	return nil
}

func (e *env) deliveries(t *testing.T, q store.DeliveryQuery) []store.Delivery {
	t.Helper()
	page, err := e.st.Deliveries(context.Background(), q)
	require.NoError(t, err)
	return page.Deliveries
}

type logLine struct {
	outcome  string
	attempt  int
	redriven bool
}

func lines(ds []store.Delivery) []logLine {
	var out []logLine
	for i := len(ds) - 1; i >= 0; i-- { // oldest first, as a story reads
		out = append(out, logLine{ds[i].Outcome, ds[i].Attempt, ds[i].Redriven})
	}
	return out
}

// TestDeliveryLog: every outcome the processor reaches is in the log, with
// the ids the edge gave and the conversation the event names.
func TestDeliveryLog(t *testing.T) {
	e := newEnv(t, &poisonStage{fails: map[string]int{"poison": 3}})
	e.send(t, "02_message_created_incoming.json", "d1")
	e.send(t, "02_message_created_incoming.json", "d1")        // sent again
	e.send(t, "02_message_created_incoming.json", "d2")        // re-emitted with a new delivery id
	e.send(t, "05_message_created_agent_reply.json", "poison") // fails three times
	e.drain(t)

	tests := []struct {
		delivery string
		want     []logLine
	}{
		{"d1", []logLine{{outcome: store.DeliveryProcessed}, {outcome: store.DeliveryDuplicate}}},
		{"d2", []logLine{{outcome: store.DeliveryDuplicate}}},
		{"poison", []logLine{{store.DeliveryFailed, 1, false}, {store.DeliveryFailed, 2, false}, {store.DeliveryDeadLettered, 3, false}}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, lines(e.deliveries(t, store.DeliveryQuery{Delivery: tc.delivery})), tc.delivery)
	}

	dead := e.deliveries(t, store.DeliveryQuery{Outcome: store.DeliveryDeadLettered})
	require.Len(t, dead, 1)
	d := dead[0]
	assert.Equal(t, "poison", d.ID)
	assert.Equal(t, "message_created", d.Event)
	assert.Equal(t, int64(7), d.AccountID)
	assert.Equal(t, int64(1423), d.ConversationID)
	assert.Contains(t, d.Reason, "chatwoot answered 503")
	assert.NotZero(t, d.MessageID)
	assert.False(t, d.ReceivedAt.IsZero())
	assert.False(t, d.At.Before(d.ReceivedAt))

	dl, err := e.q.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dl, 1)
	_, err = e.q.Redrive(context.Background(), dl[0].ID)
	require.NoError(t, err)
	e.drain(t)
	assert.Equal(t, []logLine{{store.DeliveryFailed, 1, false}, {store.DeliveryFailed, 2, false}, {store.DeliveryDeadLettered, 3, false},
		{store.DeliveryProcessed, 0, true}}, lines(e.deliveries(t, store.DeliveryQuery{Delivery: "poison"})))
	conv := e.deliveries(t, store.DeliveryQuery{Conversation: &conversation.Key{AccountID: 7, ConversationID: 1423}})
	assert.Len(t, conv, 7, "the conversation's log holds every entry of its deliveries")
	redriven := e.deliveries(t, store.DeliveryQuery{Outcome: store.DeliveryRedriven})
	require.Len(t, redriven, 1)
	assert.Positive(t, redriven[0].Processing)
}

// seenCounter counts idempotency reads.
type seenCounter struct {
	store.Store
	n atomic.Int64
}

func (s *seenCounter) Seen(ctx context.Context, keys ...string) (map[string]string, error) {
	s.n.Add(1)
	return s.Store.Seen(ctx, keys...)
}

// TestIdempotencyReadOnlyWhenTheMergeChangedNothing: an event that changes
// its conversation cannot have been completed, and is not looked up; a
// copy changes nothing, is looked up, and found.
func TestIdempotencyReadOnlyWhenTheMergeChangedNothing(t *testing.T) {
	e := newEnv(t)
	seen := &seenCounter{Store: e.st}
	e.p.Store = seen
	e.send(t, "02_message_created_incoming.json", "d1")
	e.drain(t)
	assert.Zero(t, seen.n.Load(), "a new message changes its conversation")
	e.send(t, "02_message_created_incoming.json", "d2")
	e.drain(t)
	assert.Equal(t, int64(1), seen.n.Load(), "its copy does not, and is read")
	assert.Equal(t, []logLine{{outcome: store.DeliveryDuplicate}}, lines(e.deliveries(t, store.DeliveryQuery{Delivery: "d2"})))
}
