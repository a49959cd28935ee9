package conversation

import (
	"cmp"
	"slices"
	"time"

	"supportpipe/internal/chatwoot"
)

// maxImplausible bounds the record of implausible times; the latest stay.
const maxImplausible = 16

// ImplausibleTime is a time a payload carried that cannot be true: before
// 2000, or more than a day after the webhook arrived. The merge used the
// receipt time (Used) instead.
type ImplausibleTime struct {
	// Field is message.created_at, conversation.created_at or
	// conversation.updated_at: the times the merge reads.
	Field     string `json:"field"`
	MessageID int64  `json:"message_id,omitempty"`
	// Reported is RFC 3339 text, not a time: it may lie past year 9999,
	// which a JSON time cannot hold.
	Reported string    `json:"reported"`
	Used     time.Time `json:"used"`
}

// implausibleTimes lists the clamped times among those Observe reads.
func implausibleTimes(conv *chatwoot.Conversation, msgs []chatwoot.Message) []ImplausibleTime {
	var out []ImplausibleTime
	note := func(field string, id int64, t chatwoot.Time) {
		if !t.Reported.IsZero() {
			out = append(out, ImplausibleTime{Field: field, MessageID: id, Reported: t.Reported.Format(time.RFC3339Nano), Used: t.Time})
		}
	}
	if !conv.UpdatedAt.IsZero() {
		note("conversation.created_at", 0, conv.CreatedAt)
		note("conversation.updated_at", 0, conv.UpdatedAt)
	}
	for i := range msgs {
		if m := &msgs[i]; m.ID > 0 && factKind(m) != "" {
			note("message.created_at", m.ID, m.CreatedAt)
		}
	}
	return out
}

// noteImplausible adds to the record as to a set ordered by time, so the
// merge stays order-insensitive.
func (s *State) noteImplausible(in []ImplausibleTime) {
	for _, x := range in {
		if !slices.ContainsFunc(s.ImplausibleTimes, func(y ImplausibleTime) bool { return compareImplausible(x, y) == 0 }) {
			s.ImplausibleTimes = append(s.ImplausibleTimes, x)
		}
	}
	slices.SortFunc(s.ImplausibleTimes, compareImplausible)
	if len(s.ImplausibleTimes) > maxImplausible {
		s.ImplausibleTimes = s.ImplausibleTimes[len(s.ImplausibleTimes)-maxImplausible:]
	}
}

func compareImplausible(a, b ImplausibleTime) int {
	return cmp.Or(a.Used.Compare(b.Used), cmp.Compare(a.Field, b.Field), cmp.Compare(a.MessageID, b.MessageID),
		cmp.Compare(a.Reported, b.Reported))
}
