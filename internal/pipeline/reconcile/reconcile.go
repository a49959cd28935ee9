// Package reconcile back-fills the webhooks Chatwoot never delivered.
//
// Chatwoot posts each account webhook once and never retries
// (docs/chatwoot.md §2.4): a timeout, a 5xx or a discarded job loses the
// event for good. The Reconciler polls the REST API for recently updated
// conversations, compares each with its stored state and enqueues a
// synthesized webhook for every message and status change the state lacks. The bodies take the normal path
// through the queue and the processor, so they are merged and triaged like
// any webhook; their content keys equal those of the originals, so a backfill
// and a late original count as one event whichever comes first.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// timelineCap is how many messages conversation.State keeps (its
// maxMessages). A full timeline has dropped its oldest messages on purpose;
// back-filling them would only see them dropped again, on every run. A test
// pins the value to the conversation package.
const timelineCap = 64

// Sender is the events queue.
type Sender interface {
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
}

// Reconciler compares Chatwoot with the stored state and enqueues what is
// missing. Now and Log default to time.Now and a discarding logger.
type Reconciler struct {
	Chatwoot rest.Client
	Store    store.Store
	Queue    Sender
	// Claims, if set, carries rebuilt bodies the queue cannot take (a long
	// email makes a body of megabytes), as at the edge.
	Claims *claim.Check
	// Accounts are the Chatwoot accounts to poll.
	Accounts []int64
	Now      func() time.Time
	Log      *slog.Logger
}

// Result counts what one run did.
type Result struct {
	Conversations int // conversations checked
	Messages      int // message_created events enqueued
	Statuses      int // conversation_status_changed events enqueued
	Errors        int // conversations, and account listings, that failed
}

