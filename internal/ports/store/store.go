// Package store is the port for pipeline state: conversations, idempotency
// records, attempt counts and daily counters. Drivers live in subpackages
// (memstore, sqlitestore, dynamostore); storetest is the conformance suite
// every driver must pass.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"supportpipe/internal/support/conversation"
)

// ErrDuplicate is matched by the error of Complete when a completion was
// skipped because one of its keys is already recorded.
var ErrDuplicate = errors.New("store: already completed")

// SkippedError is Complete's error when some completions were skipped as
// duplicates; the others were recorded. It matches ErrDuplicate.
type SkippedError struct {
	Index []int // positions in the call's arguments, ascending
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("store: %d completion(s) already completed", len(e.Index))
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *SkippedError) Is(target error) bool { return target == ErrDuplicate }

// Skipped reports whether completion i of a Complete call that returned err
// was skipped as a duplicate.
func Skipped(err error, i int) bool {
	var se *SkippedError
	if !errors.As(err, &se) {
		return false
	}
	_, found := slices.BinarySearch(se.Index, i)
	return found
}

// ErrNotFound is returned for an action or record that does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when an optimistic update keeps losing races.
var ErrConflict = errors.New("store: concurrent update conflict")

// Completion records that an event reached a final outcome. Keys and counter
// increments are written atomically, and only if none of the keys exists:
// that is what makes counters exact under redelivery.
type Completion struct {
	Keys []string
	// Owner is the queue message that completed the event; Seen reports it,
	// so a redelivery of that message tells itself apart from a duplicate.
	Owner     string
	ExpiresAt time.Time
	// Counts are the counter increments by day (an event is counted as
	// received on the day it arrived and as processed on the day it was).
	Counts map[string]map[string]int64
	// Delivery, if set, is the delivery log's entry of this outcome: it is
	// logged exactly when the completion is written (DeliveryLog).
	Delivery *Delivery
}

// Store is the state port. Implementations must be safe for concurrent use.
type Store interface {
	// Conversation returns the stored state, or ok=false.
	Conversation(ctx context.Context, k conversation.Key) (conversation.State, bool, error)
	// UpdateConversation applies fn to the current state (zero State if none)
	// and stores the result if fn reports a change, retrying on concurrent
	// writes. It returns the state as stored.
	UpdateConversation(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool) (conversation.State, error)
	// WaitingForFirstResponse lists conversations whose customer waits for an
	// answer (State.WaitingSince), longest-waiting first, without scanning.
	WaitingForFirstResponse(ctx context.Context, limit int) ([]conversation.State, error)

	// Seen reports which of the keys are recorded and unexpired, with the
	// Owner of the completion that recorded each.
	Seen(ctx context.Context, keys ...string) (map[string]string, error)
	// Complete records completions in one atomic step: every completion none
	// of whose keys is recorded (or repeated from an earlier completion of
	// the call) is written with its counters; the others are skipped and
	// the error is a *SkippedError naming them. One call per batch of
	// events is one write of the shared counters instead of one per event.
	Complete(ctx context.Context, cs ...Completion) error

	// RecordFailure counts a failed processing attempt of a queue message and
	// returns the attempt number (1 for the first failure).
	RecordFailure(ctx context.Context, messageID, reason string, expiresAt time.Time) (int, error)

	// AddCounters atomically adds deltas to the day's counters.
	AddCounters(ctx context.Context, day string, deltas map[string]int64) error
	// Counters returns the day's counters (empty map if none).
	Counters(ctx context.Context, day string) (map[string]int64, error)

	// ClaimAction records a side effect (a Chatwoot call, a draft request) as
	// pending before it is performed, and reports claimed=true with a zero
	// existing. When an action with the same conversation and ID exists,
	// existing is the stored record, and ClaimAction takes it over if
	// MayTakeOver allows (it failed, or another owner's claim outlived its
	// Lease): one conditional write on the record as read, so of callers
	// racing for it exactly one gets claimed=true (with existing the record
	// it replaced) and the others see the winner's pending claim. A record
	// taken over keeps its place, kind and detail; it becomes pending under
	// a.Owner from a.At (the store's clock when zero), without a result.
	ClaimAction(ctx context.Context, a Action) (claimed bool, existing Action, err error)
	// FinishAction marks a claimed action done (or failed) with its result.
	FinishAction(ctx context.Context, k conversation.Key, id, status, result string) error
	// Action returns one action, or ok=false.
	Action(ctx context.Context, k conversation.Key, id string) (a Action, ok bool, err error)
	// RecordAction stores a as given, replacing an action with the same
	// conversation and ID: for an effect recorded after it ran (Converge).
	RecordAction(ctx context.Context, a Action) error
	// Actions lists a conversation's actions in claim order.
	Actions(ctx context.Context, k conversation.Key) ([]Action, error)

	// AddDayRecord stores a record under (day, kind, id); a second write with
	// the same triple replaces the first, so writers can be idempotent.
	AddDayRecord(ctx context.Context, r DayRecord) error
	// DayRecords lists up to limit records of a kind for a day, by id.
	DayRecords(ctx context.Context, day, kind string, limit int) ([]DayRecord, error)

	// SetMark stores t under name if it is later than the stored time.
	SetMark(ctx context.Context, name string, t time.Time) error
	// Mark returns the stored time (zero if none).
	Mark(ctx context.Context, name string) (time.Time, error)

	DeliveryLog

	// Ping is a cheap read for health checks.
	Ping(ctx context.Context) error
	Close() error
}

