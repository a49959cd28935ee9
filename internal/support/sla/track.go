package sla

import (
	"encoding/json"
	"fmt"
	"time"

	"supportpipe/internal/support/conversation"
)

// Closed is the state of a waiting period resolved before its due time
// without an answer: it is neither met nor breached and stays out of
// compliance figures.
const Closed State = "closed"

// DayRecordKind is the kind of the per-day SLA records (one per waiting
// period, filed under the UTC day the period started).
const DayRecordKind = "sla"

// Policy is what Track needs from the configuration.
type Policy struct {
	Target         time.Duration
	AtRiskFraction float64
	// NextTarget, if set, is the target for each later answer: the customer
	// writes again after being answered and waits for the next human reply.
	NextTarget time.Duration
	// CountBots lets bot replies answer (as in conversation.State.Apply).
	CountBots bool
	// Calendar returns an inbox's business hours.
	Calendar func(inboxID int64) *Calendar
}

// Record is one waiting period measured against the first-response target.
type Record struct {
	AccountID      int64     `json:"account_id"`
	ConversationID int64     `json:"conversation_id"`
	InboxID        int64     `json:"inbox_id,omitempty"`
	Period         int       `json:"period"` // 0 for the conversation's first
	Start          time.Time `json:"start"`
	Due            time.Time `json:"due,omitzero"`
	RespondedAt    time.Time `json:"responded_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	State          State     `json:"state"`
	// Response times, set once answered.
	BusinessSeconds float64 `json:"business_seconds,omitempty"`
	WallSeconds     float64 `json:"wall_seconds,omitempty"`
	// Remaining business time to the due time (negative once overrun).
	RemainingSeconds float64 `json:"remaining_seconds"`
	// Next response: the latest wait after the first answer, when the
	// policy has a next-response target.
	NextResponse *Wait `json:"next_response,omitempty"`
}

// Wait is one customer wait for a later answer.
type Wait struct {
	Since       time.Time `json:"since"`
	Due         time.Time `json:"due,omitzero"`
	RespondedAt time.Time `json:"responded_at,omitzero"`
	State       State     `json:"state"`
}

// ID names the record: stable for a period, so rewriting it is idempotent.
func (r Record) ID() string {
	return fmt.Sprintf("%d:%d:%d", r.AccountID, r.ConversationID, r.Start.Unix())
}

// Day is the UTC day the record is filed under.
func (r Record) Day() string { return r.Start.UTC().Format(time.DateOnly) }

// Final reports whether the outcome can no longer change.
func (r Record) Final() bool { return r.State == Met || r.State == Breached || r.State == Closed }

// JSON encodes the record for a store.DayRecord.
func (r Record) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// ParseRecord decodes a record stored by JSON.
func ParseRecord(s string) (Record, error) {
	var r Record
	err := json.Unmarshal([]byte(s), &r)
	return r, err
}

// Track evaluates every waiting period of a conversation at now.
func (p Policy) Track(st *conversation.State, now time.Time) []Record {
	cal := p.Calendar(st.InboxID)
	out := make([]Record, 0, len(st.Periods))
	for i, per := range st.Periods {
		r := Record{AccountID: st.AccountID, ConversationID: st.ConversationID, InboxID: st.InboxID, Period: i,
			Start: per.Start, RespondedAt: per.RespondedAt, ResolvedAt: per.ResolvedAt}
		at := now
		if !per.ResolvedAt.IsZero() && !per.Answered() && per.ResolvedAt.Before(now) {
			at = per.ResolvedAt
		}
		s := Evaluate(p.Target, p.AtRiskFraction, cal, per.Start, per.RespondedAt, at)
		r.State, r.Due, r.RemainingSeconds = s.State, s.DueAt, s.Remaining.Seconds()
		if at != now && (s.State == Pending || s.State == AtRisk) {
			r.State = Closed
		}
		if per.Answered() {
			r.BusinessSeconds = max(cal.Between(per.Start, per.RespondedAt), 0).Seconds()
			r.WallSeconds = per.RespondedAt.Sub(per.Start).Seconds()
			if p.NextTarget > 0 {
				r.NextResponse = p.nextWait(st, per, cal, now)
			}
		}
		out = append(out, r)
	}
	return out
}

// Current evaluates the latest period, if any.
func (p Policy) Current(st *conversation.State, now time.Time) (Record, bool) {
	recs := p.Track(st, now)
	if len(recs) == 0 {
		return Record{}, false
	}
	return recs[len(recs)-1], true
}

// nextWait finds the latest time, after the period's first answer, that the
// customer wrote while it was our turn, and judges the answer to it.
func (p Policy) nextWait(st *conversation.State, per conversation.Period, cal *Calendar, now time.Time) *Wait {
	var w *Wait
	ourTurn := false
	for _, m := range st.Messages {
		if !m.At.After(per.RespondedAt) || (!per.ResolvedAt.IsZero() && m.At.After(per.ResolvedAt)) {
			continue
		}
		switch {
		case m.Kind == conversation.KindCustomer && !ourTurn:
			w, ourTurn = &Wait{Since: m.At}, true
		case ourTurn && (m.Kind == conversation.KindHuman || (p.CountBots && m.Kind == conversation.KindBot)):
			w.RespondedAt, ourTurn = m.At, false
		}
	}
	if w == nil {
		return nil
	}
	s := Evaluate(p.NextTarget, p.AtRiskFraction, cal, w.Since, w.RespondedAt, now)
	w.State, w.Due = s.State, s.DueAt
	return w
}

// Judge says where a waiting period stood at ref, under the policy, and
// whether it had begun by then: the daily report and /support/queue read
// the day's records through it. Only an answer or a resolution given by ref settles
// it; otherwise it is judged at ref, so its stored state (written by an
// event or a sweep, possibly after ref) cannot put a breach before its
// due time. Without a calendar the stored state stands.
func (p Policy) Judge(r Record, ref time.Time) (Record, bool) {
	if r.Start.After(ref) {
		return r, false
	}
	if p.Calendar == nil {
		return r, true
	}
	if !r.RespondedAt.IsZero() && !r.RespondedAt.After(ref) && (r.State == Met || r.State == Breached) {
		return r, true
	}
	if r.RespondedAt.After(ref) {
		r.RespondedAt, r.BusinessSeconds, r.WallSeconds, r.NextResponse = time.Time{}, 0, 0, nil
	}
	at := ref
	if !r.ResolvedAt.IsZero() && !r.ResolvedAt.After(ref) && r.RespondedAt.IsZero() {
		at = r.ResolvedAt
	}
	s := Evaluate(p.Target, p.AtRiskFraction, p.Calendar(r.InboxID), r.Start, r.RespondedAt, at)
	r.State, r.Due, r.RemainingSeconds = s.State, s.DueAt, s.Remaining.Seconds()
	if !at.Equal(ref) && (s.State == Pending || s.State == AtRisk) {
		// Resolved unanswered before its due time: neither met nor breached.
		r.State = Closed
	}
	return r, true
}
