package reconcile

import (
	"encoding/json"
	"fmt"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
)

// The types below write webhook bodies in Chatwoot's shapes
// (docs/chatwoot.md §4), from what the REST API returned. REST and webhooks
// encode the same data differently: message_type is an integer in REST and a
// string at the top level of a webhook, and each time has its own encoding
// per object.

// messagePayload is the top-level message of a message_created webhook.
type messagePayload struct {
	ID                int64                 `json:"id"`
	Content           *string               `json:"content"`
	ContentType       string                `json:"content_type"`
	ContentAttributes json.RawMessage       `json:"content_attributes"`
	MessageType       chatwoot.MessageType  `json:"message_type"`
	Private           bool                  `json:"private"`
	SourceID          *string               `json:"source_id"`
	CreatedAt         *string               `json:"created_at"`
	Sender            *senderPayload        `json:"sender"`
	Account           idRef                 `json:"account"`
	Inbox             idRef                 `json:"inbox"`
	Conversation      conversationPayload   `json:"conversation"`
	Attachments       []chatwoot.Attachment `json:"attachments,omitempty"`
	Event             string                `json:"event"`

	// AdditionalAttributes is {} when REST left it out, as its messages
	// endpoint does: a back-filled campaign message then reads as its
	// sender's.
	AdditionalAttributes json.RawMessage `json:"additional_attributes"`
}

// idRef is an {id, name} reference whose name REST does not give.
type idRef struct {
	ID int64 `json:"id"`
}

// conversationPayload is the conversation webhook_data.
type conversationPayload struct {
	ID               int64          `json:"id"`
	InboxID          int64          `json:"inbox_id"`
	Status           string         `json:"status"`
	Priority         *string        `json:"priority"`
	Labels           []string       `json:"labels"`
	CustomAttributes map[string]any `json:"custom_attributes"`
	Channel          string         `json:"channel,omitempty"`
	// Messages stays empty. Chatwoot nests the latest message here, but
	// REST's latest is the one at poll time; nesting it would slip it into
	// every back-filled body instead of only its own.
	Messages            []struct{}  `json:"messages"`
	Meta                metaPayload `json:"meta"`
	FirstReplyCreatedAt *string     `json:"first_reply_created_at"`
	WaitingSince        int64       `json:"waiting_since"`
	LastActivityAt      int64       `json:"last_activity_at"`
	Timestamp           int64       `json:"timestamp"`
	CreatedAt           int64       `json:"created_at"`
	UpdatedAt           json.Number `json:"updated_at"`
}

type metaPayload struct {
	Sender       *senderPayload `json:"sender"`
	Assignee     *senderPayload `json:"assignee"`
	AssigneeType *string        `json:"assignee_type"`
	Team         *chatwoot.Ref  `json:"team"`
}

// statusPayload is a conversation_status_changed webhook.
type statusPayload struct {
	conversationPayload
	Event string `json:"event"`
	// ChangedAttributes is null, as Chatwoot sends it for this event
	// (docs/chatwoot.md §4.2).
	ChangedAttributes []map[string]chatwoot.Change `json:"changed_attributes"`
}

// senderPayload is a contact, user or bot. Fields REST left empty are
// omitted rather than invented.
type senderPayload struct {
	ID               int64          `json:"id"`
	Name             string         `json:"name"`
	Type             string         `json:"type,omitempty"`
	Email            string         `json:"email,omitempty"`
	PhoneNumber      string         `json:"phone_number,omitempty"`
	Identifier       string         `json:"identifier,omitempty"`
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
}

