package chatwoot_test

import (
	"time"
)

// The records of a Chatwoot installation and their serializers, as the
// webhook payloads use them. Each method names the Chatwoot source it
// follows (chatwoot/chatwoot, develop as of 4.15; docs/chatwoot.md §4).

// install is what differs between Chatwoot versions and editions.
type install struct {
	frontendURL string
	// conversationAccount: conversation webhook_data carries account
	// {id, name} (4.14.2, PR #12445).
	conversationAccount bool
}

type account struct {
	id   int64
	name string
	// sla: the enterprise "sla" feature, which adds applied_sla, sla_events
	// and sla_policy_id to every conversation payload.
	sla     bool
	install *install
}

// webhookData is Account#webhook_data (app/models/account.rb).
func (a *account) webhookData() hash { return h("id", a.id, "name", a.name) }

type inbox struct {
	id      int64
	name    string
	channel string // channel_type
	account *account
}

// webhookData is Inbox#webhook_data (app/models/inbox.rb).
func (i *inbox) webhookData() hash { return h("id", i.id, "name", i.name) }

func (i *inbox) webWidget() bool { return i.channel == "Channel::WebWidget" }

// sender is who wrote a message: Message#sender is polymorphic.
type sender interface {
	senderType() string
	senderID() int64
	webhookData() hash
	pushEventData() hash
}

type user struct {
	id                  int64
	name, availableName string
	email               string
	availability        string
}

func (u *user) senderType() string { return "User" }
func (u *user) senderID() int64    { return u.id }

// webhookData is User#webhook_data (app/models/user.rb).
func (u *user) webhookData() hash {
	return h("id", u.id, "name", u.name, "email", u.email, "type", "user")
}

// pushEventData is User#push_event_data (app/models/user.rb).
func (u *user) pushEventData() hash {
	return h("id", u.id, "name", u.name, "available_name", u.availableName, "avatar_url", "",
		"type", "user", "availability_status", u.availability, "thumbnail", "")
}

type agentBot struct {
	id     int64
	name   string
	avatar string
}

func (b *agentBot) senderType() string { return "AgentBot" }
func (b *agentBot) senderID() int64    { return b.id }

// webhookData is AgentBot#webhook_data (app/models/agent_bot.rb).
func (b *agentBot) webhookData() hash { return h("id", b.id, "name", b.name, "type", "agent_bot") }

// pushEventData is AgentBot#push_event_data(inbox) (app/models/agent_bot.rb):
// the bot's avatar, else the inbox's.
func (b *agentBot) pushEventData() hash {
	return h("id", b.id, "name", b.name, "avatar_url", b.avatar, "type", "agent_bot")
}

type contact struct {
	id                       int64
	account                  *account
	name                     string
	email, phone, identifier any // string or nil
	additional, custom       hash
	blocked                  bool
	avatar                   string
}

func (c *contact) senderType() string { return "Contact" }
func (c *contact) senderID() int64    { return c.id }

// webhookData is Contact#webhook_data (app/models/contact.rb): no "type".
func (c *contact) webhookData() hash {
	return h("account", c.account.webhookData(), "additional_attributes", c.additional,
		"avatar", c.avatar, "custom_attributes", c.custom, "email", c.email, "id", c.id,
		"identifier", c.identifier, "name", c.name, "phone_number", c.phone,
		"thumbnail", c.avatar, "blocked", c.blocked)
}

// pushEventData is Contact#push_event_data (app/models/contact.rb).
func (c *contact) pushEventData() hash {
	return h("additional_attributes", c.additional, "custom_attributes", c.custom,
		"email", c.email, "id", c.id, "identifier", c.identifier, "name", c.name,
		"phone_number", c.phone, "thumbnail", c.avatar, "blocked", c.blocked, "type", "contact")
}

type contactInbox struct {
	id                   int64
	contact              *contact
	inbox                *inbox
	sourceID             string
	createdAt, updatedAt time.Time
	hmacVerified         bool
	pubsubToken          string
	// current is ContactInbox#current_conversation (conversations.last).
	current *conversation
}

