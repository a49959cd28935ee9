package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// logBase is recent enough to be inside the log's retention at any run:
// the log never lists what is older than that, whatever a query says.
func logBase() time.Time { return time.Now().UTC().Add(-time.Hour).Truncate(time.Second) }

// entry is a delivery log entry of conversation conv (0: none) of account 7.
func entry(id string, conv int64, outcome string, at time.Time) store.Delivery {
	return store.Delivery{ID: id, MessageID: "msg-" + id, Event: "message_created", AccountID: 7, ConversationID: conv,
		ReceivedAt: at.Add(-300 * time.Millisecond), At: at, Outcome: outcome, Processing: 42 * time.Millisecond}
}

// allPages reads every page of q, pageSize entries at a time, checking
// that no page is larger and that only the last one has no cursor.
func allPages(t *testing.T, st store.Store, q store.DeliveryQuery, pageSize int) []store.Delivery {
	t.Helper()
	q.Limit = pageSize
	var out []store.Delivery
	for range 100 {
		page, err := st.Deliveries(t.Context(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Deliveries), pageSize, "page size")
		out = append(out, page.Deliveries...)
		if page.Next == "" {
			return out
		}
		require.NotEmpty(t, page.Deliveries, "a page with a cursor has entries")
		q.Cursor = page.Next
	}
	t.Fatal("more than 100 pages")
	return nil
}

func ids(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s/%s", d.ID, d.Outcome))
	}
	return out
}

// testDeliveries logs entries apart (LogDeliveries) and lists them back
// by every filter, whole and page by page.
func (s suite) testDeliveries(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	at := logBase()
	failed := entry("d1", 100, store.DeliveryFailed, at)
	failed.Attempt, failed.Reason = 1, "stage support: chatwoot api: 502"
	dead := entry("d1", 100, store.DeliveryDeadLettered, at.Add(time.Second))
	dead.Attempt, dead.Reason = 3, "stage support: chatwoot api: 502"
	redriven := entry("d1", 100, store.DeliveryRedelivered, at.Add(2*time.Second))
	redriven.Redriven = true
	ignored := entry("d2", 200, store.DeliveryIgnored, at.Add(3*time.Second))
	ignored.Event, ignored.MessageID, ignored.Processing = "conversation_typing_on", "", 0
	invalid := entry("derived-0123456789abcdef0123456789abcdef", 0, store.DeliveryInvalid, at.Add(4*time.Second))
	invalid.Event, invalid.AccountID, invalid.Reason = "", 7, "not_json: invalid character 'x' at offset 1"
	uuid := entry("3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", 300, store.DeliveryRedelivered, at.Add(5*time.Second))
	uuid.MessageID, uuid.Backfilled = "5fb5b46e-6a54-4cf5-8e8f-4a3a2f5b9b6e", true
	other := entry("d3", 100, store.DeliveryFailed, at.Add(6*time.Second))
	other.AccountID = 8 // conversation 100 of another account

	// Two calls, as the edge and the processor write: the newest last.
	require.NoError(t, st.LogDeliveries(ctx, failed, dead))
	require.NoError(t, st.LogDeliveries(ctx))
	require.NoError(t, st.LogDeliveries(ctx, redriven, ignored, invalid, uuid, other))

	conv100 := &conversation.Key{AccountID: 7, ConversationID: 100}
	tests := []struct {
		name string
		q    store.DeliveryQuery
		want []store.Delivery
	}{
		{"all, newest first", store.DeliveryQuery{}, []store.Delivery{other, uuid, invalid, ignored, redriven, dead, failed}},
		{"one conversation of one account", store.DeliveryQuery{Conversation: conv100}, []store.Delivery{redriven, dead, failed}},
		{"a conversation with none", store.DeliveryQuery{Conversation: &conversation.Key{AccountID: 7, ConversationID: 999}}, nil},
		{"since", store.DeliveryQuery{Since: at.Add(4 * time.Second)}, []store.Delivery{other, uuid, invalid}},
		{"a conversation since", store.DeliveryQuery{Conversation: conv100, Since: at.Add(time.Second)}, []store.Delivery{redriven, dead}},
		{"an outcome", store.DeliveryQuery{Outcome: store.DeliveryFailed}, []store.Delivery{other, failed}},
		{"a rare outcome", store.DeliveryQuery{Outcome: store.DeliveryDeadLettered}, []store.Delivery{dead}},
		{"ignored", store.DeliveryQuery{Outcome: store.DeliveryIgnored}, []store.Delivery{ignored}},
		{"invalid", store.DeliveryQuery{Outcome: store.DeliveryInvalid}, []store.Delivery{invalid}},
		{"an outcome of a redriven message", store.DeliveryQuery{Outcome: store.DeliveryRedelivered}, []store.Delivery{uuid, redriven}},
		{"redriven", store.DeliveryQuery{Outcome: store.DeliveryRedriven}, []store.Delivery{redriven}},
		{"one delivery", store.DeliveryQuery{Delivery: "d1"}, []store.Delivery{redriven, dead, failed}},
		{"one delivery in its conversation", store.DeliveryQuery{Delivery: "d1", Conversation: conv100, Outcome: store.DeliveryFailed},
			[]store.Delivery{failed}},
		{"an outcome nobody had", store.DeliveryQuery{Outcome: store.DeliveryProcessed}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := st.Deliveries(ctx, tc.q)
			require.NoError(t, err)
			assert.Empty(t, page.Next, "one page holds them")
			assert.Equal(t, ids(tc.want), ids(page.Deliveries), "order")
			if len(tc.want) == len(page.Deliveries) {
				for i := range tc.want {
					assert.Equal(t, tc.want[i], utcDelivery(page.Deliveries[i]), "every field round trips")
				}
			}
			for _, size := range []int{1, 2, 3} {
				assert.Equal(t, ids(tc.want), ids(allPages(t, st, tc.q, size)), "in pages of %d", size)
			}
		})
	}

	_, err := st.Deliveries(ctx, store.DeliveryQuery{Cursor: "not a cursor"})
	assert.ErrorIs(t, err, store.ErrBadCursor)
}

