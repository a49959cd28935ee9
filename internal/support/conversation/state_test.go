package conversation

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
)

var story = []string{
	"01_conversation_created.json",
	"02_message_created_incoming.json",
	"03_message_created_bot.json",
	"04_message_created_private_note.json",
	"05_message_created_agent_reply.json",
	"06_message_created_attachment.json",
	"07_conversation_status_changed.json",
	"08_conversation_updated.json",
}

func observations(t *testing.T) []Observation {
	t.Helper()
	var out []Observation
	for _, f := range story {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", f))
		require.NoError(t, err)
		p, err := chatwoot.Decode(b)
		require.NoError(t, err)
		o, ok := Observe(p, 7)
		require.True(t, ok, f)
		out = append(out, o)
	}
	return out
}

func TestStoryState(t *testing.T) {
	var s State
	for _, o := range observations(t) {
		s.Apply(o, false)
	}
	assert.Equal(t, Key{AccountID: 7, ConversationID: 1423}, s.Key)
	assert.Equal(t, "resolved", s.Status)
	assert.Equal(t, []string{"billing", "refund"}, s.Labels)
	assert.Equal(t, "high", s.Priority)
	assert.Equal(t, int64(31), s.AssigneeID)
	assert.Equal(t, int64(4), s.InboxID)
	// Message times are kept in whole seconds (09:14:27, 09:20:51).
	assert.Equal(t, int64(98231), s.FirstCustomerMessageID)
	// Bot greeting (09:14:30) and private note (09:16:05) are not responses.
	assert.Equal(t, int64(98251), s.FirstResponseMessageID)
	assert.Equal(t, time.Date(2026, 5, 12, 9, 20, 51, 0, time.UTC), s.FirstResponseAt)
	assert.Equal(t, 6*time.Minute+24*time.Second, s.FirstResponseTime())
	require.Len(t, s.Periods, 1)
	p := s.Periods[0]
	assert.Equal(t, int64(98260), p.LastCustomerID)
	assert.Equal(t, 2, p.CustomerMessages)
	assert.Equal(t, time.Date(2026, 5, 12, 10, 41, 5, 0, time.UTC), p.ResolvedAt)
	assert.False(t, s.WaitingForFirstResponse())
}

