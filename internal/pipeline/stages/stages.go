// Package stages is the support logic the processor runs after the state
// merge, as one processor stage: classify customer messages (tags, anger,
// VIP), label the conversation, track the first-response SLA, escalate, and
// ask the AI drafting agent for a reply. The sweeper part marks SLA breaches
// on time when no event arrives. Every effect goes through store.Once or
// store.Converge.
package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/drafts"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

// Tagger tags message text (tagging.Tagger).
type Tagger interface{ Tags(text string) []string }

// Scorer scores anger in message text (anger.Detector).
type Scorer interface{ Score(text string) float64 }

// Support holds what the stages need.
type Support struct {
	Store     store.Store
	Chatwoot  rest.Client
	Tagger    Tagger
	Anger     Scorer
	Escalator *escalation.Escalator
	SLA       sla.Policy
	Drafts    drafts.Sender
	Log       *slog.Logger
	Now       func() time.Time
}

// event is one event as the steps see it: the processor's view, and what
// classify found for the steps after it.
type event struct {
	*processor.Event
	customer bool     // a public message the customer wrote
	tags     []string // tags of the message text
	anger    float64  // anger score of the message text
	vip      bool
}

type step struct {
	name string
	run  func(ctx context.Context, ev *event) error
}

// Stage returns the support logic as one processor stage: its steps run in
// order, and an error names the step.
func (t *Support) Stage() processor.Stage {
	return supportStage{steps: []step{
		{"classify", t.classify},
		{"label", t.label},
		{"sla", t.trackSLA},
		{"escalate", t.escalate},
		{"draft", t.draft},
	}}
}

type supportStage struct{ steps []step }

func (supportStage) Name() string { return "support" }

