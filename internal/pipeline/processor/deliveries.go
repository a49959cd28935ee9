package processor

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// The processor writes the delivery log (docs/deliveries.md): a
// completion's entry goes with the completion, in the batch's one Complete
// call; the other outcomes of the batch (failed attempts, dead letters,
// redeliveries) in one LogDeliveries call after it.

// scoped scopes an idempotency key to ev's conversation, if it has one,
// so that its record carries the conversation's delivery log. The key is
// the conversation's as its state is stored (conversation.Observe).
func (p *Processor) scoped(ev *Event, key string) string {
	if ev == nil || ev.Payload == nil || ev.Payload.ConversationID == 0 {
		return key
	}
	return store.ScopedKey(conversation.Key{AccountID: ev.AccountID, ConversationID: ev.Payload.ConversationID}, key)
}

// entry is the log entry of r's outcome at at. Ids and names come from the
// message's attributes, which the edge set, and the decoded event when
// there is one: never content.
func (p *Processor) entry(r *result, outcome string, at time.Time) store.Delivery {
	a := r.msg.Attributes
	d := store.Delivery{ID: a[queue.AttrDelivery], MessageID: r.msg.ID, Event: a[queue.AttrEvent], At: at,
		Outcome: outcome, Processing: r.elapsed, Redriven: queue.Redriven(a), Backfilled: a[queue.AttrBackfilled] == "true"}
	d.AccountID, _ = strconv.ParseInt(a[queue.AttrAccount], 10, 64)
	d.ReceivedAt, _ = time.Parse(time.RFC3339Nano, a[queue.AttrReceivedAt])
	if ev := r.ev; ev != nil {
		d.AccountID = ev.AccountID
		if ev.Payload != nil {
			d.Event, d.ConversationID = ev.Payload.Event, ev.Payload.ConversationID
		}
	}
	return d
}

// logDeliveries logs what the batch's Complete did not: failed attempts,
// dead letters and redeliveries. A log that cannot be written changes no
// outcome; it is said in the function's log.
func (p *Processor) logDeliveries(ctx context.Context, results []result) {
	now := p.Now()
	var ds []store.Delivery
	for i := range results {
		r := &results[i]
		var d store.Delivery
		switch {
		case r.err != nil && r.outcome == OutcomeDeadLettered:
			d = p.entry(r, store.DeliveryDeadLettered, now)
		case r.err != nil:
			d = p.entry(r, store.DeliveryFailed, now)
		case r.outcome == OutcomeRedelivered:
			d = p.entry(r, store.DeliveryRedelivered, now)
		default:
			continue // logged with its completion
		}
		if r.err != nil {
			d.Attempt, d.Reason = r.attempt, store.TruncateReason(r.err.Error())
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return
	}
	if err := p.Store.LogDeliveries(ctx, ds...); err != nil {
		p.Log.LogAttrs(ctx, slog.LevelError, "delivery log not written", slog.Int("entries", len(ds)), slog.String("error", err.Error()))
	}
}

// skippedOnly keeps, of Complete's error, what says which completions were
// skipped: the rest reported log entries not written.
func skippedOnly(err error) error {
	var se *store.SkippedError
	if errors.As(err, &se) {
		return se
	}
	return nil
}
