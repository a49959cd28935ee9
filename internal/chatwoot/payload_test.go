package chatwoot

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot/chatwoottest"
)

func TestTimeDecoding(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`"2026-05-12T09:14:27.512Z"`, time.Date(2026, 5, 12, 9, 14, 27, 512e6, time.UTC), false},
		{`1778577267`, time.Unix(1778577267, 0).UTC(), false},
		{`1778577267.604113`, time.Unix(1778577267, 604113000).UTC(), false},
		{`0`, time.Time{}, false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"1778577267"`, time.Unix(1778577267, 0).UTC(), false},
		{`"2020-03-03 13:05:57 UTC"`, time.Date(2020, 3, 3, 13, 5, 57, 0, time.UTC), false},
		{`"yesterday"`, time.Time{}, true},
		{`1e400`, time.Time{}, true},
		{`-5`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got.Time), "got %v want %v", got.Time, tt.want)
		})
	}
}

func TestMessageTypeDecoding(t *testing.T) {
	tests := []struct {
		in   string
		want MessageType
		err  bool
	}{
		{`"incoming"`, Incoming, false}, {`"outgoing"`, Outgoing, false}, {`"template"`, Template, false},
		{`0`, Incoming, false}, {`1`, Outgoing, false}, {`2`, Activity, false}, {`3`, Template, false},
		{`4`, "", true}, {`-1`, "", true}, {`"sideways"`, "", true}, {`1.5`, "", true}, {`null`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got MessageType
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

// TestContractFixtures pins the payload shapes the pipeline relies on
// (docs/chatwoot.md §4). A change in Chatwoot that breaks one of these is a change
// we must see before production does.
func TestContractFixtures(t *testing.T) {
	t.Run("message_created incoming: string message_type, ISO created_at, no sender type", func(t *testing.T) {
		p, err := Decode(fixture(t, "02_message_created_incoming.json"))
		require.NoError(t, err)
		m := p.Message
		assert.Equal(t, KindMessage, p.Kind)
		assert.Equal(t, int64(98231), m.ID)
		assert.Equal(t, Incoming, m.MessageType)
		assert.Equal(t, "", m.Sender.Type, "contacts carry no type at the top level")
		assert.Equal(t, "contact", m.SenderKind())
		assert.Equal(t, time.Date(2026, 5, 12, 9, 14, 27, 512e6, time.UTC), m.CreatedAt.Time)
		assert.Equal(t, int64(7), p.AccountID)
		assert.Equal(t, int64(1423), p.ConversationID)
		assert.Contains(t, m.Content, "<urgent> & I need", "Rails' \\u003c escapes decode to the real characters")
		assert.Contains(t, m.Content, "😟")
		// Nested message: integer type and epoch created_at.
		require.Len(t, m.Conversation.Messages, 1)
		n := m.Conversation.Messages[0]
		assert.Equal(t, Incoming, n.MessageType)
		assert.Equal(t, int64(1778577267), n.CreatedAt.Unix())
		assert.Equal(t, "Contact", n.SenderType)
		assert.Equal(t, int64(1423), n.ConversationID)
		assert.Equal(t, int64(1778577267604113), m.Conversation.UpdatedAt.UnixMicro(), "float updated_at keeps microseconds")
	})
	t.Run("conversation_created: display id, no account, account from nested message", func(t *testing.T) {
		body := fixture(t, "01_conversation_created.json")
		var raw map[string]any
		require.NoError(t, json.Unmarshal(body, &raw))
		assert.NotContains(t, raw, "account_id")
		assert.NotContains(t, raw, "account")
		p, err := Decode(body)
		require.NoError(t, err)
		assert.Equal(t, KindConversation, p.Kind)
		assert.Equal(t, int64(1423), p.Conversation.ID)
		assert.Equal(t, int64(7), p.AccountID)
		assert.True(t, p.Conversation.FirstReplyCreatedAt.IsZero())
		assert.Equal(t, int64(1778577267), p.Conversation.WaitingSince.Unix())
	})
	t.Run("status_changed: changed_attributes null", func(t *testing.T) {
		p, err := Decode(fixture(t, "07_conversation_status_changed.json"))
		require.NoError(t, err)
		assert.Nil(t, p.Conversation.ChangedAttributes)
		assert.Equal(t, "resolved", p.Conversation.Status)
		assert.Equal(t, []string{"billing", "refund"}, p.Conversation.Labels)
		assert.Equal(t, "high", *p.Conversation.Priority)
		assert.Equal(t, time.Date(2026, 5, 12, 9, 20, 51, 204e6, time.UTC), p.Conversation.FirstReplyCreatedAt.Time)
		assert.Equal(t, 0, int(p.Conversation.WaitingSince.Unix()-time.Time{}.Unix()), "waiting_since 0 means none")
	})
	t.Run("conversation_updated: changed_attributes array", func(t *testing.T) {
		p, err := Decode(fixture(t, "08_conversation_updated.json"))
		require.NoError(t, err)
		require.Len(t, p.Conversation.ChangedAttributes, 2)
		assert.JSONEq(t, `"resolved"`, string(p.Conversation.ChangedAttributes[0]["status"].Current))
	})
	t.Run("private note and bot", func(t *testing.T) {
		p, err := Decode(fixture(t, "04_message_created_private_note.json"))
		require.NoError(t, err)
		assert.True(t, p.Message.Private)
		assert.Equal(t, "user", p.Message.SenderKind())
		p, err = Decode(fixture(t, "03_message_created_bot.json"))
		require.NoError(t, err)
		assert.Equal(t, "agent_bot", p.Message.SenderKind())
	})
	t.Run("attachment", func(t *testing.T) {
		p, err := Decode(fixture(t, "06_message_created_attachment.json"))
		require.NoError(t, err)
		require.Len(t, p.Message.Attachments, 1)
		assert.Equal(t, "image", p.Message.Attachments[0].FileType)
	})
	t.Run("contact_updated", func(t *testing.T) {
		p, err := Decode(fixture(t, "09_contact_updated.json"))
		require.NoError(t, err)
		assert.Equal(t, KindContact, p.Kind)
		assert.Equal(t, "enterprise", p.Contact.CustomAttributes["plan"])
	})
	t.Run("typing is known to Chatwoot but ignored here", func(t *testing.T) {
		p, err := Decode(fixture(t, "10_conversation_typing_on.json"))
		require.NoError(t, err)
		assert.Equal(t, KindUnknown, p.Kind)
	})
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"empty", ``, ErrNotJSON},
		{"array", `[1,2]`, ErrNotJSON},
		{"not json", `event=message_created`, ErrNotJSON},
		{"truncated", `{"event":"message_created"`, ErrNotJSON},
		{"invalid utf-8", "{\"event\":\"message_created\",\"content\":\"\xff\"}", ErrNotJSON},
		{"no event", `{"id":1}`, ErrNoEvent},
		{"event null", `{"event":null}`, ErrNoEvent},
		{"event number", `{"event":5}`, ErrNoEvent},
		{"event empty", `{"event":""}`, ErrNoEvent},
		{"message id as string", `{"event":"message_created","id":"98231","conversation":{"id":1}}`, ErrBadPayload},
		{"message without conversation", `{"event":"message_created","id":1}`, ErrBadPayload},
		{"message_type unknown", `{"event":"message_created","id":1,"message_type":"sideways","conversation":{"id":1}}`, ErrBadPayload},
		{"labels not a list", `{"event":"conversation_updated","id":1,"labels":"billing"}`, ErrBadPayload},
		{"updated_at garbage", `{"event":"conversation_updated","id":1,"updated_at":"soon"}`, ErrBadPayload},
		{"huge id", `{"event":"conversation_updated","id":1e30}`, ErrBadPayload},
		{"conversation id missing", `{"event":"conversation_created"}`, ErrBadPayload},
		{"contact id negative", `{"event":"contact_created","id":-4}`, ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestContentKey(t *testing.T) {
	created := fixture(t, "02_message_created_incoming.json")
	p, err := Decode(created)
	require.NoError(t, err)
	assert.Equal(t, "message_created:7:98231", p.ContentKey(7, created))
	s1, _ := Decode(fixture(t, "07_conversation_status_changed.json"))
	u1, _ := Decode(fixture(t, "08_conversation_updated.json"))
	assert.NotEqual(t, s1.ContentKey(7, nil), u1.ContentKey(7, nil), "status_changed and updated are distinct events")
	assert.Equal(t, "conversation_status_changed:7:1423:resolved:1778582465917402", s1.ContentKey(7, nil))
}

func TestValidate(t *testing.T) {
	deep := func(n int) string {
		return `{"event":"x","a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	tests := []struct {
		name, body string
		want       error
	}{
		{"fixture-like", `{"event":"message_created","id":1,"conversation":{"id":2,"messages":[{"id":3},{"id":4}],"meta":{}},"labels":[]}`, nil},
		{"same key in sibling objects", `{"a":{"id":1},"b":{"id":2},"c":[{"id":1},{"id":1}]}`, nil},
		{"duplicate at top", `{"event":"message_created","event":"contact_created"}`, ErrDuplicateKey},
		{"duplicate nested", `{"event":"x","conversation":{"id":1,"id":2}}`, ErrDuplicateKey},
		{"duplicate in array element", `{"m":[{"id":1},{"id":1,"id":2}]}`, ErrDuplicateKey},
		{"depth 60 fine", deep(60), nil},
		{"depth 100", deep(100), ErrTooDeep},
		{"depth 100k", deep(100000), ErrTooDeep},
		{"broken", `{"a":`, ErrNotJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, Validate([]byte(tt.body)), tt.want)
		})
	}
	for _, f := range []string{"01_conversation_created.json", "02_message_created_incoming.json", "08_conversation_updated.json"} {
		assert.NoError(t, Validate(fixture(t, f)), f)
	}
}