func (s supportStage) Run(ctx context.Context, pev *processor.Event) error {
	ev := &event{Event: pev}
	for _, st := range s.steps {
		if err := st.run(ctx, ev); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return nil
}

// customerMessage returns the message when ev is a new public message from
// the customer; our own notes and every other event are not.
func customerMessage(ev *event) *chatwoot.Message {
	p := ev.Payload
	if p.Event != chatwoot.EventMessageCreated || ev.Conversation == nil {
		return nil
	}
	m := p.Message
	if m.Private || m.MessageType != chatwoot.Incoming || rest.IsOwnNote(m) {
		return nil
	}
	return m
}

func (t *Support) classify(_ context.Context, ev *event) error {
	switch p := ev.Payload; {
	case p.Event == chatwoot.EventConversationCreated:
		ev.Count(stats.Opened, 1)
	case p.Event == chatwoot.EventConversationStatusChanged && p.Conversation.Status == "resolved":
		ev.Count(stats.Resolved, 1)
	}
	if ev.Backfilled {
		ev.Count(stats.Backfilled, 1)
	}
	m := customerMessage(ev)
	if m == nil {
		return nil
	}
	ev.customer = true
	text := strings.TrimSpace(m.Content)
	if text != "" {
		ev.tags = t.Tagger.Tags(text)
		ev.anger = t.Anger.Score(text)
		for _, tag := range ev.tags {
			ev.Count(stats.TagPrefix+tag, 1)
		}
	}
	ev.vip = t.Escalator.Config.VIP.IsVIP(contactOf(m), ev.Conversation.Labels)
	return nil
}

// label adds the message's tags to the conversation's labels, unless the
// conversation as Chatwoot last sent it has them all. A label merge
// converges, so it is recorded after it ran rather than claimed first.
func (t *Support) label(ctx context.Context, ev *event) error {
	if !ev.customer || len(ev.tags) == 0 {
		return nil
	}
	if !slices.ContainsFunc(ev.tags, func(tag string) bool { return !slices.Contains(ev.Conversation.Labels, tag) }) {
		return nil
	}
	k := ev.Conversation.Key
	a := store.Action{Key: k, ID: fmt.Sprintf("labels:%d", ev.Payload.Message.ID), Kind: "label", Owner: ev.MessageID,
		Detail: jsonString(map[string]any{"add": ev.tags}), At: t.Now()}
	_, err := store.Converge(ctx, t.Store, a, func(ctx context.Context) (string, error) {
		set, err := t.Chatwoot.AddLabels(ctx, k.AccountID, k.ConversationID, ev.tags)
		return jsonString(set), err
	})
	return err
}

// trackSLA files a record for every waiting period this event changed.
func (t *Support) trackSLA(ctx context.Context, ev *event) error {
	if ev.Conversation == nil {
		return nil
	}
	now := t.Now()
	before := map[string]sla.Record{}
	if ev.Previous != nil {
		for _, r := range t.SLA.Track(ev.Previous, now) {
			before[r.ID()] = r
		}
	}
	for _, r := range t.SLA.Track(ev.Conversation, now) {
		if b, ok := before[r.ID()]; ok && b.RespondedAt.Equal(r.RespondedAt) && b.ResolvedAt.Equal(r.ResolvedAt) && b.InboxID == r.InboxID {
			continue
		}
		if err := t.fileSLA(ctx, r, ev.Conversation.Version, now); err != nil {
			return err
		}
		if err := t.dropBreach(ctx, ev, r); err != nil {
			return err
		}
	}
	return nil
}

// dropBreach gives up the escalation of a breached waiting period that has
// ended, answered or resolved, while the sweeper's escalation of it had
// failed (Chatwoot down): the sweeper, which only looks at conversations
// still waiting, would never run it again. Posted now, the note and the
// urgent priority would call for action on a customer already answered:
// noise. The breach itself is in the SLA records and the daily report
// either way. The action is marked dropped and counted, so the give-up is
// visible rather than a failure left behind (docs/reliability.md).
func (t *Support) dropBreach(ctx context.Context, ev *event, r sla.Record) error {
	if r.State != sla.Breached || (r.RespondedAt.IsZero() && r.ResolvedAt.IsZero()) {
		return nil
	}
	k := ev.Conversation.Key
	id := breachAction(r)
	a, ok, err := t.Store.Action(ctx, k, id)
	if err != nil {
		return fmt.Errorf("read %s: %w", id, err)
	}
	// Dropped by this message already: an earlier attempt of it did, and
	// its count went with that attempt.
	again := ok && a.Status == store.ActionDropped && a.Owner == ev.MessageID
	if !again && (!ok || a.Status != store.ActionFailed) {
		return nil
	}
	if !again {
		// A sweep that took the action over between the read and this
		// write would still run it: at worst the note is posted, once.
		a.Status, a.Owner, a.Result = store.ActionDropped, ev.MessageID, "waiting period ended before the escalation was posted"
		if err := t.Store.RecordAction(ctx, a); err != nil {
			return fmt.Errorf("drop %s: %w", id, err)
		}
		t.Log.LogAttrs(ctx, slog.LevelWarn, "SLA breach escalation dropped: the waiting period ended first",
			slog.Int64("account_id", k.AccountID), slog.Int64("conversation_id", k.ConversationID), slog.Time("due", r.Due))
	}
	ev.Count(stats.BreachEscalationsDropped, 1)
	return nil
}

// breachAction is the id of the sweeper's escalation of a breached period.
func breachAction(r sla.Record) string { return fmt.Sprintf("sla-breach:%d", r.Start.Unix()) }

// fileSLA files r as computed from the conversation state of the given
// version: an event that merged before another but runs its stages after
// it does not overwrite the newer view (store.DayRecord.Version).
func (t *Support) fileSLA(ctx context.Context, r sla.Record, version int64, now time.Time) error {
	rec := store.DayRecord{Day: r.Day(), Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: now, Version: version}
	if err := t.Store.AddDayRecord(ctx, rec); err != nil {
		return fmt.Errorf("file SLA record: %w", err)
	}
	return nil
}

func (t *Support) escalate(ctx context.Context, ev *event) error {
	if ev.Conversation == nil {
		return nil
	}
	var reasons []string
	detail := map[string]string{}
	if ev.customer && ev.anger >= t.Escalator.Config.AngerThreshold {
		reasons = append(reasons, escalation.ReasonAngry)
		detail[escalation.ReasonAngry] = fmt.Sprintf("score %.2f", ev.anger)
	}
	if ev.customer && ev.vip {
		reasons = append(reasons, escalation.ReasonVIP)
	}
	// SLA breaches are escalated by the sweeper alone: it looks at
	// conversations still waiting after every event so far is merged, while
	// an event processed late (a redrive, a back-log) may be judged before
	// the reply that answered it, and would escalate a met SLA.
	if len(reasons) == 0 {
		return nil
	}
	return t.Escalator.Escalate(ctx, ev.Conversation.Key, ev.MessageID, reasons, detail)
}

// draft asks for a reply when the customer wrote and nobody has answered
// since: a message an agent already answered (it arrived late) needs none.
func (t *Support) draft(ctx context.Context, ev *event) error {
	if !ev.customer || t.Drafts == nil {
		return nil
	}
	m := ev.Payload.Message
	st := ev.Conversation
	cur, ok := st.Current()
	if !ok || cur.Answered() || !cur.ResolvedAt.IsZero() || m.CreatedAt.Truncate(time.Second).Before(cur.Start) ||
		strings.TrimSpace(m.Content) == "" {
		return nil
	}
	k := st.Key
	req := drafts.Request{
		ID: drafts.RequestID(k.AccountID, k.ConversationID, m.ID), AccountID: k.AccountID, ConversationID: k.ConversationID,
		InboxID: st.InboxID, Message: drafts.Message{ID: m.ID, Content: m.Content, CreatedAt: m.CreatedAt.Time},
		Tags: ev.tags, AngerScore: ev.anger, Angry: ev.anger >= t.Escalator.Config.AngerThreshold, VIP: ev.vip,
		RequestedAt: t.Now(),
	}
	if c := contactOf(m); c != nil {
		req.ContactName = c.Name
	}
	if r, ok := t.SLA.Current(st, t.Now()); ok {
		req.SLA = drafts.SLA{State: string(r.State), DueAt: r.Due}
	}
	a := store.Action{Key: k, ID: fmt.Sprintf("draft:%d", m.ID), Kind: "draft", Owner: ev.MessageID,
		Detail: jsonString(map[string]any{"request_id": req.ID, "message_id": m.ID}), At: t.Now()}
	// A request converges: its id is stable per message and the drafting
	// agent deduplicates on it (docs/drafts.md), so a second one after a
	// crash asks for nothing new. One write instead of a claim and a finish.
	_, err := store.Converge(ctx, t.Store, a, func(ctx context.Context) (string, error) {
		return drafts.Enqueue(ctx, t.Drafts, req)
	})
	return err
}

// sweeperOwner owns the sweeper's effect claims: a sweep that crashed is
// resumed by the next one.
const sweeperOwner = "sweeper"

// Sweep marks breaches of waiting conversations whose due time passed, and
// escalates them, even when no event arrives. An escalation that failed is
// run again by the next sweeps while the customer still waits; once the
// waiting period ends it is dropped (dropBreach). It returns how many
// breaches it filed this run.
func (t *Support) Sweep(ctx context.Context, limit int) (int, error) {
	now := t.Now()
	waiting, err := t.Store.WaitingForFirstResponse(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("list waiting: %w", err)
	}
	n := 0
	for i := range waiting {
		st := &waiting[i]
		r, ok := t.SLA.Current(st, now)
		if !ok || r.State != sla.Breached {
			continue
		}
		a := store.Action{Key: st.Key, ID: breachAction(r), Kind: "sla_breach", Owner: sweeperOwner,
			Detail: jsonString(map[string]any{"due": r.Due}), At: now}
		ran, err := store.Once(ctx, t.Store, a, func(ctx context.Context) (string, error) {
			if err := t.fileSLA(ctx, r, st.Version, now); err != nil {
				return "", err
			}
			return "", t.Escalator.Escalate(ctx, st.Key, sweeperOwner, []string{escalation.ReasonSLABreach},
				map[string]string{escalation.ReasonSLABreach: "due " + r.Due.UTC().Format(time.RFC3339)})
		})
		if err != nil {
			t.Log.LogAttrs(ctx, slog.LevelError, "sla sweep", slog.Int64("conversation_id", st.ConversationID), slog.String("error", err.Error()))
			continue
		}
		if ran {
			n++
			t.Log.LogAttrs(ctx, slog.LevelWarn, "first-response SLA breached", slog.Int64("account_id", st.AccountID),
				slog.Int64("conversation_id", st.ConversationID), slog.Time("due", r.Due))
		}
	}
	return n, nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// contactOf is the customer who wrote m, as the message or its conversation
// names them.
func contactOf(m *chatwoot.Message) *chatwoot.Sender {
	if m.Sender == nil && m.Conversation != nil {
		return m.Conversation.Meta.Sender
	}
	return m.Sender
}
