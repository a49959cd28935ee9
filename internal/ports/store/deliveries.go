package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/runes"
)

// The delivery log answers "did Chatwoot send it, and what became of it?"
// without logs: one entry per outcome of a webhook the edge kept or
// ignored, for DeliveryRetention (docs/deliveries.md). Rejected and
// refused requests leave no entry: nothing unproven is kept per request,
// and the day's counters say how many there were and why.

// DeliveryRetention is how long the log keeps an entry: as long as the DLQ
// keeps a message (SQS's maximum, 14 days), so a dead letter redriven on
// its last day still shows how it failed.
const DeliveryRetention = 14 * 24 * time.Hour

// Outcomes of a delivery log entry.
const (
	// DeliveryProcessed: the event ran through the stages and completed.
	DeliveryProcessed = "processed"
	// DeliveryDuplicate: another message carried the same event (Chatwoot
	// re-emitted it with a new delivery id, or it was sent twice).
	DeliveryDuplicate = "duplicate"
	// DeliveryRedelivered: the queue delivered a message again whose event
	// this very message had completed (its delete was lost).
	DeliveryRedelivered = "redelivered"
	// DeliveryIgnored: an authentic event of a kind the pipeline does not
	// handle, acknowledged and not queued.
	DeliveryIgnored = "ignored"
	// DeliveryInvalid: an authentic payload the decoder cannot use, kept in
	// the DLQ with its reason.
	DeliveryInvalid = "invalid"
	// DeliveryFailed: a processing attempt failed (Attempt, Reason); the
	// message is retried after its backoff.
	DeliveryFailed = "failed"
	// DeliveryDeadLettered: the last attempt failed and the message went
	// to the DLQ (Attempt, Reason).
	DeliveryDeadLettered = "dead_lettered"
)

// DeliveryRedriven is not an outcome but a filter: the entries of messages
// that came back from the DLQ (Delivery.Redriven), whatever became of them.
const DeliveryRedriven = "redriven"

// DeliveryOutcomes lists the outcomes, in the order a delivery meets them.
var DeliveryOutcomes = []string{DeliveryIgnored, DeliveryInvalid, DeliveryFailed, DeliveryDeadLettered,
	DeliveryProcessed, DeliveryDuplicate, DeliveryRedelivered}

// ValidDeliveryFilter reports whether o is an outcome, DeliveryRedriven, or
// "" (every entry).
func ValidDeliveryFilter(o string) bool {
	return o == "" || o == DeliveryRedriven || slices.Contains(DeliveryOutcomes, o)
}

// Delivery is one entry of the delivery log. It holds ids, names, times
// and reasons, never content.
type Delivery struct {
	// ID is the webhook's X-Chatwoot-Delivery (or the id the edge derived
	// from the signed request when it had none); back-filled events carry
	// reconciliation's own.
	ID string
	// MessageID is the queue message that carried it (for an invalid
	// payload, its dead letter's id); empty for an ignored webhook.
	MessageID      string
	Event          string
	AccountID      int64
	ConversationID int64 // 0 when the event has none or it is unknown
	// ReceivedAt is when the edge took the webhook; At, when this outcome
	// was recorded: the log's order.
	ReceivedAt, At time.Time
	Outcome        string
	// Reason says why an attempt failed, why the message was dead-lettered
	// or why a payload was kept as invalid.
	Reason string
	// Attempt is the number of the attempt that failed (failed and
	// dead_lettered).
	Attempt int
	// Processing is the time the processor spent on this attempt.
	Processing time.Duration
	// Redriven marks a message that came back from the DLQ; Backfilled, an
	// event reconciliation queued for what no webhook brought.
	Redriven, Backfilled bool
}

// Matches reports whether d passes q's filters (not its cursor or limit).
// Drivers use it where their keys cannot filter.
func (q DeliveryQuery) Matches(d Delivery) bool {
	switch {
	case q.Conversation != nil && (d.AccountID != q.Conversation.AccountID || d.ConversationID != q.Conversation.ConversationID):
		return false
	case q.Delivery != "" && d.ID != q.Delivery:
		return false
	case d.At.Before(q.Since):
		return false
	case q.Outcome == DeliveryRedriven:
		return d.Redriven
	case q.Outcome != "" && d.Outcome != q.Outcome:
		return false
	}
	return true
}