func TestValidateEscapedDuplicateAndManyKeys(t *testing.T) {
	assert.ErrorIs(t, Validate([]byte(`{"id":1,"\u0069d":2}`)), ErrDuplicateKey, "escapes do not hide a duplicate")
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 5000 {
		fmt.Fprintf(&b, `"k%d":1,`, i)
	}
	b.WriteString(`"k17":2}`)
	assert.ErrorIs(t, Validate([]byte(b.String())), ErrDuplicateKey)
	assert.NoError(t, Validate([]byte(`{"s":"a \"quoted\" {not} [structure], \\"}`)))
}

// TestHumanReply pins Chatwoot's human_response? && !private? (message.rb)
// in the three shapes a message comes in.
func TestHumanReply(t *testing.T) {
	// A reply typed in the WhatsApp Business app, as Chatwoot's serializers
	// write its message_created: no sender at the top level, and in the
	// nested push format no sender key and a null sender_type;
	// external_echo in both.
	echo, err := chatwoottest.ReadFile(filepath.Join(chatwoottest.Dir(), "21_account_message_created_whatsapp_external_echo.json"))
	require.NoError(t, err)
	p, err := Decode(echo)
	require.NoError(t, err)
	assert.Empty(t, p.Message.SenderKind(), "an echo has no sender")
	assert.True(t, p.Message.HumanReply(), "top level")
	require.Len(t, p.Message.Conversation.Messages, 1)
	assert.True(t, p.Message.Conversation.Messages[0].HumanReply(), "nested push format")

	tests := []struct {
		name, msg string
		want      bool
	}{
		{"agent, top level", `{"message_type":"outgoing","sender":{"id":31,"type":"user"}}`, true},
		{"agent, nested", `{"message_type":1,"sender_type":"User","sender_id":31}`, true},
		{"agent, REST", `{"message_type":1,"content_attributes":{},"sender":{"id":31,"type":"user"}}`, true},
		{"echo, REST", `{"message_type":1,"content_attributes":{"external_echo":true}}`, true},
		{"echo as a string", `{"message_type":"outgoing","content_attributes":{"external_echo":"true"}}`, true},
		{"echo false", `{"message_type":"outgoing","content_attributes":{"external_echo":false}}`, false},
		{"echo blank", `{"message_type":"outgoing","content_attributes":{"external_echo":" "}}`, false},
		{"echo null", `{"message_type":"outgoing","content_attributes":{"external_echo":null}}`, false},
		{"private echo", `{"message_type":"outgoing","private":true,"content_attributes":{"external_echo":true}}`, false},
		{"private note", `{"message_type":"outgoing","private":true,"sender":{"id":31,"type":"user"}}`, false},
		{"no sender, no echo", `{"message_type":"outgoing","content_attributes":{}}`, false},
		{"content_attributes not an object", `{"message_type":"outgoing","content_attributes":"external_echo"}`, false},
		{"agent bot", `{"message_type":"outgoing","sender":{"id":5,"type":"agent_bot"}}`, false},
		{"captain", `{"message_type":1,"sender_type":"Captain::Assistant","sender_id":2}`, false},
		{"automation rule", `{"message_type":"outgoing","content_attributes":{"automation_rule_id":12}}`, false},
		{"automation rule as an agent", `{"message_type":"outgoing","content_attributes":{"automation_rule_id":12},"sender":{"id":31,"type":"user"}}`, false},
		{"campaign", `{"message_type":"outgoing","additional_attributes":{"campaign_id":3},"sender":{"id":31,"type":"user"}}`, false},
		{"campaign id 0 is present", `{"message_type":"outgoing","additional_attributes":{"campaign_id":0},"sender":{"id":31,"type":"user"}}`, false},
		{"campaign id null", `{"message_type":"outgoing","additional_attributes":{"campaign_id":null},"sender":{"id":31,"type":"user"}}`, true},
		{"customer", `{"message_type":"incoming","content_attributes":{"external_echo":true},"sender":{"id":5512}}`, false},
		{"template", `{"message_type":3,"content_attributes":{"external_echo":true}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			require.NoError(t, json.Unmarshal([]byte(tt.msg), &m))
			assert.Equal(t, tt.want, m.HumanReply())
		})
	}
}
