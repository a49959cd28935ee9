package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

const (
	acct    = 7
	story   = 1423 // the conversation of testdata/chatwoot
	inboxID = 4
	// resolvedAt is story's updated_at when it was resolved (07_conversation_status_changed.json).
	resolvedAt = "1778582465.917402"
)

// now is after the story; received_at of every backfill.
var now = time.Date(2026, 5, 12, 11, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// obj is a JSON object in one of Chatwoot's REST shapes.
type obj = map[string]any

// Senders in the push format of REST messages, which carries a type.
func contact() obj {
	return obj{"additional_attributes": obj{}, "custom_attributes": obj{"plan": "pro"},
		"email": "priya.raman@example.net", "id": 5512, "identifier": nil, "name": "Priya Raman",
		"phone_number": "+14155550123", "thumbnail": "", "blocked": false, "type": "contact"}
}

func agent() obj {
	return obj{"id": 31, "name": "Marco Velasquez", "available_name": "Marco", "avatar_url": "",
		"type": "user", "availability_status": "online", "thumbnail": ""}
}

func bot() obj { return obj{"id": 5, "name": "Order Bot", "avatar_url": "", "type": "agent_bot"} }

// Message types as REST encodes them.
const (
	incoming = iota
	outgoing
	activity
	template
)

// restMessage is a message as GET …/conversations/{id}/messages returns it.
func restMessage(conv, id int64, typ int, private bool, at int64, content string, sender obj) obj {
	m := obj{"id": id, "content": content, "account_id": acct, "inbox_id": inboxID, "conversation_id": conv,
		"message_type": typ, "created_at": at, "updated_at": time.Unix(at, 0).UTC().Format(time.RFC3339),
		"private": private, "status": "sent", "source_id": nil, "content_type": "text", "content_attributes": obj{},
		"sender_type": nil, "sender_id": nil, "external_source_ids": obj{}, "additional_attributes": obj{},
		"processed_message_content": content, "sentiment": obj{},
		"conversation": obj{"assignee_id": 31, "unread_count": 0, "last_activity_at": at,
			"contact_inbox": obj{"source_id": "6f1c2b9e-3a57-4d0e-9c1a-2b7d4e8f0a13"}}}
	if sender != nil {
		m["sender"] = sender
		m["sender_id"] = sender["id"]
		m["sender_type"] = map[any]string{"contact": "Contact", "user": "User", "agent_bot": "AgentBot"}[sender["type"]]
	}
	return m
}

// storyMessages is what Chatwoot holds for the story: the messages of the
// webhooks 02–06 in testdata/chatwoot, an activity and a template message.
func storyMessages() []obj {
	receipt := restMessage(story, 98260, incoming, false, 1778577730, "Here is the receipt — merci!", contact())
	receipt["attachments"] = []obj{{"id": 4410, "message_id": 98260, "file_type": "image", "account_id": acct,
		"extension": nil, "data_url": "https://chat.northwind.example/receipt.png", "file_size": 48211}}
	return []obj{
		restMessage(story, 98231, incoming, false, 1778577267, "Hi, I was charged twice for order #A-20931 — can someone help?", contact()),
		restMessage(story, 98232, outgoing, false, 1778577270, "Thanks! An agent will be with you shortly.", bot()),
		restMessage(story, 98240, outgoing, true, 1778577365, "Customer is on the pro plan; check Stripe.", agent()),
		restMessage(story, 98245, activity, false, 1778577400, "Conversation was assigned to Marco Velasquez", nil),
		restMessage(story, 98251, outgoing, false, 1778577651, "Sorry about that, Priya! I've refunded the duplicate charge.", agent()),
		receipt,
		restMessage(story, 98270, template, false, 1778577800, "Please rate the conversation", nil),
	}
}

// restConversation is a conversation as the conversations list returns it,
// with msgs its messages, oldest first.
func restConversation(id int64, status, updatedAt string, msgs []obj) obj {
	first, last := msgs[0], msgs[len(msgs)-1]
	var reply any = 0
	for _, m := range msgs {
		if m["message_type"] == outgoing && !m["private"].(bool) && m["sender_type"] == "User" {
			reply = m["created_at"]
			break
		}
	}
	c := obj{
		"meta": obj{"sender": contact(), "channel": "Channel::WebWidget", "assignee": agent(), "hmac_verified": false},
		"id":   id, "messages": []obj{last}, "account_id": acct, "uuid": "9b1f3c2e-" + strconv.FormatInt(id, 10),
		"additional_attributes": obj{}, "agent_last_seen_at": 0, "assignee_last_seen_at": 0, "can_reply": true,
		"contact_last_seen_at": 0, "custom_attributes": obj{}, "inbox_id": inboxID, "labels": []string{"refund", "billing"},
		"muted": false, "snoozed_until": nil, "status": status, "created_at": first["created_at"],
		"timestamp": last["created_at"], "first_reply_created_at": reply, "unread_count": 0,
		"last_non_activity_message": last, "last_activity_at": last["created_at"], "priority": "high",
		"waiting_since": 0, "sla_policy_id": nil,
	}
	if updatedAt != "" {
		c["updated_at"] = json.Number(updatedAt)
	}
	return c
}

// chatter is a conversation of n messages, customer and agent in turn.
func chatter(id int64, n int) []obj {
	var out []obj
	for i := range int64(n) {
		typ, s := incoming, contact()
		if i%2 == 1 {
			typ, s = outgoing, agent()
		}
		out = append(out, restMessage(id, id*1000+i, typ, false, 1778570000+60*i, "line "+strconv.FormatInt(i, 10), s))
	}
	return out
}

// world is what Chatwoot's REST API shows.
type world struct {
	convs map[int64][]obj            // by account
	msgs  map[conversation.Key][]obj // oldest first
}

func newWorld() *world {
	return &world{convs: map[int64][]obj{}, msgs: map[conversation.Key][]obj{}}
}

// add puts a conversation with its messages into account.
func (w *world) add(account int64, c obj, msgs []obj) *world {
	w.convs[account] = append(w.convs[account], c)
	w.msgs[conversation.Key{AccountID: account, ConversationID: c["id"].(int64)}] = msgs
	return w
}

// storyWorld is account 7 with the resolved story.
func storyWorld() *world {
	return newWorld().add(acct, restConversation(story, "resolved", resolvedAt, storyMessages()), storyMessages())
}

// fakeChatwoot serves the world through the Client port, decoding it as the
// HTTP client does; the offline client takes the pipeline's writes.
type fakeChatwoot struct {
	*rest.Offline
	w       *world
	listErr map[int64]error // by account
	msgsErr map[int64]error // by conversation
}

func newFake(w *world) *fakeChatwoot {
	return &fakeChatwoot{Offline: rest.NewOffline(nil), w: w}
}

func (f *fakeChatwoot) Conversations(_ context.Context, account int64, _ time.Duration) ([]rest.Conversation, error) {
	if err := f.listErr[account]; err != nil {
		return nil, err
	}
	var out []rest.Conversation
	return out, remarshal(f.w.convs[account], &out)
}

func (f *fakeChatwoot) Messages(_ context.Context, account, conv int64) ([]chatwoot.Message, error) {
	if err := f.msgsErr[conv]; err != nil {
		return nil, err
	}
	var out []chatwoot.Message
	return out, remarshal(f.w.msgs[conversation.Key{AccountID: account, ConversationID: conv}], &out)
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// sent is one message the reconciler enqueued.
type sent struct {
	body  []byte
	attrs map[string]string
}

// fakeQueue records sends; err fails them.
type fakeQueue struct {
	sent []sent
	err  error
}

func (q *fakeQueue) Send(_ context.Context, body []byte, attrs map[string]string) (string, error) {
	if q.err != nil {
		return "", q.err
	}
	q.sent = append(q.sent, sent{body, attrs})
	return strconv.Itoa(len(q.sent)), nil
}

// get returns the message sent with the delivery id.
func (q *fakeQueue) get(t *testing.T, delivery string) sent {
	t.Helper()
	i := slices.Index(q.deliveries(), delivery)
	require.GreaterOrEqual(t, i, 0, delivery)
	return q.sent[i]
}

func (q *fakeQueue) deliveries() []string {
	var out []string
	for _, s := range q.sent {
		out = append(out, s.attrs["delivery_id"])
	}
	return out
}

func readWebhook(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

func decode(t *testing.T, body []byte) *chatwoot.Payload {
	t.Helper()
	p, err := chatwoot.Decode(body)
	require.NoError(t, err)
	return p
}

// observe merges the webhooks into st as the processor would.
func observe(t *testing.T, st store.Store, names ...string) {
	t.Helper()
	for _, name := range names {
		o, ok := conversation.Observe(decode(t, readWebhook(t, name)), acct)
		require.True(t, ok, name)
		_, err := st.UpdateConversation(t.Context(), o.Key, func(s *conversation.State) bool { return s.Apply(o, false) })
		require.NoError(t, err)
	}
}

var errBoom = errors.New("boom")

// backfills lists the delivery ids of message backfills.
func backfills(ids ...int64) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "backfill:7:"+strconv.FormatInt(id, 10))
	}
	return out
}

const storyStatus = "backfill:7:1423:resolved:1778582465917402"

// withStatus puts the story's status change first, where Run sends it.
func withStatus(ds []string) []string { return append([]string{storyStatus}, ds...) }