// Run reconciles the conversations updated in the last within. A failing
// conversation or account does not stop the others; their errors are
// returned joined, with the counts of what did succeed.
//
// A run may enqueue an event that an earlier run enqueued and the processor
// has not reached yet: delivery ids are deterministic, so the processor
// counts the second copy as a duplicate.
func (r *Reconciler) Run(ctx context.Context, within time.Duration) (Result, error) {
	var res Result
	if within <= 0 {
		return res, fmt.Errorf("reconcile: window %v is not positive", within)
	}
	var errs []error
	fail := func(err error, attrs ...slog.Attr) {
		res.Errors++
		errs = append(errs, err)
		r.log().LogAttrs(ctx, slog.LevelError, "reconcile failed", append(attrs, slog.String("error", err.Error()))...)
	}
	for _, a := range r.Accounts {
		if ctx.Err() != nil {
			break
		}
		convs, err := r.Chatwoot.Conversations(ctx, a, within)
		if err != nil {
			fail(fmt.Errorf("reconcile: account %d: list conversations: %w", a, err), slog.Int64("account_id", a))
			continue
		}
		for i := range convs {
			if ctx.Err() != nil {
				break
			}
			c := &convs[i]
			res.Conversations++
			msgs, status, err := r.conversation(ctx, a, c)
			res.Messages += msgs
			if status {
				res.Statuses++
			}
			if err != nil {
				fail(fmt.Errorf("reconcile: account %d conversation %d: %w", a, c.ID, err),
					slog.Int64("account_id", a), slog.Int64("conversation_id", c.ID))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("reconcile: %w", err))
	}
	r.log().LogAttrs(ctx, slog.LevelInfo, "reconcile done", slog.Int("conversations", res.Conversations),
		slog.Int("messages", res.Messages), slog.Int("statuses", res.Statuses), slog.Int("errors", res.Errors))
	return res, errors.Join(errs...)
}

// conversation back-fills one conversation. It returns how many messages it
// enqueued and whether it enqueued a status change, also on error.
func (r *Reconciler) conversation(ctx context.Context, account int64, c *rest.Conversation) (int, bool, error) {
	st, _, err := r.Store.Conversation(ctx, conversation.Key{AccountID: account, ConversationID: c.ID})
	if err != nil {
		return 0, false, fmt.Errorf("read state: %w", err)
	}
	all, err := r.Chatwoot.Messages(ctx, account, c.ID)
	if err != nil {
		return 0, false, fmt.Errorf("list messages: %w", err)
	}
	// The processor evaluates the SLA and drafting at each event against the
	// current time, so a customer message merged before the reply or the
	// resolution that followed it would look unanswered, and could escalate.
	// Hence the status first, then replies, then customer messages. The queue
	// does not promise order; this makes the spurious case rarer, not
	// impossible.
	status := statusMissed(&st, c)
	if status {
		body, err := statusBody(c)
		if err != nil {
			return 0, false, fmt.Errorf("status %s: %w", c.Status, err)
		}
		delivery := fmt.Sprintf("backfill:%d:%d:%s:%d", account, c.ID, c.Status, c.UpdatedAt.UnixMicro())
		if err := r.send(ctx, account, chatwoot.EventConversationStatusChanged, delivery, body); err != nil {
			return 0, false, fmt.Errorf("status %s: %w", c.Status, err)
		}
	}
	ms := missing(&st, all)
	slices.SortStableFunc(ms, func(a, b *chatwoot.Message) int { return customer(a) - customer(b) })
	n := 0
	for _, m := range ms {
		body, err := messageBody(account, c, m)
		if err != nil {
			return n, status, fmt.Errorf("message %d: %w", m.ID, err)
		}
		delivery := "backfill:" + strconv.FormatInt(account, 10) + ":" + strconv.FormatInt(m.ID, 10)
		if err := r.send(ctx, account, chatwoot.EventMessageCreated, delivery, body); err != nil {
			return n, status, fmt.Errorf("message %d: %w", m.ID, err)
		}
		n++
	}
	if n > 0 || status {
		attrs := []slog.Attr{slog.Int64("account_id", account), slog.Int64("conversation_id", c.ID), slog.Int("messages", n)}
		if status {
			attrs = append(attrs, slog.String("status", c.Status))
		}
		r.log().LogAttrs(ctx, slog.LevelInfo, "conversation back-filled", attrs...)
	}
	return n, status, nil
}

// customer is 1 for a customer message, 0 for a reply.
func customer(m *chatwoot.Message) int {
	if m.MessageType == chatwoot.Incoming {
		return 1
	}
	return 0
}

func (r *Reconciler) send(ctx context.Context, account int64, event, delivery string, body []byte) error {
	attrs := map[string]string{
		queue.AttrDelivery:   delivery,
		queue.AttrAccount:    strconv.FormatInt(account, 10),
		queue.AttrEvent:      event,
		queue.AttrReceivedAt: r.now().UTC().Format(time.RFC3339Nano),
		queue.AttrBackfilled: "true",
	}
	var err error
	if r.Claims != nil {
		_, _, err = r.Claims.Send(ctx, r.Queue.Send, body, attrs)
	} else {
		_, err = r.Queue.Send(ctx, body, attrs)
	}
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// missing returns the messages of ms, oldest first, that the timeline of st
// would hold but does not.
func missing(st *conversation.State, ms []chatwoot.Message) []*chatwoot.Message {
	known := make(map[int64]bool, len(st.Messages))
	for _, f := range st.Messages {
		known[f.MessageID] = true
	}
	var out []*chatwoot.Message
	for i := range ms {
		m := &ms[i]
		if !matters(m) || known[m.ID] {
			continue
		}
		if len(st.Messages) >= timelineCap && !newer(m, st.Messages[0]) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// matters mirrors the filter of conversation.Observe: public incoming and
// outgoing messages (by a user, a bot or an automation) with an id and a
// time. Private notes, activity and template messages are not in the
// timeline. Back-filling a message the timeline drops would repeat on every
// run; skipping one it keeps would lose it.
func matters(m *chatwoot.Message) bool {
	return m.ID > 0 && !m.CreatedAt.IsZero() && !m.Private &&
		(m.MessageType == chatwoot.Incoming || m.MessageType == chatwoot.Outgoing)
}

// newer reports whether m sorts after f in the timeline's order: by time in
// whole seconds, as Observe records it, then by id.
func newer(m *chatwoot.Message, f conversation.Fact) bool {
	at := m.CreatedAt.Truncate(time.Second)
	return at.After(f.At) || at.Equal(f.At) && m.ID > f.MessageID
}

// statusMissed reports a status the stored state lacks. The REST record must
// be newer than the stored snapshot: an older one is a stale read that the
// merge would discard. Chatwoot before 4.0.2 sends no updated_at, leaving
// nothing to order by, so nothing is back-filled then.
//
// The change is dated by updated_at, the record's last change, which is later
// than the status change if anything else changed since; REST offers no
// closer time. The original webhook, if it still arrives, then differs in
// its content key and adds the resolution at its own time as well.
func statusMissed(st *conversation.State, c *rest.Conversation) bool {
	return c.Status != "" && c.Status != st.Status && c.UpdatedAt.After(st.SnapshotAt)
}