// messageBody is the message_created webhook for m of c.
func messageBody(account int64, c *rest.Conversation, m *chatwoot.Message) ([]byte, error) {
	inbox := m.InboxID
	if inbox == 0 {
		inbox = c.InboxID
	}
	p := messagePayload{
		ID:                   m.ID,
		Content:              nullable(m.Content),
		ContentType:          m.ContentType,
		ContentAttributes:    object(m.ContentAttributes),
		MessageType:          m.MessageType,
		Private:              m.Private,
		SourceID:             nullable(m.SourceID),
		CreatedAt:            iso(m.CreatedAt.Time),
		Sender:               messageSender(m),
		Account:              idRef{account},
		Inbox:                idRef{inbox},
		Conversation:         conversationOf(c),
		Attachments:          m.Attachments,
		Event:                chatwoot.EventMessageCreated,
		AdditionalAttributes: object(m.AdditionalAttributes),
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode message_created: %w", err)
	}
	return b, nil
}

// object is v, or {} where REST gave null or nothing: webhooks always carry
// the object. content_attributes passes through whole, so the rebuilt body
// decides a human reply (external_echo, automation_rule_id) as the webhook
// would.
func object(v json.RawMessage) json.RawMessage {
	if len(v) == 0 || string(v) == "null" {
		return json.RawMessage("{}")
	}
	return v
}

// statusBody is the conversation_status_changed webhook for c's status.
func statusBody(c *rest.Conversation) ([]byte, error) {
	b, err := json.Marshal(statusPayload{conversationPayload: conversationOf(c), Event: chatwoot.EventConversationStatusChanged})
	if err != nil {
		return nil, fmt.Errorf("encode conversation_status_changed: %w", err)
	}
	return b, nil
}

func conversationOf(c *rest.Conversation) conversationPayload {
	labels := c.Labels
	if labels == nil {
		labels = []string{}
	}
	custom := c.CustomAttributes
	if custom == nil {
		custom = map[string]any{}
	}
	return conversationPayload{
		ID:               c.ID,
		InboxID:          c.InboxID,
		Status:           c.Status,
		Priority:         c.Priority,
		Labels:           labels,
		CustomAttributes: custom,
		Channel:          c.Channel,
		Messages:         []struct{}{},
		Meta: metaPayload{
			Sender:       senderOf(c.Meta.Sender),
			Assignee:     senderOf(c.Meta.Assignee),
			AssigneeType: nullable(c.Meta.AssigneeType),
			Team:         c.Meta.Team,
		},
		FirstReplyCreatedAt: iso(c.FirstReplyCreatedAt.Time),
		WaitingSince:        epoch(c.WaitingSince.Time),
		LastActivityAt:      epoch(c.LastActivityAt.Time),
		Timestamp:           epoch(c.LastActivityAt.Time),
		CreatedAt:           epoch(c.CreatedAt.Time),
		UpdatedAt:           floatEpoch(c.UpdatedAt.Time),
	}
}

// messageSender is the top-level sender, where contacts carry no type and
// users and bots do (docs/chatwoot.md §4.1). REST may name the sender only by sender_type and
// sender_id; the type then comes from sender_type.
func messageSender(m *chatwoot.Message) *senderPayload {
	kind := m.SenderKind()
	s := senderOf(m.Sender)
	if s == nil {
		if m.SenderID <= 0 || kind == "" {
			return nil
		}
		s = &senderPayload{ID: m.SenderID}
	}
	s.Type = kind
	if kind == "contact" {
		s.Type = ""
	}
	return s
}

func senderOf(s *chatwoot.Sender) *senderPayload {
	if s == nil {
		return nil
	}
	return &senderPayload{ID: s.ID, Name: s.Name, Type: s.Type, Email: s.Email, PhoneNumber: s.PhoneNumber,
		Identifier: s.Identifier, CustomAttributes: s.CustomAttributes}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// iso writes t as ActiveSupport does: UTC with milliseconds; null if zero.
func iso(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return nullable(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// epoch writes t as integer seconds, 0 if zero.
func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// floatEpoch writes t as Chatwoot writes updated_at: seconds with the
// microseconds as a fraction. It is formatted in decimal, not through a
// float64, so no binary rounding can move the microseconds that the
// processor's content key for a status change is built from.
func floatEpoch(t time.Time) json.Number {
	if t.IsZero() {
		return "0"
	}
	return json.Number(fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/int(time.Microsecond)))
}
