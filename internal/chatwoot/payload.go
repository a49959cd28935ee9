package chatwoot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Event names Chatwoot sends (Webhook::ALLOWED_WEBHOOK_EVENTS).
const (
	EventConversationCreated       = "conversation_created"
	EventConversationStatusChanged = "conversation_status_changed"
	EventConversationUpdated       = "conversation_updated"
	EventMessageCreated            = "message_created"
	EventMessageUpdated            = "message_updated"
	EventContactCreated            = "contact_created"
	EventContactUpdated            = "contact_updated"
)

// Kind groups events by payload root.
type Kind int

// Payload kinds.
const (
	KindUnknown Kind = iota
	KindMessage
	KindConversation
	KindContact
)

// KindOf says which payload an event name carries. Events the pipeline has no
// use for (typing, widget, inbox) are KindUnknown and are acknowledged but ignored.
func KindOf(event string) Kind {
	switch event {
	case EventMessageCreated, EventMessageUpdated:
		return KindMessage
	case EventConversationCreated, EventConversationStatusChanged, EventConversationUpdated:
		return KindConversation
	case EventContactCreated, EventContactUpdated:
		return KindContact
	}
	return KindUnknown
}

// Ref is an {id, name} pair (account, inbox, team).
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Sender is a contact, user, agent bot or captain assistant. Contacts in the
// top-level message payload carry no "type"; users and bots do.
type Sender struct {
	ID               int64          `json:"id"`
	Name             string         `json:"name"`
	Type             string         `json:"type"`
	Email            string         `json:"email"`
	PhoneNumber      string         `json:"phone_number"`
	Identifier       string         `json:"identifier"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

// Message is both the top-level message payload and the push format nested in
// conversation.messages[]; the nested one fills AccountID/InboxID/ConversationID
// and SenderType, the top-level one Account/Inbox/Conversation.
type Message struct {
	ID                int64           `json:"id"`
	Content           string          `json:"content"`
	ContentType       string          `json:"content_type"`
	ContentAttributes json.RawMessage `json:"content_attributes"`
	MessageType       MessageType     `json:"message_type"`
	Private           bool            `json:"private"`
	SourceID          string          `json:"source_id"`
	CreatedAt         Time            `json:"created_at"`
	UpdatedAt         Time            `json:"updated_at"`
	Sender            *Sender         `json:"sender"`
	SenderType        string          `json:"sender_type"`
	SenderID          int64           `json:"sender_id"`
	Account           *Ref            `json:"account"`
	Inbox             *Ref            `json:"inbox"`
	Conversation      *Conversation   `json:"conversation"`
	AccountID         int64           `json:"account_id"`
	InboxID           int64           `json:"inbox_id"`
	ConversationID    int64           `json:"conversation_id"`
	Attachments       []Attachment    `json:"attachments"`

	// AdditionalAttributes holds campaign_id on a campaign's messages. The
	// REST messages endpoint leaves it out.
	AdditionalAttributes json.RawMessage `json:"additional_attributes"`
}

// Attachment is the part of an attachment the pipeline reads.
type Attachment struct {
	ID       int64  `json:"id"`
	FileType string `json:"file_type"`
}

// SenderKind normalises who wrote a message: "contact", "user", "agent_bot",
// "captain_assistant" or "" when unknown (system messages).
func (m *Message) SenderKind() string {
	if m.Sender != nil && m.Sender.Type != "" {
		return m.Sender.Type
	}
	switch m.SenderType {
	case "Contact":
		return "contact"
	case "User":
		return "user"
	case "AgentBot":
		return "agent_bot"
	case "Captain::Assistant":
		return "captain_assistant"
	}
	if m.MessageType == Incoming && m.Sender != nil {
		return "contact"
	}
	return ""
}

// HumanReply reports whether m answers the customer as a person, by
// Chatwoot's rule for the first reply and the reply time (app/models/message.rb:
// human_response?, with the !private? that valid_first_reply? and
// update_waiting_since add): a public outgoing message, not written by an
// automation rule (content_attributes.automation_rule_id) or a campaign
// (additional_attributes.campaign_id), whose sender is a user or that is an
// external echo. Echoes are the replies an agent typed in the WhatsApp,
// Messenger, Instagram or TikTok app: they arrive with no sender and
// content_attributes.external_echo, in every shape (top level, nested, REST).
func (m *Message) HumanReply() bool {
	if m.Private || m.MessageType != Outgoing {
		return false
	}
	attrs := members(m.ContentAttributes)
	if present(attrs["automation_rule_id"]) || present(members(m.AdditionalAttributes)["campaign_id"]) {
		return false
	}
	return m.SenderKind() == "user" || present(attrs["external_echo"])
}

// members returns the members of a JSON object, or nil for any other value.
func members(v json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil
	}
	return m
}

// present is Rails' Object#present? of a decoded JSON value, which is how
// Chatwoot tests these attributes: null, false, a string of white space and
// an empty array or object are blank; anything else, 0 included, is present.
func present(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" || string(v) == "false" {
		return false
	}
	switch v[0] {
	case '"':
		var s string
		return json.Unmarshal(v, &s) == nil && strings.TrimFunc(s, unicode.IsSpace) != ""
	case '[', '{':
		return len(v) > 2 && len(bytes.TrimSpace(v[1:len(v)-1])) > 0
	}
	return true
}

// Conversation is the conversation webhook_data. ID is the display id.
// contact_inbox is deliberately not decoded: it holds the live pubsub_token.
type Conversation struct {
	ID int64 `json:"id"`
	// Account is in conversation payloads since Chatwoot 4.14.2
	// (chatwoot#12445); older versions send none.
	Account             *Ref                `json:"account"`
	InboxID             int64               `json:"inbox_id"`
	Status              string              `json:"status"`
	Priority            *string             `json:"priority"`
	Labels              []string            `json:"labels"`
	CustomAttributes    map[string]any      `json:"custom_attributes"`
	Channel             string              `json:"channel"`
	Messages            []Message           `json:"messages"`
	Meta                ConversationMeta    `json:"meta"`
	FirstReplyCreatedAt Time                `json:"first_reply_created_at"`
	WaitingSince        Time                `json:"waiting_since"`
	CreatedAt           Time                `json:"created_at"`
	UpdatedAt           Time                `json:"updated_at"`
	LastActivityAt      Time                `json:"last_activity_at"`
	ChangedAttributes   []map[string]Change `json:"changed_attributes"`
}

// ConversationMeta holds the contact, assignee and team.
type ConversationMeta struct {
	Sender       *Sender `json:"sender"`
	Assignee     *Sender `json:"assignee"`
	AssigneeType string  `json:"assignee_type"`
	Team         *Ref    `json:"team"`
}

// Change is one entry of changed_attributes.
type Change struct {
	Previous json.RawMessage `json:"previous_value"`
	Current  json.RawMessage `json:"current_value"`
}

// Contact is the contact_created/contact_updated payload.
type Contact struct {
	ID                int64               `json:"id"`
	Name              string              `json:"name"`
	Email             string              `json:"email"`
	PhoneNumber       string              `json:"phone_number"`
	Identifier        string              `json:"identifier"`
	CustomAttributes  map[string]any      `json:"custom_attributes"`
	Account           *Ref                `json:"account"`
	ChangedAttributes []map[string]Change `json:"changed_attributes"`
}

// Payload is a decoded webhook body. Exactly one of Message, Conversation and
// Contact is set for known events.
type Payload struct {
	Head
	Message      *Message
	Conversation *Conversation
	Contact      *Contact
}

// Decoding errors. The edge keeps an authentic body that fails with one of
// them in the DLQ (reason invalid_payload) and still answers 202.
var (
	ErrNotJSON    = errors.New("body is not a JSON object")
	ErrNoEvent    = errors.New("body has no event name")
	ErrBadPayload = errors.New("payload does not match the event's schema")
)

// Decode parses a webhook body: a UTF-8 JSON object with no duplicate keys,
// no extreme nesting and an "event" name, whose fields have the types of
// the event's payload. Unknown events decode to KindUnknown without error.
// It accepts exactly what Check accepts.
func Decode(body []byte) (*Payload, error) {
	h, err := Check(body)
	if err != nil {
		return nil, err
	}
	p := &Payload{Head: h}
	switch p.Kind {
	case KindMessage:
		p.Message = new(Message)
		err = json.Unmarshal(body, p.Message)
	case KindConversation:
		p.Conversation = new(Conversation)
		err = json.Unmarshal(body, p.Conversation)
	case KindContact:
		p.Contact = new(Contact)
		err = json.Unmarshal(body, p.Contact)
	}
	if err != nil {
		// Check passed the body: this is a disagreement between Check and
		// encoding/json, which the differential tests exist to prevent.
		return nil, fmt.Errorf("%w: %s", ErrBadPayload, describe(err))
	}
	return p, nil
}

// describe turns a json error into a message that names the field but never
// quotes payload content.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: expected %s, got %s", te.Field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	return err.Error()
}

// ContentKey identifies the event's content independently of the delivery id,
// because Chatwoot re-emits the same event with a new X-Chatwoot-Delivery when
// its dispatcher job is retried. body is hashed only where the payload has no
// natural version (message_updated, contact events).
func (p *Payload) ContentKey(account int64, body []byte) string {
	a := strconv.FormatInt(account, 10)
	switch p.Kind {
	case KindMessage:
		if p.Event == EventMessageCreated {
			return p.Event + ":" + a + ":" + strconv.FormatInt(p.Message.ID, 10)
		}
		return p.Event + ":" + a + ":" + strconv.FormatInt(p.Message.ID, 10) + ":" + bodyHash(body)
	case KindConversation:
		c := p.Conversation
		key := p.Event + ":" + a + ":" + strconv.FormatInt(c.ID, 10) + ":" + c.Status + ":" +
			strconv.FormatInt(c.UpdatedAt.UnixMicro(), 10)
		if c.UpdatedAt.IsZero() {
			key += ":" + bodyHash(body)
		}
		return key
	case KindContact:
		return p.Event + ":" + a + ":" + strconv.FormatInt(p.Contact.ID, 10) + ":" + bodyHash(body)
	}
	return p.Event + ":" + a + ":" + bodyHash(body)
}

func bodyHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:12])
}
