// Package conversation holds the stored state of one Chatwoot conversation and
// the order-insensitive merge that builds it from webhook observations.
package conversation

import (
	"slices"
	"time"

	"supportpipe/internal/chatwoot"
)

// Bounds on what one conversation remembers. Only recent waiting periods
// matter for SLAs and the report; the caps keep a runaway conversation's item
// far below DynamoDB's 400 KB.
const (
	maxMessages    = 64
	maxResolutions = 16
	// A conversation's labels as a payload lists them: Chatwoot's own are
	// a handful of short titles; a signed payload may still list thousands
	// of long ones, which would push the item past DynamoDB's limit and
	// dead-letter the event.
	maxLabels     = 100
	maxLabelBytes = 255
)

// Message kinds kept in the timeline.
const (
	KindCustomer = "customer" // public incoming message
	KindHuman    = "human"    // public outgoing message by a person (chatwoot.Message.HumanReply)
	KindBot      = "bot"      // any other public outgoing message: a bot, an automation, a campaign
)

// Key identifies a conversation: the account and the display id.
type Key struct {
	AccountID      int64 `json:"account_id"`
	ConversationID int64 `json:"conversation_id"`
}

// Fact is one message in the timeline.
type Fact struct {
	MessageID int64     `json:"id"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
}

// Period is one stretch in which the customer waits for an answer: it starts
// at the first customer message after the conversation was (re)opened and is
// answered by the first human reply after that. Resolving the conversation
// ends it; the next customer message starts a new one.
type Period struct {
	Start            time.Time `json:"start"`
	StartMessageID   int64     `json:"start_message_id"`
	RespondedAt      time.Time `json:"responded_at,omitzero"`
	ResponseID       int64     `json:"response_message_id,omitempty"`
	ResolvedAt       time.Time `json:"resolved_at,omitzero"`
	LastCustomerAt   time.Time `json:"last_customer_at"`
	LastCustomerID   int64     `json:"last_customer_message_id"`
	CustomerMessages int       `json:"customer_messages"`
}

// Answered reports whether the period has its first response.
func (p Period) Answered() bool { return !p.RespondedAt.IsZero() }

// State is what we know about a conversation. Every stored field is a merge
// that gives the same result in any order: the conversation record wins by
// Chatwoot's updated_at, messages and resolutions are sets. Periods and the
// first-response fields are derived from them.
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

	Messages    []Fact      `json:"messages,omitempty"`
	Resolutions []time.Time `json:"resolutions,omitempty"`
	// ImplausibleTimes keeps, for the record, the times payloads carried
	// that the merge replaced with the receipt time (chatwoot.Time.Clamp).
	ImplausibleTimes []ImplausibleTime `json:"implausible_times,omitempty"`

	// Derived on every Apply.
	FirstCustomerMessageID int64     `json:"first_customer_message_id,omitempty"`
	FirstCustomerMessageAt time.Time `json:"first_customer_message_at,omitzero"`
	FirstResponseMessageID int64     `json:"first_response_message_id,omitempty"`
	FirstResponseAt        time.Time `json:"first_response_at,omitzero"`
	Periods                []Period  `json:"periods,omitempty"`

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

// Observation is everything one payload tells about one conversation.
type Observation struct {
	Key
	Snapshot *Snapshot
	Messages []Fact
	// ResolvedAt is set by a conversation_status_changed to resolved.
	ResolvedAt time.Time
	// ImplausibleTimes are the payload's times that the ones above replace.
	ImplausibleTimes []ImplausibleTime
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
		if p.Event == chatwoot.EventConversationStatusChanged && conv.Status == "resolved" {
			o.ResolvedAt = conv.UpdatedAt.Truncate(time.Second)
		}
	}
	msgs = append(msgs, conv.Messages...)
	o.ImplausibleTimes = implausibleTimes(conv, msgs)
	for _, m := range msgs {
		if m.ID <= 0 || m.CreatedAt.IsZero() {
			continue
		}
		if kind := factKind(&m); kind != "" {
			// The same message arrives with an ISO time in milliseconds (top
			// level) and an integer epoch (nested); whole seconds make every
			// copy agree, so the merge cannot depend on which came first.
			o.Messages = append(o.Messages, Fact{MessageID: m.ID, At: m.CreatedAt.Truncate(time.Second), Kind: kind})
		}
	}
	return o, true
}

// factKind classifies a message for the timeline; "" means it does not
// matter for waiting (private notes, activity, templates).
func factKind(m *chatwoot.Message) string {
	if m.Private {
		return ""
	}
	switch m.MessageType {
	case chatwoot.Incoming:
		return KindCustomer
	case chatwoot.Outgoing:
		if m.HumanReply() {
			return KindHuman
		}
		return KindBot
	}
	return ""
}

// Apply merges o into s and reports whether anything changed. countBots makes
// bot replies answer a waiting customer (off by default, as in Chatwoot).
func (s *State) Apply(o Observation, countBots bool) bool {
	before := s.fingerprint()
	if s.Key == (Key{}) {
		s.Key = o.Key
	}
	if snap := o.Snapshot; snap != nil && snap.UpdatedAt.After(s.SnapshotAt) {
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
		s.addMessage(m)
	}
	if !o.ResolvedAt.IsZero() && !slices.ContainsFunc(s.Resolutions, o.ResolvedAt.Equal) {
		s.Resolutions = append(s.Resolutions, o.ResolvedAt)
		slices.SortFunc(s.Resolutions, time.Time.Compare)
		if len(s.Resolutions) > maxResolutions {
			s.Resolutions = s.Resolutions[len(s.Resolutions)-maxResolutions:]
		}
	}
	s.noteImplausible(o.ImplausibleTimes)
	s.derive(countBots)
	return s.fingerprint() != before
}

func (s *State) addMessage(m Fact) {
	i, found := slices.BinarySearchFunc(s.Messages, m, compareFacts)
	if found {
		return
	}
	for _, x := range s.Messages {
		if x.MessageID == m.MessageID { // same id, another kind: keep the first classification
			return
		}
	}
	s.Messages = slices.Insert(s.Messages, i, m)
	if len(s.Messages) > maxMessages {
		s.Messages = s.Messages[len(s.Messages)-maxMessages:]
	}
}

func compareFacts(a, b Fact) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	switch {
	case a.MessageID < b.MessageID:
		return -1
	case a.MessageID > b.MessageID:
		return 1
	}
	return 0
}

// derive rebuilds the waiting periods and first-response fields from the
// timeline. Deterministic in the sets, so the merge stays order-insensitive.
func (s *State) derive(countBots bool) {
	s.Periods = s.Periods[:0]
	res := 0 // index of the next resolution not yet passed
	var cur *Period
	for _, m := range s.Messages {
		for res < len(s.Resolutions) && !s.Resolutions[res].After(m.At) {
			if cur != nil {
				cur.ResolvedAt = s.Resolutions[res]
				cur = nil
			}
			res++
		}
		switch {
		case m.Kind == KindCustomer:
			if cur == nil {
				s.Periods = append(s.Periods, Period{Start: m.At, StartMessageID: m.MessageID})
				cur = &s.Periods[len(s.Periods)-1]
			}
			cur.LastCustomerAt, cur.LastCustomerID = m.At, m.MessageID
			cur.CustomerMessages++
		case cur != nil && !cur.Answered() && (m.Kind == KindHuman || (countBots && m.Kind == KindBot)):
			cur.RespondedAt, cur.ResponseID = m.At, m.MessageID
		}
	}
	if cur != nil && res < len(s.Resolutions) {
		cur.ResolvedAt = s.Resolutions[res]
	}
	if len(s.Periods) == 0 {
		s.Periods = nil
	}
	s.FirstCustomerMessageID, s.FirstCustomerMessageAt = 0, time.Time{}
	s.FirstResponseMessageID, s.FirstResponseAt = 0, time.Time{}
	if len(s.Periods) > 0 {
		p := s.Periods[0]
		s.FirstCustomerMessageID, s.FirstCustomerMessageAt = p.StartMessageID, p.Start
		s.FirstResponseMessageID, s.FirstResponseAt = p.ResponseID, p.RespondedAt
	}
}

// Current is the latest waiting period, if any.
func (s *State) Current() (Period, bool) {
	if len(s.Periods) == 0 {
		return Period{}, false
	}
	return s.Periods[len(s.Periods)-1], true
}

// WaitingSince is the start of the current unanswered, unresolved period, or
// zero. The stores index conversations by it so SLA sweeps never scan.
func (s *State) WaitingSince() time.Time {
	p, ok := s.Current()
	if !ok || p.Answered() || !p.ResolvedAt.IsZero() {
		return time.Time{}
	}
	return p.Start
}

// WaitingForFirstResponse reports a customer waiting for an answer.
func (s *State) WaitingForFirstResponse() bool { return !s.WaitingSince().IsZero() }

// FirstResponseTime is the wall-clock first response time, or 0 if none.
func (s *State) FirstResponseTime() time.Duration {
	if s.FirstResponseAt.IsZero() {
		return 0
	}
	return s.FirstResponseAt.Sub(s.FirstCustomerMessageAt)
}

// Clone returns a deep copy, so a store can hand out states safely.
func (s State) Clone() State {
	s.Labels = slices.Clone(s.Labels)
	s.Messages = slices.Clone(s.Messages)
	s.Resolutions = slices.Clone(s.Resolutions)
	s.Periods = slices.Clone(s.Periods)
	s.ImplausibleTimes = slices.Clone(s.ImplausibleTimes)
	return s
}

type fingerprint struct {
	snap, firstResolution              time.Time
	messages, resolutions, implausible int
	firstMessage                       Fact
	firstImplausible                   ImplausibleTime
}

// fingerprint changes whenever Apply changed something: the snapshot time
// moves with every snapshot change, and the sets only grow (a capped set
// drops its oldest entry, which changes its first element).
func (s *State) fingerprint() fingerprint {
	f := fingerprint{snap: s.SnapshotAt, messages: len(s.Messages), resolutions: len(s.Resolutions), implausible: len(s.ImplausibleTimes)}
	if len(s.Messages) > 0 {
		f.firstMessage = s.Messages[0]
	}
	if len(s.Resolutions) > 0 {
		f.firstResolution = s.Resolutions[0]
	}
	if len(s.ImplausibleTimes) > 0 {
		f.firstImplausible = s.ImplausibleTimes[0]
	}
	return f
}

func normaliseLabels(in []string) []string {
	out := slices.DeleteFunc(slices.Clone(in), func(l string) bool { return len(l) > maxLabelBytes })
	slices.Sort(out)
	out = slices.Compact(out)
	return out[:min(len(out), maxLabels)]
}