// Action statuses.
const (
	ActionPending = "pending"
	ActionDone    = "done"
	ActionFailed  = "failed"
	// ActionDropped is an effect given up on purpose, never run again: an
	// SLA breach's escalation that had failed when the customer was
	// answered (docs/reliability.md).
	ActionDropped = "dropped"
)

// ClaimTries bounds how often a driver's ClaimAction reads a record again
// after losing the race to take it over; each loss means another writer
// changed it, so a few suffice.
const ClaimTries = 10

// MayTakeOver reports whether claim a may take over the stored action
// existing: one that failed (the message that failed it is being retried,
// maybe by another message), or one claimed by another owner longer than
// Lease ago (its worker died). A pending claim of a's own owner is not
// taken over: that owner's redelivery resumes it (Once).
func MayTakeOver(existing, a Action) bool {
	switch existing.Status {
	case ActionFailed:
		return true
	case ActionPending:
		return existing.Owner != a.Owner && a.At.Sub(existing.At) >= Lease
	}
	return false
}

// Action is one side effect on a conversation. ID is unique per conversation
// and deterministic (e.g. "label:escalated", "note:escalation",
// "draft:<message id>"), which is what makes effects happen once.
type Action struct {
	Key    conversation.Key `json:"-"`
	ID     string           `json:"id"`
	Kind   string           `json:"kind"`
	Status string           `json:"status"`
	// Owner is who claimed it (the queue message being processed, or
	// "sweeper"): its own retry may resume a pending claim at once.
	Owner   string    `json:"owner,omitempty"`
	Detail  string    `json:"detail,omitempty"` // JSON, no PII
	Result  string    `json:"result,omitempty"`
	At      time.Time `json:"at"`
	Updated time.Time `json:"updated_at"`
}

// DayRecord is a per-day fact the daily report lists (an SLA breach, an
// escalation, a dead letter), read back with a key lookup, never a scan.
type DayRecord struct {
	Day  string    `json:"day"`
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	Data string    `json:"data"` // JSON
	At   time.Time `json:"at"`
	// Version orders the writes of one record: AddDayRecord keeps the
	// stored record when its Version is greater. Two events of one
	// conversation processed at once each file the SLA record of its
	// waiting period from the state it merged, and the one that merged
	// first may write last: the conversation's version keeps its older
	// view from undoing the newer one (a met period filed pending again).
	Version int64 `json:"version,omitempty"`
}
