package dynamostore_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/support/conversation"
)

// TestDeliveryLogWrites: a batch's ten completions log with the one
// transaction that writes them and one PutItem for the time line; their
// conversations' logs ride on the idempotency records.
func TestDeliveryLogWrites(t *testing.T) {
	f, db := newFake(t)
	st := dynamostore.New(db, newTable(t, db))
	at := time.Now().UTC()
	var cs []store.Completion
	for i := range 10 {
		d := store.Delivery{ID: fmt.Sprintf("3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a%02d", i), MessageID: fmt.Sprintf("m%d", i),
			Event: "message_created", AccountID: 7, ConversationID: int64(100 + i%3), At: at, Outcome: store.DeliveryProcessed}
		k := conversation.Key{AccountID: 7, ConversationID: d.ConversationID}
		cs = append(cs, store.Completion{Keys: []string{store.ScopedKey(k, fmt.Sprintf("content:%d", i))}, Owner: d.MessageID,
			ExpiresAt: at.Add(time.Hour), Delivery: &d, Counts: map[string]map[string]int64{"2026-12-06": {"processed": 1}}})
	}
	require.NoError(t, st.Complete(t.Context(), cs...))
	assert.Equal(t, 1, f.count("TransactWriteItems"))
	assert.Equal(t, 1, f.count("PutItem"), "the time line: one item for the batch")

	page, err := st.Deliveries(t.Context(), store.DeliveryQuery{Conversation: &conversation.Key{AccountID: 7, ConversationID: 101}})
	require.NoError(t, err)
	assert.Len(t, page.Deliveries, 3, "conversation 101's: completions 1, 4 and 7")
}

// TestDeliveryQueriesReadTheirPartitions: a conversation's log is one
// partition; an outcome of the rare kind reads its own time line and the
// redriven one, never the day's usual entries.
func TestDeliveryQueriesReadTheirPartitions(t *testing.T) {
	f, db := newFake(t)
	st := dynamostore.New(db, newTable(t, db))
	at := time.Now().UTC()
	require.NoError(t, st.LogDeliveries(t.Context(),
		store.Delivery{ID: "d1", AccountID: 7, ConversationID: 100, At: at, Outcome: store.DeliveryDeadLettered, Attempt: 3},
		store.Delivery{ID: "d2", AccountID: 7, ConversationID: 100, At: at, Outcome: store.DeliveryRedelivered}))

	partitions := func(do func()) []string {
		before := len(f.requests("Query"))
		do()
		var pks []string
		for _, body := range f.requests("Query")[before:] {
			m := regexp.MustCompile(`":pk":\{"S":"([^"]+)"`).FindStringSubmatch(body)
			require.Len(t, m, 2, body)
			if !slices.Contains(pks, m[1]) {
				pks = append(pks, m[1])
			}
		}
		return pks
	}
	day := at.Format(time.DateOnly)
	got := partitions(func() {
		page, err := st.Deliveries(t.Context(), store.DeliveryQuery{Conversation: &conversation.Key{AccountID: 7, ConversationID: 100}})
		require.NoError(t, err)
		assert.Len(t, page.Deliveries, 2)
	})
	assert.Equal(t, []string{"DLV#7#100"}, got)
	got = partitions(func() {
		page, err := st.Deliveries(t.Context(), store.DeliveryQuery{Outcome: store.DeliveryDeadLettered, Since: at.Truncate(24 * time.Hour)})
		require.NoError(t, err)
		assert.Len(t, page.Deliveries, 1)
	})
	assert.ElementsMatch(t, []string{"DLOG#" + day + "#dead_lettered", "DLOG#" + day + "#redriven"}, got)
	assert.Zero(t, f.count("Scan"))
}
