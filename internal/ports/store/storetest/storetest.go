// Package storetest is the conformance suite every store.Store driver runs,
// so that the local SQLite mode and DynamoDB behave the same way under the
// pipeline: same conflicts, same duplicates, same orders.
package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// Options adapts the suite to a backend's limits.
type Options struct {
	// NoTransactions skips the subtests that need multi-item transactions:
	// Complete, and the Seen checks that can only be set up through it. For
	// fakes such as dynalite that lack TransactWriteItems.
	NoTransactions bool
	// KeepsRemovedFields skips the check that RecordAction empties a field
	// it replaces with nothing, and that a claim taking over a failed
	// action clears its result: minidyn ignores REMOVE in an update that
	// also SETs (DynamoDB and dynalite apply it, and dynalite runs it).
	KeepsRemovedFields bool
}

// Run runs the suite. open must return a new, empty store on every call; Run
// closes each store when its subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store, opts Options) {
	s := suite{opts: opts, open: func(t *testing.T) store.Store {
		t.Helper()
		st := open(t)
		t.Cleanup(func() { assert.NoError(t, st.Close(), "close") })
		return st
	}}
	t.Run("Conversation", s.testConversation)
	t.Run("UpdateConversationConcurrent", s.testUpdateConversationConcurrent)
	t.Run("WaitingForFirstResponse", s.testWaitingForFirstResponse)
	t.Run("SeenUnknown", s.testSeenUnknown)
	t.Run("Complete", s.testComplete)
	t.Run("CompleteConcurrent", s.testCompleteConcurrent)
	t.Run("CompleteBatch", s.testCompleteBatch)
	t.Run("CompleteLargeBatch", s.testCompleteLargeBatch)
	t.Run("RecordFailure", s.testRecordFailure)
	t.Run("RecordFailureConcurrent", s.testRecordFailureConcurrent)
	t.Run("AddCounters", s.testAddCounters)
	t.Run("CountersPerDay", s.testCountersPerDay)
	t.Run("AddCountersConcurrent", s.testAddCountersConcurrent)
	t.Run("Actions", s.testActions)
	t.Run("RecordAction", s.testRecordAction)
	t.Run("ClaimActionConcurrent", s.testClaimActionConcurrent)
	t.Run("ClaimActionTakeOver", s.testClaimActionTakeOver)
	t.Run("TakeOverConcurrent", s.testTakeOverConcurrent)
	t.Run("DayRecords", s.testDayRecords)
	t.Run("Marks", s.testMarks)
	t.Run("SetMarkConcurrent", s.testSetMarkConcurrent)
	t.Run("Deliveries", s.testDeliveries)
	t.Run("DeliveriesRetention", s.testDeliveriesRetention)
	t.Run("DeliveriesComplete", s.testDeliveriesComplete)
	t.Run("Ping", s.testPing)
}

type suite struct {
	opts Options
	open func(t *testing.T) store.Store
}

func (s suite) needTransactions(t *testing.T) {
	t.Helper()
	if s.opts.NoTransactions {
		t.Skip("backend has no multi-item transactions (Options.NoTransactions)")
	}
}

// base is a fixed UTC instant without a monotonic reading, so values survive
// a round trip through any encoding and compare with assert.Equal.
var base = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func customer(id int64, at time.Time) conversation.Fact {
	return conversation.Fact{MessageID: id, At: at, Kind: conversation.KindCustomer}
}

func reply(id int64, at time.Time) conversation.Fact {
	return conversation.Fact{MessageID: id, At: at, Kind: conversation.KindHuman}
}

// observe returns an update that merges the message facts into the state.
func observe(k conversation.Key, msgs ...conversation.Fact) func(*conversation.State) bool {
	return apply(conversation.Observation{Key: k, Messages: msgs})
}

// resolve returns an update that records a resolution at t.
func resolve(k conversation.Key, t time.Time) func(*conversation.State) bool {
	return apply(conversation.Observation{Key: k, ResolvedAt: t})
}

func apply(o conversation.Observation) func(*conversation.State) bool {
	return func(s *conversation.State) bool { return s.Apply(o, false) }
}

// utc makes times comparable with assert.Equal whatever location a driver
// decodes them in; the instant must still match exactly.
func utc(t time.Time) time.Time { return t.UTC() }
