package stages_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

// flakyNotes is rest.Offline whose notes fail while failing is set.
type flakyNotes struct {
	*rest.Offline
	failing atomic.Bool
}

func (f *flakyNotes) PrivateNote(ctx context.Context, account, conv int64, content string) error {
	if f.failing.Load() {
		return errors.New("chatwoot api: POST messages: 500 Internal Server Error")
	}
	return f.Offline.PrivateNote(ctx, account, conv, content)
}

func (f *flakyNotes) notes() int {
	n := 0
	for _, c := range f.Calls() {
		if c.Op == rest.OpPrivateNote {
			n++
		}
	}
	return n
}

type noTags struct{}

func (noTags) Tags(string) []string { return nil }

type calm struct{}

func (calm) Score(string) float64 { return 0 }

// noQueue fails the test if a message fails: none should here.
type noQueue struct{ t *testing.T }

func (q noQueue) ChangeVisibility(context.Context, string, time.Duration) error {
	q.t.Error("a message failed")
	return nil
}

func (q noQueue) DeadLetter(context.Context, queue.Message, string, int) error {
	q.t.Error("a message was dead-lettered")
	return nil
}

func message(t *testing.T, id, fixture string, at time.Time) queue.Message {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", fixture))
	require.NoError(t, err)
	return queue.Message{ID: id, ReceiptHandle: id, Body: b, Attributes: map[string]string{
		queue.AttrDelivery: id, queue.AttrAccount: "7", queue.AttrReceivedAt: at.UTC().Format(time.RFC3339Nano)}}
}

// alwaysOpen is a calendar open around the clock, in UTC.
func alwaysOpen(t *testing.T) *sla.Calendar {
	t.Helper()
	week := sla.Week{}
	for d := range week {
		week[d] = []sla.Interval{{Open: 0, Close: 24 * 60}}
	}
	cal, err := sla.NewCalendar(time.UTC, week, nil)
	require.NoError(t, err)
	return cal
}

// TestBreachEscalationOnceAnswered: the sweeper escalates a breach while the
// customer waits; an escalation that failed is dropped, and counted, when
// the answer comes, not posted late; one that was posted stays done.
func TestBreachEscalationOnceAnswered(t *testing.T) {
	tests := []struct {
		name        string
		noteFails   bool // while the customer waits
		wantStatus  string
		wantDropped int64
		wantNotes   int
	}{
		{name: "posted while waiting", wantStatus: store.ActionDone, wantNotes: 1},
		{name: "failed while waiting: dropped once answered", noteFails: true, wantStatus: store.ActionDropped, wantDropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			st := memstore.New()
			cw := &flakyNotes{Offline: rest.NewOffline(st)}
			cw.failing.Store(tt.noteFails)
			cal := alwaysOpen(t)
			log := slog.New(slog.DiscardHandler)
			// memstore expires idempotency keys by the wall clock; the
			// fixtures' customer message (09:14:27) and agent reply
			// (09:20:51, 12 May 2026) are long past it, and the reply
			// misses the 5-minute target.
			start := time.Now()
			clock := func() time.Time { return start }
			sup := &stages.Support{
				Store: st, Chatwoot: cw, Tagger: noTags{}, Anger: calm{}, Log: log, Now: clock,
				SLA:       sla.Policy{Target: 5 * time.Minute, AtRiskFraction: 0.2, Calendar: func(int64) *sla.Calendar { return cal }},
				Escalator: &escalation.Escalator{Store: st, Chatwoot: cw, Config: escalation.Config{AngerThreshold: 0.8}, Log: log, Now: clock},
			}
			p := &processor.Processor{Store: st, Queue: noQueue{t}, Stages: []processor.Stage{sup.Stage()}, Log: log, Now: clock}
			k := conversation.Key{AccountID: 7, ConversationID: 1423}
			breach := "sla-breach:" + "1778577267" // the customer message's time: its waiting period
			status := func() string {
				a, ok, err := st.Action(ctx, k, breach)
				require.NoError(t, err)
				require.True(t, ok, "the sweeper claimed the breach's escalation")
				return a.Status
			}

			require.Empty(t, p.Process(ctx, []queue.Message{message(t, "m1", "02_message_created_incoming.json", start)}))
			_, err := sup.Sweep(ctx, 10)
			require.NoError(t, err)
			wantBefore := store.ActionDone
			if tt.noteFails {
				wantBefore = store.ActionFailed
			}
			require.Equal(t, wantBefore, status())

			// Chatwoot is back; the agent answers; the sweeper comes again.
			cw.failing.Store(false)
			require.Empty(t, p.Process(ctx, []queue.Message{message(t, "m2", "05_message_created_agent_reply.json", start)}))
			_, err = sup.Sweep(ctx, 10)
			require.NoError(t, err)
			// A re-emission of the answer changes nothing.
			require.Empty(t, p.Process(ctx, []queue.Message{message(t, "m3", "05_message_created_agent_reply.json", start)}))

			assert.Equal(t, tt.wantStatus, status())
			c, err := st.Counters(ctx, stats.Day(start))
			require.NoError(t, err)
			assert.Equal(t, tt.wantDropped, c[stats.BreachEscalationsDropped])
			assert.Equal(t, tt.wantNotes, cw.notes(), "notes posted")
		})
	}
}