// record is the ContactInbox row as ActiveRecord#as_json writes it: every
// column, in table order, pubsub_token (a live widget socket token) too.
func (ci *contactInbox) record() hash {
	return h("id", ci.id, "contact_id", ci.contact.id, "inbox_id", ci.inbox.id, "source_id", ci.sourceID,
		"created_at", isoTime(ci.createdAt), "updated_at", isoTime(ci.updatedAt),
		"hmac_verified", ci.hmacVerified, "pubsub_token", ci.pubsubToken)
}

// webhookData is ContactInbox#webhook_data (app/models/contact_inbox.rb).
func (ci *contactInbox) webhookData() hash {
	var current any
	if ci.current != nil {
		current = ci.current.webhookData()
	}
	return h("id", ci.id, "contact", ci.contact.webhookData(), "inbox", ci.inbox.webhookData(),
		"account", ci.inbox.account.webhookData(), "current_conversation", current, "source_id", ci.sourceID)
}

type team struct {
	id   int64
	name string
}

// pushEventData is Team#push_event_data (app/models/team.rb).
func (t *team) pushEventData() hash { return h("id", t.id, "name", t.name) }

// Message types (enum message_type, app/models/message.rb).
const (
	incoming = 0
	outgoing = 1
	template = 3
)

var messageTypeNames = [...]string{"incoming", "outgoing", "activity", "template"}

type attachment struct {
	id          int64
	fileType    string
	extension   any
	contentType string
	dataURL     string
	thumbURL    string
	fileSize    int
	width       any
	height      any
}

type message struct {
	id           int64
	content      any // string or nil
	conv         *conversation
	messageType  int
	contentType  string
	contentAttrs hash
	additional   hash
	private      bool
	status       string
	sourceID     any
	sender       sender // nil: no sender (system messages, WhatsApp echoes)
	createdAt    time.Time
	updatedAt    time.Time
	external     hash
	sentiment    hash
	attachments  []attachment
	// processed is processed_message_content; set by processContent.
	processed any
}

// processContent is Message#ensure_processed_message_content (before_save):
// an email's trimmed text, else its trimmed HTML-as-text, else the content,
// cut at 150,000 characters.
func (m *message) processContent() {
	src := m.content
	if email, ok := lookup(m.contentAttrs, "email").(hash); ok {
		if q := lookup(lookup(email, "html_content"), "quoted"); q != nil {
			src = q
		}
		if q := lookup(lookup(email, "text_content"), "quoted"); q != nil {
			src = q
		}
	}
	if s, ok := src.(string); ok {
		src = truncate(s, 150_000)
	}
	m.processed = src
}

func lookup(v any, key string) any {
	x, ok := v.(hash)
	if !ok {
		return nil
	}
	if i := x.index(key); i >= 0 {
		return x[i].val
	}
	return nil
}

// attachmentData is Attachment#push_event_data (app/models/attachment.rb):
// base_data then file_metadata.
func (a attachment) pushEventData(m *message) hash {
	return h("id", a.id, "message_id", m.id, "file_type", a.fileType, "account_id", m.conv.inbox.account.id,
		"extension", a.extension, "content_type", a.contentType, "data_url", a.dataURL, "thumb_url", a.thumbURL,
		"file_size", a.fileSize, "width", a.width, "height", a.height)
}

func (m *message) attachmentData() []hash {
	out := make([]hash, len(m.attachments))
	for i, a := range m.attachments {
		out[i] = a.pushEventData(m)
	}
	return out
}

// webhookPushEventData is Message#webhook_push_event_data: push_event_data
// (every column of the row, in table order, then the merges of
// app/models/message.rb) with content and processed_message_content
// normalised. This is the format of conversation.messages[].
func (m *message) webhookPushEventData() hash {
	c := m.conv
	var senderType, senderID any
	if m.sender != nil {
		senderType, senderID = m.sender.senderType(), m.sender.senderID()
	}
	d := h(
		"id", m.id, "content", normalizeWebhookContent(m.content), "account_id", c.inbox.account.id,
		"inbox_id", c.inbox.id, "conversation_id", c.displayID, "message_type", m.messageType,
		"created_at", m.createdAt.Unix(), "updated_at", isoTime(m.updatedAt), "private", m.private,
		"status", m.status, "source_id", m.sourceID, "content_type", m.contentType,
		"content_attributes", m.contentAttrs, "sender_type", senderType, "sender_id", senderID,
		"external_source_ids", m.external, "additional_attributes", m.additional,
		"processed_message_content", normalizeWebhookContent(m.processed), "sentiment", m.sentiment,
		"conversation", h("assignee_id", c.assigneeUserID(), "unread_count", c.unread,
			"last_activity_at", c.lastActivityAt.Unix(), "contact_inbox", h("source_id", c.ci.sourceID)),
	)
	if len(m.attachments) > 0 {
		d = d.merge("attachments", m.attachmentData())
	}
	if m.sender != nil {
		d = d.merge("sender", m.sender.pushEventData())
	}
	return d
}