// DeliveryQuery selects entries of the log, newest first.
type DeliveryQuery struct {
	// Conversation, if set, keeps that conversation's entries: drivers find
	// them by key, without reading anyone else's.
	Conversation *conversation.Key
	// Delivery, if set, keeps one delivery id's entries.
	Delivery string
	// Since keeps entries recorded at or after it; entries older than
	// DeliveryRetention are never listed, whatever it says.
	Since time.Time
	// Outcome keeps entries with this outcome, or DeliveryRedriven the
	// redriven ones; "" keeps all.
	Outcome string
	// Limit bounds the page (DefaultDeliveryPage when 0, at most
	// MaxDeliveryPage).
	Limit int
	// Cursor continues from the page that returned it as Next.
	Cursor string
}

// Page sizes of Deliveries.
const (
	DefaultDeliveryPage = 50
	MaxDeliveryPage     = 500
)

// PageSize is q's limit, bounded.
func (q DeliveryQuery) PageSize() int {
	if q.Limit <= 0 {
		return DefaultDeliveryPage
	}
	return min(q.Limit, MaxDeliveryPage)
}

// Window is q with Since moved up to the retention's start at now.
func (q DeliveryQuery) Window(now time.Time) DeliveryQuery {
	if oldest := now.Add(-DeliveryRetention); q.Since.Before(oldest) {
		q.Since = oldest
	}
	return q
}

// Stamped returns ds with a zero At set to now: drivers log every entry at
// a time, which orders it.
func Stamped(ds []Delivery, now time.Time) []Delivery {
	for i := range ds {
		if ds[i].At.IsZero() {
			ds = slices.Clone(ds)
			for j := i; j < len(ds); j++ {
				if ds[j].At.IsZero() {
					ds[j].At = now
				}
			}
			break
		}
	}
	return ds
}

// DeliveryPage is a page of the log.
type DeliveryPage struct {
	Deliveries []Delivery
	// Next is the cursor of the next page; "" when there is none.
	Next string
}

// ErrBadCursor is returned for a cursor no page of this driver gave.
var ErrBadCursor = errors.New("store: invalid delivery log cursor")

// ErrDeliveryLog is matched by Complete's error when the completions were
// recorded but their log entries (or some of them) could not be written;
// the processor treats the completions as done and says so in its log.
var ErrDeliveryLog = errors.New("store: delivery log not written")

// DeliveryLog is the store's delivery log. A Completion's Delivery is
// logged by Complete, with the completion; LogDeliveries logs the others.
type DeliveryLog interface {
	// LogDeliveries records entries that belong to no completion: failed
	// attempts, dead letters, redeliveries, ignored and invalid webhooks.
	LogDeliveries(ctx context.Context, ds ...Delivery) error
	// Deliveries returns a page of the entries q selects, newest first
	// (entries written together stay together). A query by conversation
	// or since reads by key, never by scanning the log.
	Deliveries(ctx context.Context, q DeliveryQuery) (DeliveryPage, error)
}

// ScopedKey names an idempotency key that belongs to a conversation, so a
// driver may keep its record, and the delivery log entry it carries, with
// the conversation's: the DynamoDB driver lists a conversation's
// completions with one query that way.
func ScopedKey(k conversation.Key, name string) string {
	return scopePrefix + strconv.FormatInt(k.AccountID, 10) + ":" + strconv.FormatInt(k.ConversationID, 10) + "/" + name
}

const scopePrefix = "conv:"

// SplitScopedKey undoes ScopedKey; ok is false for any other key.
func SplitScopedKey(key string) (k conversation.Key, name string, ok bool) {
	rest, found := strings.CutPrefix(key, scopePrefix)
	if !found {
		return k, "", false
	}
	ids, name, found := strings.Cut(rest, "/")
	if !found || name == "" {
		return k, "", false
	}
	a, c, found := strings.Cut(ids, ":")
	if !found {
		return k, "", false
	}
	var err1, err2 error
	k.AccountID, err1 = strconv.ParseInt(a, 10, 64)
	k.ConversationID, err2 = strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || ScopedKey(k, name) != key {
		return conversation.Key{}, "", false
	}
	return k, name, true
}

// TruncateReason bounds a reason kept in the log (and logged), at a rune
// boundary: an error may quote a long response.
func TruncateReason(s string) string { return runes.Truncate(s, 300) }
