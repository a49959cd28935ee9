// Package conversation holds the stored state of one Chatwoot conversation and
// the order-insensitive merge that builds it from webhook observations.
package conversation

import (
	"slices"
	"time"

	"supportpipe/internal/chatwoot"
)

// maxReplies bounds the remembered agent replies; only the earliest matter for
// first-response time, and we keep a few in case an earlier customer message
// arrives late and moves the window.
const maxReplies = 16

// Key identifies a conversation: the account and the display id.
type Key struct {
	AccountID      int64 `json:"account_id"`
	ConversationID int64 `json:"conversation_id"`
}

// Reply is a public message by a human agent.
type Reply struct {
	MessageID int64     `json:"message_id"`
	At        time.Time `json:"at"`
}

// State is what we know about a conversation. Every field is a merge of
// observations that gives the same result in any order: snapshots of the
// conversation record win by Chatwoot's updated_at; message facts are min/max.
type State struct {
	Key
	InboxID    int64     `json:"inbox_id,omitempty"`
	Status     string    `json:"status,omitempty"`
	Priority   string    `json:"priority,omitempty"`
	Labels     []string  `json:"labels"`
	AssigneeID int64     `json:"assignee_id,omitempty"`
	TeamID     int64     `json:"team_id,omitempty"`
	ContactID  int64     `json:"contact_id,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	// SnapshotAt is the updated_at of the conversation record last applied.
	SnapshotAt time.Time `json:"snapshot_at,omitzero"`

	FirstCustomerMessageID int64     `json:"first_customer_message_id,omitempty"`
	FirstCustomerMessageAt time.Time `json:"first_customer_message_at,omitzero"`
	LastCustomerMessageID  int64     `json:"last_customer_message_id,omitempty"`
	LastCustomerMessageAt  time.Time `json:"last_customer_message_at,omitzero"`
	Replies                []Reply   `json:"replies,omitempty"`
	// FirstResponseAt is derived: the earliest reply at or after the first
	// customer message.
	FirstResponseAt        time.Time `json:"first_response_at,omitzero"`
	FirstResponseMessageID int64     `json:"first_response_message_id,omitempty"`

	// Version is the store's optimistic-lock counter; not part of the merge.
	Version int64 `json:"version"`
}

// Snapshot is the conversation record as a payload showed it at UpdatedAt.
type Snapshot struct {
	UpdatedAt  time.Time
	InboxID    int64
	Status     string
	Priority   string
	Labels     []string
	AssigneeID int64
	TeamID     int64
	ContactID  int64
	CreatedAt  time.Time
}

// MessageFact is what the merge needs from one message.
type MessageFact struct {
	ID      int64
	At      time.Time
	Type    chatwoot.MessageType
	Private bool
	// SenderKind is "contact", "user", "agent_bot", … (chatwoot.Message.SenderKind).
	SenderKind string
}

// Observation is everything one payload tells about one conversation.
type Observation struct {
	Key
	Snapshot *Snapshot
	Messages []MessageFact
}

// Observe extracts the observation from a decoded payload. ok is false when
// the payload concerns no conversation (contact events).
func Observe(p *chatwoot.Payload, account int64) (Observation, bool) {
	var conv *chatwoot.Conversation
	var msgs []chatwoot.Message
	switch p.Kind {
	case chatwoot.KindMessage:
		conv = p.Message.Conversation
		msgs = append(msgs, *p.Message)
	case chatwoot.KindConversation:
		conv = p.Conversation
	default:
		return Observation{}, false
	}
	o := Observation{Key: Key{AccountID: account, ConversationID: conv.ID}}
	if !conv.UpdatedAt.IsZero() {
		s := &Snapshot{
			UpdatedAt: conv.UpdatedAt.Time,
			InboxID:   conv.InboxID,
			Status:    conv.Status,
			Labels:    normaliseLabels(conv.Labels),
			CreatedAt: conv.CreatedAt.Time,
		}
		if conv.Priority != nil {
			s.Priority = *conv.Priority
		}
		if a := conv.Meta.Assignee; a != nil && conv.Meta.AssigneeType != "AgentBot" {
			s.AssigneeID = a.ID
		}
		if conv.Meta.Team != nil {
			s.TeamID = conv.Meta.Team.ID
		}
		if conv.Meta.Sender != nil {
			s.ContactID = conv.Meta.Sender.ID
		}
		o.Snapshot = s
	}
	msgs = append(msgs, conv.Messages...)
	for _, m := range msgs {
		// The same message arrives with an ISO time in milliseconds (top level)
		// and an integer epoch (nested); whole seconds make every copy agree,
		// so the merge cannot depend on which copy came first.
		if m.ID <= 0 || m.CreatedAt.IsZero() {
			continue
		}
		o.Messages = append(o.Messages, MessageFact{
			ID: m.ID, At: m.CreatedAt.Truncate(time.Second), Type: m.MessageType, Private: m.Private, SenderKind: m.SenderKind(),
		})
	}
	return o, true
}

// IsCustomerMessage reports a message the customer wrote.
func (f MessageFact) IsCustomerMessage() bool {
	return f.Type == chatwoot.Incoming && !f.Private
}

// IsHumanReply reports a public outgoing message by a user. Bots, automation
// and private notes do not answer the customer (Chatwoot's valid_first_reply?).
func (f MessageFact) IsHumanReply() bool {
	return f.Type == chatwoot.Outgoing && !f.Private && f.SenderKind == "user"
}

// Apply merges o into s and reports whether anything changed.
func (s *State) Apply(o Observation) bool {
	before := s.fingerprint()
	if s.Key == (Key{}) {
		s.Key = o.Key
	}
	if snap := o.Snapshot; snap != nil && newer(snap.UpdatedAt, s.SnapshotAt) {
		s.SnapshotAt = snap.UpdatedAt
		s.InboxID, s.Status, s.Priority = snap.InboxID, snap.Status, snap.Priority
		s.Labels = snap.Labels
		s.AssigneeID, s.TeamID = snap.AssigneeID, snap.TeamID
		if snap.ContactID != 0 {
			s.ContactID = snap.ContactID
		}
		if !snap.CreatedAt.IsZero() {
			s.CreatedAt = snap.CreatedAt
		}
	}
	for _, m := range o.Messages {
		switch {
		case m.IsCustomerMessage():
			if s.FirstCustomerMessageAt.IsZero() || earlier(m.At, m.ID, s.FirstCustomerMessageAt, s.FirstCustomerMessageID) {
				s.FirstCustomerMessageAt, s.FirstCustomerMessageID = m.At, m.ID
			}
			if s.LastCustomerMessageAt.IsZero() || earlier(s.LastCustomerMessageAt, s.LastCustomerMessageID, m.At, m.ID) {
				s.LastCustomerMessageAt, s.LastCustomerMessageID = m.At, m.ID
			}
		case m.IsHumanReply():
			s.addReply(Reply{MessageID: m.ID, At: m.At})
		}
	}
	s.deriveFirstResponse()
	return s.fingerprint() != before
}

// newer orders snapshots; equal times keep the stored one so replays are no-ops.
func newer(a, b time.Time) bool { return a.After(b) }

// earlier orders (time, id) pairs so ties resolve the same way in any order.
func earlier(at time.Time, id int64, than time.Time, thanID int64) bool {
	if !at.Equal(than) {
		return at.Before(than)
	}
	return id < thanID
}

func (s *State) addReply(r Reply) {
	for _, x := range s.Replies {
		if x.MessageID == r.MessageID {
			return
		}
	}
	s.Replies = append(s.Replies, r)
	slices.SortFunc(s.Replies, func(a, b Reply) int {
		if earlier(a.At, a.MessageID, b.At, b.MessageID) {
			return -1
		}
		return 1
	})
	if len(s.Replies) > maxReplies {
		s.Replies = s.Replies[:maxReplies]
	}
}

func (s *State) deriveFirstResponse() {
	s.FirstResponseAt, s.FirstResponseMessageID = time.Time{}, 0
	if s.FirstCustomerMessageAt.IsZero() {
		return
	}
	for _, r := range s.Replies {
		if !r.At.Before(s.FirstCustomerMessageAt) {
			s.FirstResponseAt, s.FirstResponseMessageID = r.At, r.MessageID
			return
		}
	}
}

// WaitingForFirstResponse reports a customer message with no reply yet.
func (s *State) WaitingForFirstResponse() bool {
	return !s.FirstCustomerMessageAt.IsZero() && s.FirstResponseAt.IsZero()
}

// FirstResponseTime is the wall-clock first response time, or 0 if none.
func (s *State) FirstResponseTime() time.Duration {
	if s.FirstResponseAt.IsZero() {
		return 0
	}
	return s.FirstResponseAt.Sub(s.FirstCustomerMessageAt)
}

type fingerprint struct {
	snap, fc, lc, fr      time.Time
	fcID, lcID, frID      int64
	replies               int
	status, labels, prio  string
	inbox, assignee, team int64
}

func (s *State) fingerprint() fingerprint {
	f := fingerprint{s.SnapshotAt, s.FirstCustomerMessageAt, s.LastCustomerMessageAt, s.FirstResponseAt,
		s.FirstCustomerMessageID, s.LastCustomerMessageID, s.FirstResponseMessageID,
		len(s.Replies), s.Status, "", s.Priority, s.InboxID, s.AssigneeID, s.TeamID}
	for _, l := range s.Labels {
		f.labels += l + "\x00"
	}
	return f
}

func normaliseLabels(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