// webhookContent is MessageContentPresenter#webhook_content: a CSAT survey
// outside the web widget carries its link, then the normaliser runs.
func (m *message) webhookContent() any {
	c := m.conv
	if m.contentType == "input_csat" && !c.inbox.webWidget() {
		return "Please rate this conversation, " + c.inbox.account.install.frontendURL + "/survey/responses/" + c.uuid
	}
	return normalizeWebhookContent(m.content)
}

// webhookData is Message#webhook_data (app/models/message.rb).
func (m *message) webhookData() hash {
	var s any
	if m.sender != nil {
		s = m.sender.webhookData()
	}
	d := h(
		"account", m.conv.inbox.account.webhookData(), "additional_attributes", m.additional,
		"content_attributes", m.contentAttrs, "content_type", m.contentType, "content", m.webhookContent(),
		"conversation", m.conv.webhookData(), "created_at", isoTime(m.createdAt), "id", m.id,
		"inbox", m.conv.inbox.webhookData(), "message_type", messageTypeNames[m.messageType],
		"private", m.private, "sender", s, "source_id", m.sourceID,
	)
	if len(m.attachments) > 0 {
		d = d.merge("attachments", m.attachmentData())
	}
	return d
}

type slaPolicy struct {
	id                      int64
	name, description       string
	frt, nrt, rt            any // rubyFloat or nil
	onlyDuringBusinessHours bool
}

type appliedSLA struct {
	id                   int64
	policy               *slaPolicy
	status               string // active, hit, missed, active_with_misses
	createdAt, updatedAt time.Time
}

// pushEventData is AppliedSla#push_event_data (enterprise/app/models/applied_sla.rb).
func (a *appliedSLA) pushEventData() hash {
	return h("id", a.id, "sla_id", a.policy.id, "sla_status", a.status,
		"created_at", a.createdAt.Unix(), "updated_at", a.updatedAt.Unix(),
		"sla_description", a.policy.description, "sla_name", a.policy.name,
		"sla_first_response_time_threshold", a.policy.frt, "sla_next_response_time_threshold", a.policy.nrt,
		"sla_only_during_business_hours", a.policy.onlyDuringBusinessHours,
		"sla_resolution_time_threshold", a.policy.rt)
}

type slaEvent struct {
	id                   int64
	eventType            string // frt, nrt, rt
	meta                 hash
	createdAt, updatedAt time.Time
}

// pushEventData is SlaEvent#push_event_data (enterprise/app/models/sla_event.rb).
func (e slaEvent) pushEventData() hash {
	return h("id", e.id, "event_type", e.eventType, "meta", e.meta,
		"created_at", e.createdAt.Unix(), "updated_at", e.updatedAt.Unix())
}

type conversation struct {
	displayID    int64
	uuid         string
	inbox        *inbox
	contact      *contact
	ci           *contactInbox
	additional   hash
	canReply     bool
	labels       []string
	status       string
	custom       hash
	snoozedUntil *time.Time
	unread       int
	firstReplyAt *time.Time
	priority     any // string or nil
	waitingSince time.Time
	// assignee is a *user or an *agentBot (assigned_entity), or nil.
	assignee        sender
	team            *team
	agentLastSeen   time.Time
	contactLastSeen time.Time
	lastActivityAt  time.Time
	createdAt       time.Time
	updatedAt       time.Time
	// lastChat is messages.chat.last: the last message neither private nor
	// an activity, or nil.
	lastChat   *message
	appliedSLA *appliedSLA
	slaEvents  []slaEvent
}

