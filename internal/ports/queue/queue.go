// Package queue is the port for the event queue: an SQS-like queue with
// visibility timeouts and a dead-letter queue that the processor fills itself.
// Drivers live in subpackages (sqlitequeue, sqsqueue); queuetest is the
// conformance suite every driver must pass.
package queue

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Message attribute names carried with every event.
const (
	AttrDelivery   = "delivery_id"
	AttrTimestamp  = "chatwoot_timestamp"
	AttrSignature  = "chatwoot_signature"
	AttrReceivedAt = "received_at"
	AttrAccount    = "account_id"
	AttrEvent      = "event"
	AttrBackfilled = "backfilled"
	// AttrInvalid is set on an authentic webhook the decoder cannot use:
	// why, as "<reason>: <detail>". The edge keeps such a webhook in the
	// DLQ (reason InvalidPayload) instead of refusing it.
	AttrInvalid = "invalid_payload"
	// Set on dead letters.
	AttrDLQReason   = "dlq_reason"
	AttrDLQAttempts = "dlq_attempts"
	AttrDLQSource   = "dlq_source_message_id"
	AttrDLQAt       = "dlq_at"
	// AttrRedriven marks a message moved back from the DLQ: it was counted
	// as received when it was dead-lettered.
	AttrRedriven = "dlq_redriven"
)

// Redriven reports whether a message came back from the DLQ: it carries
// AttrRedriven, or the dlq_* attributes a move by SQS keeps.
func Redriven(attrs map[string]string) bool {
	for k := range attrs {
		if strings.HasPrefix(k, "dlq_") {
			return true
		}
	}
	return false
}

// InvalidPayload is the DLQ reason of the webhooks the edge keeps for
// review (AttrInvalid says why).
const InvalidPayload = "invalid_payload"

// ErrNotFound is returned for an unknown dead-letter id, and for a stale
// receipt handle (the message was deleted or received again since).
var ErrNotFound = errors.New("queue: message not found")

// Message is one received message.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          []byte
	Attributes    map[string]string
	// ReceiveCount counts deliveries, including this one (ApproximateReceiveCount).
	ReceiveCount int
	SentAt       time.Time
}

// Depth is a point-in-time view of a queue.
type Depth struct {
	Visible  int64 `json:"visible"`
	InFlight int64 `json:"in_flight"`
	Delayed  int64 `json:"delayed"`
	// OldestAge is the age of the oldest message not yet deleted.
	OldestAge time.Duration `json:"oldest_age_ns"`
}

// DeadLetter is a message in the DLQ with why it is there.
type DeadLetter struct {
	ID         string
	Body       []byte
	Attributes map[string]string
	Reason     string
	Attempts   int
	At         time.Time
}

// Queue is the event queue. Implementations must be safe for concurrent use.
type Queue interface {
	// Send stores the message durably and returns its id. Returning nil means
	// the message survives a crash of this process. A message SQS would
	// refuse (Fits) fails with ErrUnfit, whatever the driver.
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
	// Receive returns up to max visible messages and hides them for visibility.
	Receive(ctx context.Context, max int, visibility time.Duration) ([]Message, error)
	// Delete removes a received message.
	Delete(ctx context.Context, receiptHandle string) error
	// ChangeVisibility makes a received message visible again after d.
	ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error
	// DeadLetter moves a received message to the DLQ (send there, then delete here).
	DeadLetter(ctx context.Context, m Message, reason string, attempts int) error
	// SendDeadLetter stores a message durably in the DLQ with its reason and
	// no attempt: what the edge keeps for review instead of refusing, and
	// spooled events that cannot reach the queue. Returning nil means the
	// message survives a crash of this process.
	SendDeadLetter(ctx context.Context, body []byte, attrs map[string]string, reason string) (string, error)
	// Depth reports the main queue's depth.
	Depth(ctx context.Context) (Depth, error)
	// DLQDepth reports the dead-letter queue's depth.
	DLQDepth(ctx context.Context) (Depth, error)
	// ListDeadLetters returns up to max dead letters, oldest first.
	ListDeadLetters(ctx context.Context, max int) ([]DeadLetter, error)
	// Redrive moves one dead letter (by id) back to the main queue, or all
	// when id is "". It returns how many were moved.
	Redrive(ctx context.Context, id string) (int, error)
}