// TestOrderInsensitive applies the story in many orders, with replays, and
// expects one state.
func TestOrderInsensitive(t *testing.T) {
	obs := observations(t)
	var want State
	for _, o := range obs {
		want.Apply(o, false)
	}
	perm := make([]int, len(obs))
	for i := range perm {
		perm[i] = i
	}
	n := 0
	var permute func(k int)
	permute = func(k int) {
		if k == len(perm) {
			n++
			if n%97 != 0 { // 8! = 40320 orders; every 97th keeps the test fast
				return
			}
			var got State
			for _, i := range perm {
				got.Apply(obs[i], false)
			}
			got.Apply(obs[perm[0]], false) // a redelivery changes nothing
			require.Equal(t, want, got, "order %v", perm)
			return
		}
		for i := k; i < len(perm); i++ {
			perm[k], perm[i] = perm[i], perm[k]
			permute(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	permute(0)
	assert.Equal(t, 40320, n)
}

func TestApplyReportsChange(t *testing.T) {
	obs := observations(t)
	var s State
	assert.True(t, s.Apply(obs[0], false))
	assert.False(t, s.Apply(obs[0], false), "replay is a no-op")
	assert.True(t, s.Apply(obs[4], false), "agent reply sets first response")
}

func TestReplyBeforeLateCustomerMessage(t *testing.T) {
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	k := Key{AccountID: 1, ConversationID: 2}
	reply := Observation{Key: k, Messages: []Fact{{MessageID: 11, At: t0.Add(5 * time.Minute), Kind: KindHuman}}}
	cust := Observation{Key: k, Messages: []Fact{{MessageID: 10, At: t0, Kind: KindCustomer}}}
	var s State
	s.Apply(reply, false)
	assert.True(t, s.FirstResponseAt.IsZero(), "no customer message yet")
	s.Apply(cust, false)
	assert.Equal(t, 5*time.Minute, s.FirstResponseTime())
	earlier := Observation{Key: k, Messages: []Fact{{MessageID: 12, At: t0.Add(-time.Hour), Kind: KindHuman}}}
	s.Apply(earlier, false)
	assert.Equal(t, 5*time.Minute, s.FirstResponseTime(), "a reply before the customer wrote is not a response")
}

func TestReopenStartsNewPeriod(t *testing.T) {
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	k := Key{AccountID: 1, ConversationID: 2}
	obs := []Observation{
		{Key: k, Messages: []Fact{{MessageID: 1, At: t0, Kind: KindCustomer}}},
		{Key: k, Messages: []Fact{{MessageID: 2, At: t0.Add(time.Minute), Kind: KindBot}}},
		{Key: k, Messages: []Fact{{MessageID: 3, At: t0.Add(10 * time.Minute), Kind: KindHuman}}},
		{Key: k, ResolvedAt: t0.Add(time.Hour)},
		{Key: k, Messages: []Fact{{MessageID: 4, At: t0.Add(2 * time.Hour), Kind: KindCustomer}}},
		{Key: k, Messages: []Fact{{MessageID: 5, At: t0.Add(2*time.Hour + time.Minute), Kind: KindCustomer}}},
	}
	var s State
	for i := len(obs) - 1; i >= 0; i-- { // reverse order on purpose
		s.Apply(obs[i], false)
	}
	require.Len(t, s.Periods, 2)
	assert.Equal(t, t0.Add(10*time.Minute), s.Periods[0].RespondedAt, "the bot did not answer")
	assert.Equal(t, t0.Add(time.Hour), s.Periods[0].ResolvedAt)
	assert.Equal(t, t0.Add(2*time.Hour), s.Periods[1].Start, "reopened by the customer")
	assert.Equal(t, 2, s.Periods[1].CustomerMessages)
	assert.Equal(t, t0.Add(2*time.Hour), s.WaitingSince())
	assert.Equal(t, 10*time.Minute, s.FirstResponseTime())

	var withBots State
	for _, o := range obs {
		withBots.Apply(o, true)
	}
	assert.Equal(t, t0.Add(time.Minute), withBots.Periods[0].RespondedAt, "count_bots: the bot answers")
}

// echoBody is a reply typed in the WhatsApp Business app to the story's
// first customer message (09:14:27), 3 min 35 s later. Chatwoot sends it as
// an outgoing message with no sender and content_attributes.external_echo,
// and counts it as the human first reply (message.rb human_response?).
// nested puts it only in conversation.messages[], as a conversation event
// shows it (push format: integer type, no sender key, null sender_type).
func echoBody(private, nested bool) []byte {
	msg := fmt.Sprintf(`{"id":98300,"content":"On it!","account_id":7,"inbox_id":4,"conversation_id":1423,"message_type":1,`+
		`"created_at":1778577482,"updated_at":"2026-05-12T09:18:02.114Z","private":%t,"status":"delivered",`+
		`"source_id":"wamid.HBgL","content_type":"text","content_attributes":{"external_echo":true},`+
		`"sender_type":null,"sender_id":null,"additional_attributes":{}}`, private)
	conv := `{"id":1423,"inbox_id":4,"status":"open","messages":[` + msg + `],"meta":{}}`
	if nested {
		return []byte(`{"event":"conversation_updated",` + conv[1:])
	}
	return []byte(fmt.Sprintf(`{"event":"message_created","id":98300,"content":"On it!","content_type":"text",`+
		`"content_attributes":{"external_echo":true},"additional_attributes":{},"message_type":"outgoing","private":%t,`+
		`"source_id":"wamid.HBgL","created_at":"2026-05-12T09:18:02.114Z","sender":null,`+
		`"account":{"id":7,"name":"Northwind"},"inbox":{"id":4,"name":"WhatsApp"},"conversation":%s}`, private, conv))
}

func TestExternalEchoIsTheFirstResponse(t *testing.T) {
	obs := observations(t)
	customer := obs[1] // 02_message_created_incoming.json, 09:14:27
	bot := obs[2]      // 03_message_created_bot.json: not a response
	observe := func(body []byte) Observation {
		p, err := chatwoot.Decode(body)
		require.NoError(t, err)
		o, ok := Observe(p, 7)
		require.True(t, ok)
		return o
	}
	for _, nested := range []bool{false, true} {
		t.Run(fmt.Sprintf("nested=%t", nested), func(t *testing.T) {
			echo := observe(echoBody(false, nested))
			assert.Contains(t, echo.Messages, Fact{MessageID: 98300, At: time.Unix(1778577482, 0).UTC(), Kind: KindHuman})
			for _, order := range [][]Observation{{customer, bot, echo}, {echo, bot, customer}} {
				var s State
				for _, o := range order {
					s.Apply(o, false)
				}
				assert.Equal(t, int64(98300), s.FirstResponseMessageID)
				assert.Equal(t, 3*time.Minute+35*time.Second, s.FirstResponseTime())
				assert.False(t, s.WaitingForFirstResponse())
			}
		})
	}

	var s State
	s.Apply(customer, false)
	s.Apply(observe(echoBody(true, false)), false)
	assert.True(t, s.FirstResponseAt.IsZero(), "a private echo is a note, not a reply")
	assert.True(t, s.WaitingForFirstResponse())
}

// TestLabelsAreBounded: a signed payload listing thousands of long labels
// must not grow the stored state past what the store can hold.
func TestLabelsAreBounded(t *testing.T) {
	var labels []string
	for i := range 5000 {
		labels = append(labels, fmt.Sprintf("label-%05d", i), strings.Repeat("x", 300+i))
	}
	got := normaliseLabels(append(labels, "vip", "vip"))
	assert.Len(t, got, maxLabels)
	for _, l := range got {
		assert.LessOrEqual(t, len(l), maxLabelBytes)
	}
	assert.Equal(t, []string{"billing", "vip"}, normaliseLabels([]string{"vip", "billing", "vip"}), "a normal list is sorted and deduplicated")
}