// testDeliveriesRetention: what is older than the retention is not listed,
// even when since asks for it.
func (s suite) testDeliveriesRetention(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	old := entry("old", 100, store.DeliveryFailed, time.Now().Add(-store.DeliveryRetention-time.Hour))
	recent := entry("recent", 100, store.DeliveryFailed, logBase())
	require.NoError(t, st.LogDeliveries(ctx, old, recent))
	for _, q := range []store.DeliveryQuery{{}, {Since: old.At.Add(-time.Hour)}, {Conversation: &conversation.Key{AccountID: 7, ConversationID: 100}}} {
		page, err := st.Deliveries(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, []string{"recent/failed"}, ids(page.Deliveries), "%+v", q)
	}
}

// testDeliveriesComplete: a completion's entry is logged with it, and only
// when it is written; its keys, scoped to a conversation, stay keys.
func (s suite) testDeliveriesComplete(t *testing.T) {
	s.needTransactions(t)
	ctx := t.Context()
	st := s.open(t)
	at := logBase()
	k := conversation.Key{AccountID: 7, ConversationID: 100}
	live := time.Now().Add(time.Hour)
	done := func(d store.Delivery, keys ...string) store.Completion {
		return store.Completion{Keys: keys, Owner: d.MessageID, ExpiresAt: live, Delivery: &d,
			Counts: map[string]map[string]int64{"2026-03-01": {"processed": 1}}}
	}
	processed := entry("d1", 100, store.DeliveryProcessed, at)
	duplicate := entry("d2", 100, store.DeliveryDuplicate, at.Add(time.Second))
	loser := entry("d3", 100, store.DeliveryProcessed, at.Add(2*time.Second))
	contact := entry("d4", 0, store.DeliveryProcessed, at.Add(3*time.Second))
	contact.Event = "contact_updated"
	unscoped := entry("d5", 200, store.DeliveryProcessed, at.Add(4*time.Second)) // keys not scoped: still in its conversation's log
	content := store.ScopedKey(k, "content:message_created:7:1")

	require.NoError(t, st.Complete(ctx, done(processed, content, "claim:c1")))
	err := st.Complete(ctx, done(duplicate, store.ScopedKey(k, "msg:msg-d2")), done(loser, content),
		done(contact, "content:contact_updated:7:9"), done(unscoped, "content:message_created:7:5"))
	assert.True(t, store.Skipped(err, 1), "the second completion of the content key is skipped: %v", err)
	assert.False(t, store.Skipped(err, 0))
	assert.NotErrorIs(t, err, store.ErrDeliveryLog)

	seen, err := st.Seen(ctx, content, store.ScopedKey(k, "msg:msg-d2"), "claim:c1",
		store.ScopedKey(conversation.Key{AccountID: 7, ConversationID: 101}, "content:message_created:7:1"), "content:message_created:7:1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{content: "msg-d1", store.ScopedKey(k, "msg:msg-d2"): "msg-d2", "claim:c1": "msg-d1"}, seen,
		"a scoped key is its own: the same name in another conversation, or unscoped, is another key")

	page, err := st.Deliveries(ctx, store.DeliveryQuery{})
	require.NoError(t, err)
	assert.Equal(t, []string{"d5/processed", "d4/processed", "d2/duplicate", "d1/processed"}, ids(page.Deliveries), "the skipped completion's entry is not logged")
	page, err = st.Deliveries(ctx, store.DeliveryQuery{Conversation: &k})
	require.NoError(t, err)
	assert.Equal(t, []store.Delivery{duplicate, processed}, utcDeliveries(page.Deliveries))
	page, err = st.Deliveries(ctx, store.DeliveryQuery{Conversation: &conversation.Key{AccountID: 7, ConversationID: 200}})
	require.NoError(t, err)
	assert.Equal(t, []store.Delivery{unscoped}, utcDeliveries(page.Deliveries))

	// The log's entries of a conversation merge what came with completions
	// and what came apart, in time order.
	failed := entry("d6", 100, store.DeliveryFailed, at.Add(500*time.Millisecond))
	failed.Attempt, failed.Reason = 1, "boom"
	require.NoError(t, st.LogDeliveries(ctx, failed))
	got := allPages(t, st, store.DeliveryQuery{Conversation: &k}, 1)
	assert.Equal(t, []string{"d2/duplicate", "d6/failed", "d1/processed"}, ids(got))
}

func utcDelivery(d store.Delivery) store.Delivery {
	d.At, d.ReceivedAt = d.At.UTC(), d.ReceivedAt.UTC()
	return d
}

func utcDeliveries(ds []store.Delivery) []store.Delivery {
	out := make([]store.Delivery, len(ds))
	for i, d := range ds {
		out[i] = utcDelivery(d)
	}
	return out
}