func (c *conversation) assigneeUserID() any {
	if u, ok := c.assignee.(*user); ok {
		return u.id
	}
	return nil
}

// epoch is a presenter's .to_i: nil becomes 0.
func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func isoOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return isoTime(*t)
}

// pushData is Conversations::EventDataPresenter#push_data
// (app/presenters/conversations/event_data_presenter.rb), with the
// enterprise prepend (enterprise/app/presenters/enterprise/conversations/
// event_data_presenter.rb) when the account has the sla feature.
func (c *conversation) pushData(messages []any) hash {
	var assignee, assigneeType, tm any
	switch a := c.assignee.(type) {
	case *user:
		assignee, assigneeType = a.pushEventData(), "User"
	case *agentBot:
		assignee, assigneeType = a.pushEventData(), "AgentBot"
	}
	if c.team != nil {
		tm = c.team.pushEventData()
	}
	labels := c.labels
	if labels == nil {
		labels = []string{}
	}
	d := h(
		"additional_attributes", c.additional, "can_reply", c.canReply, "channel", c.inbox.channel,
		"contact_inbox", c.ci.record(), "id", c.displayID, "inbox_id", c.inbox.id, "messages", messages,
		"labels", labels,
		"meta", h("sender", c.contact.pushEventData(), "assignee", assignee, "assignee_type", assigneeType,
			"team", tm, "hmac_verified", c.ci.hmacVerified),
		"status", c.status, "custom_attributes", c.custom, "snoozed_until", isoOrNil(c.snoozedUntil),
		"unread_count", c.unread, "first_reply_created_at", isoOrNil(c.firstReplyAt),
		"priority", c.priority, "waiting_since", epoch(c.waitingSince),
		"agent_last_seen_at", epoch(c.agentLastSeen), "contact_last_seen_at", epoch(c.contactLastSeen),
		"last_activity_at", epoch(c.lastActivityAt), "timestamp", epoch(c.lastActivityAt),
		"created_at", epoch(c.createdAt), "updated_at", epochF(c.updatedAt),
	)
	if c.inbox.account.sla {
		var applied, policyID any
		events := []any{}
		if c.appliedSLA != nil {
			applied, policyID = c.appliedSLA.pushEventData(), c.appliedSLA.policy.id
			for _, e := range c.slaEvents {
				events = append(events, e.pushEventData())
			}
		}
		d = d.merge("applied_sla", applied, "sla_events", events, "sla_policy_id", policyID)
	}
	return d
}

// webhookData is Conversation#webhook_data: the presenter's webhook_data,
// push_data with the messages in webhook format and, from 4.14.2, the
// account merged in (after the timestamps and the SLA fields).
func (c *conversation) webhookData() hash {
	messages := []any{}
	if c.lastChat != nil {
		messages = append(messages, c.lastChat.webhookPushEventData())
	}
	d := c.pushData(messages)
	if c.inbox.account.install.conversationAccount {
		d = d.merge("account", c.inbox.account.webhookData())
	}
	return d
}

// change is one entry of changed_attributes (BaseListener#extract_changed_attributes).
func change(attr string, previous, current any) hash {
	return h(attr, h("previous_value", previous, "current_value", current))
}

// Webhook bodies, as app/listeners/webhook_listener.rb builds them.

func messageEvent(event string, m *message) hash { return m.webhookData().merge("event", event) }

func conversationEvent(event string, c *conversation, changes []hash) hash {
	d := c.webhookData().merge("event", event)
	if event == "conversation_created" {
		return d
	}
	if changes == nil {
		return d.merge("changed_attributes", nil)
	}
	return d.merge("changed_attributes", changes)
}

func contactEvent(event string, c *contact, changes []hash) hash {
	d := c.webhookData().merge("event", event)
	if event == "contact_updated" {
		d = d.merge("changed_attributes", changes)
	}
	return d
}

func typingEvent(event string, who sender, c *conversation, private bool) hash {
	return h("event", event, "user", who.webhookData(), "conversation", c.webhookData(), "is_private", private)
}

func webwidgetTriggered(ci *contactInbox, info hash) hash {
	return ci.webhookData().merge("event", "webwidget_triggered", "event_info", info)
}