// TestStaleViewFilesNoOlderSLARecord: two events of one conversation
// processed at once. The customer's message merges first, the agent's
// reply second, and the reply's stages file the waiting period as met;
// the message's stages, run last on the state it merged (still waiting),
// must not file it pending again, or the day's report would count an
// answered customer as breached once the due time passed.
func TestStaleViewFilesNoOlderSLARecord(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	cw := rest.NewOffline(st)
	log := slog.New(slog.DiscardHandler)
	cal := alwaysOpen(t)
	start := time.Now()
	clock := func() time.Time { return start }
	sup := &stages.Support{
		Store: st, Chatwoot: cw, Tagger: noTags{}, Anger: calm{}, Log: log, Now: clock,
		SLA:       sla.Policy{Target: time.Hour, AtRiskFraction: 0.2, Calendar: func(int64) *sla.Calendar { return cal }},
		Escalator: &escalation.Escalator{Store: st, Chatwoot: cw, Config: escalation.Config{AngerThreshold: 0.8}, Log: log, Now: clock},
	}
	p := &processor.Processor{Store: st, Queue: noQueue{t}, Stages: []processor.Stage{sup.Stage()}, Log: log, Now: clock}
	k := conversation.Key{AccountID: 7, ConversationID: 1423}
	customer := message(t, "m1", "02_message_created_incoming.json", start)

	require.Empty(t, p.Process(ctx, []queue.Message{customer}))
	waiting, ok, err := st.Conversation(ctx, k)
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, p.Process(ctx, []queue.Message{message(t, "m2", "05_message_created_agent_reply.json", start)}))

	records := func() []sla.Record {
		t.Helper()
		payload, err := chatwoot.Decode(customer.Body)
		require.NoError(t, err)
		recs, err := st.DayRecords(ctx, payload.Message.CreatedAt.UTC().Format(time.DateOnly), sla.DayRecordKind, 10)
		require.NoError(t, err)
		var out []sla.Record
		for _, r := range recs {
			rec, err := sla.ParseRecord(r.Data)
			require.NoError(t, err)
			out = append(out, rec)
		}
		return out
	}
	before := records()
	require.Len(t, before, 1)
	require.Equal(t, sla.Met, before[0].State, "the reply's stages filed the period met")

	// The customer message's stages, late, on the state it merged.
	payload, err := chatwoot.Decode(customer.Body)
	require.NoError(t, err)
	ev := &processor.Event{MessageID: customer.ID, AccountID: 7, ReceivedAt: start, Payload: payload,
		Conversation: &waiting, Previous: &conversation.State{Key: k}}
	require.NoError(t, sup.Stage().Run(ctx, ev))
	assert.Equal(t, before, records(), "the older view left the met record alone")
}
