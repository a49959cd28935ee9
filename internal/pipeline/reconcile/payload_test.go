package reconcile

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

// TestBodiesRoundTrip checks every synthesized body against the webhook it
// stands in for: it decodes, has the same content key (so the processor
// deduplicates the two), and yields the expected facts and snapshot.
func TestBodiesRoundTrip(t *testing.T) {
	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: newFake(storyWorld()), Store: memstore.New(), Queue: q, Accounts: []int64{acct}, Now: clock}
	res, err := r.Run(t.Context(), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 1, Messages: 4, Statuses: 1}, res)
	require.Equal(t, withStatus(backfills(98232, 98251, 98231, 98260)), q.deliveries())

	resolved := decode(t, readWebhook(t, "07_conversation_status_changed.json"))
	current, _ := conversation.Observe(resolved, acct)
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	tests := []struct {
		original string // the webhook Chatwoot did not deliver
		delivery string
		event    string
		facts    []conversation.Fact
		resolved time.Time
	}{
		{"02_message_created_incoming.json", "backfill:7:98231", "message_created", []conversation.Fact{{MessageID: 98231, At: at(1778577267), Kind: conversation.KindCustomer}}, time.Time{}},
		{"03_message_created_bot.json", "backfill:7:98232", "message_created", []conversation.Fact{{MessageID: 98232, At: at(1778577270), Kind: conversation.KindBot}}, time.Time{}},
		{"05_message_created_agent_reply.json", "backfill:7:98251", "message_created", []conversation.Fact{{MessageID: 98251, At: at(1778577651), Kind: conversation.KindHuman}}, time.Time{}},
		{"06_message_created_attachment.json", "backfill:7:98260", "message_created", []conversation.Fact{{MessageID: 98260, At: at(1778577730), Kind: conversation.KindCustomer}}, time.Time{}},
		{"07_conversation_status_changed.json", storyStatus, "conversation_status_changed", nil, current.ResolvedAt},
	}
	for _, tt := range tests {
		t.Run(tt.original, func(t *testing.T) {
			s := q.get(t, tt.delivery)
			assert.Equal(t, map[string]string{
				"delivery_id": tt.delivery, "account_id": "7", "event": tt.event,
				"received_at": "2026-05-12T11:00:00Z", "backfilled": "true",
			}, s.attrs)

			p := decode(t, s.body)
			orig := readWebhook(t, tt.original)
			op := decode(t, orig)
			assert.Equal(t, tt.event, p.Event)
			assert.Equal(t, op.ContentKey(acct, orig), p.ContentKey(acct, s.body), "content key of the original")

			o, ok := conversation.Observe(p, acct)
			require.True(t, ok)
			assert.Equal(t, conversation.Key{AccountID: acct, ConversationID: story}, o.Key)
			assert.Equal(t, tt.facts, o.Messages)
			oo, _ := conversation.Observe(op, acct)
			for _, f := range tt.facts {
				assert.Contains(t, oo.Messages, f, "the original records the same fact")
			}
			// REST shows the conversation as the status change left it.
			assert.Equal(t, current.Snapshot, o.Snapshot)
			assert.Equal(t, tt.resolved, o.ResolvedAt)
		})
	}
}

// TestBodyShape checks the encodings that differ between REST and webhooks
// (docs/chatwoot.md §4).
func TestBodyShape(t *testing.T) {
	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: newFake(storyWorld()), Store: memstore.New(), Queue: q, Accounts: []int64{acct}, Now: clock}
	_, err := r.Run(t.Context(), time.Hour)
	require.NoError(t, err)
	body := func(delivery string) map[string]any {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(q.get(t, delivery).body))
		d.UseNumber()
		require.NoError(t, d.Decode(&m))
		return m
	}
	customer, bot, human := body("backfill:7:98231"), body("backfill:7:98232"), body("backfill:7:98251")
	receipt, status := body("backfill:7:98260"), body(storyStatus)

	assert.Equal(t, "message_created", customer["event"])
	assert.Equal(t, json.Number("98231"), customer["id"])
	assert.Equal(t, "incoming", customer["message_type"])
	assert.Equal(t, "outgoing", human["message_type"])
	assert.Equal(t, "2026-05-12T09:14:27.000Z", customer["created_at"])
	assert.Equal(t, false, customer["private"])
	assert.Equal(t, map[string]any{"id": json.Number("7")}, customer["account"])
	assert.Equal(t, map[string]any{"id": json.Number("4")}, customer["inbox"])
	assert.NotContains(t, customer, "conversation_id", "webhooks carry conversation.id only")

	contact := customer["sender"].(map[string]any)
	assert.NotContains(t, contact, "type", "a contact sender has no type at the top level")
	assert.Equal(t, "priya.raman@example.net", contact["email"], "VIP rules match on it")
	assert.Equal(t, map[string]any{"plan": "pro"}, contact["custom_attributes"])
	assert.Equal(t, "agent_bot", bot["sender"].(map[string]any)["type"])
	assert.Equal(t, "user", human["sender"].(map[string]any)["type"])
	assert.Equal(t, []any{map[string]any{"id": json.Number("4410"), "file_type": "image"}}, receipt["attachments"])
	assert.NotContains(t, customer, "attachments", "only present when there are attachments")

	conv := customer["conversation"].(map[string]any)
	assert.Equal(t, json.Number("1423"), conv["id"], "the display id")
	assert.Equal(t, json.Number("4"), conv["inbox_id"])
	assert.Equal(t, "resolved", conv["status"])
	assert.Equal(t, "high", conv["priority"])
	assert.Equal(t, []any{"refund", "billing"}, conv["labels"])
	assert.Equal(t, json.Number(resolvedAt), conv["updated_at"], "float epoch with microseconds")
	assert.Equal(t, json.Number("1778577267"), conv["created_at"], "integer epoch")
	assert.Equal(t, "2026-05-12T09:20:51.000Z", conv["first_reply_created_at"], "REST's integer as ISO")
	assert.Equal(t, []any{}, conv["messages"])
	meta := conv["meta"].(map[string]any)
	assert.Equal(t, json.Number("5512"), meta["sender"].(map[string]any)["id"])
	assert.Equal(t, json.Number("31"), meta["assignee"].(map[string]any)["id"])

	assert.Equal(t, "conversation_status_changed", status["event"])
	assert.Contains(t, status, "changed_attributes")
	assert.Nil(t, status["changed_attributes"])
	assert.Equal(t, json.Number("1423"), status["id"])
	assert.Equal(t, "resolved", status["status"])
	assert.Equal(t, json.Number(resolvedAt), status["updated_at"])
}

func TestFloatEpoch(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "0"},
		{time.Unix(1778582465, 917402000), "1778582465.917402"},
		{time.Unix(1778577270, 100000000), "1778577270.100000"},
		{time.Unix(1778577270, 0), "1778577270.000000"},
	}
	for _, tt := range tests {
		assert.Equal(t, json.Number(tt.want), floatEpoch(tt.in))
	}
}
