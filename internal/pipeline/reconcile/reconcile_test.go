package reconcile

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

// TestRunBackfillsWhatIsMissing runs against stored states that saw some of
// the story's webhooks.
func TestRunBackfillsWhatIsMissing(t *testing.T) {
	all := []string{
		"01_conversation_created.json", "02_message_created_incoming.json", "03_message_created_bot.json",
		"04_message_created_private_note.json", "05_message_created_agent_reply.json",
		"06_message_created_attachment.json", "07_conversation_status_changed.json", "08_conversation_updated.json",
	}
	tests := []struct {
		name   string
		stored []string // webhooks that arrived
		// status and updatedAt of the REST conversation; resolved at
		// resolvedAt when empty.
		status, updatedAt string
		want              []string
	}{
		{name: "never seen", want: withStatus(backfills(98232, 98251, 98231, 98260))},
		{name: "first messages seen", stored: all[:3], want: withStatus(backfills(98251, 98260))},
		{name: "reply lost", stored: []string{all[0], all[1], all[2], all[3], all[5]}, want: withStatus(backfills(98251))},
		{name: "only the status lost", stored: all[:6], want: withStatus(nil)},
		{name: "all seen", stored: all},
		// The status webhook nests the reply, so only the others are missing.
		{name: "status only seen", stored: all[6:7], want: backfills(98232, 98231, 98260)},
		{
			name: "stale REST status", stored: all, status: "open", updatedAt: "1778577730.900000",
			want: nil,
		},
		{
			name: "reopened since", stored: all, status: "open", updatedAt: "1778590000.250000",
			want: []string{"backfill:7:1423:open:1778590000250000"},
		},
		{
			name: "never seen, REST without updated_at", updatedAt: "-",
			want: backfills(98232, 98251, 98231, 98260),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memstore.New()
			observe(t, st, tt.stored...)
			status, updated := "resolved", resolvedAt
			if tt.status != "" {
				status, updated = tt.status, tt.updatedAt
			}
			if tt.updatedAt == "-" {
				updated = ""
			}
			w := newWorld().add(acct, restConversation(story, status, updated, storyMessages()), storyMessages())
			q := &fakeQueue{}
			r := &Reconciler{Chatwoot: newFake(w), Store: st, Queue: q, Accounts: []int64{acct}, Now: clock}
			res, err := r.Run(t.Context(), time.Hour)
			require.NoError(t, err)
			assert.Equal(t, tt.want, q.deliveries())
			assert.Equal(t, 1, res.Conversations)
			assert.Equal(t, len(q.sent), res.Messages+res.Statuses)
			assert.Zero(t, res.Errors)
		})
	}
}

// TestTimelineCap: a full timeline has dropped its oldest messages; they
// must not come back on every run, while a new one must.
func TestTimelineCap(t *testing.T) {
	msgs := chatter(900, 70)
	newest := restMessage(900, 900999, incoming, false, 1778580000, "still there?", contact())
	// Same second as the oldest kept message, ordered before it by id.
	tie := restMessage(900, 900000-1, incoming, false, msgs[6]["created_at"].(int64), "tie", contact())
	w := newWorld().add(acct, restConversation(900, "open", "1778580000.5", msgs), append(msgs, newest, tie))

	st := memstore.New()
	var known []chatwoot.Message
	require.NoError(t, remarshal(msgs, &known))
	k := conversation.Key{AccountID: acct, ConversationID: 900}
	_, err := st.UpdateConversation(t.Context(), k, func(s *conversation.State) bool {
		for _, m := range known {
			s.Apply(conversation.Observation{Key: k, Messages: []conversation.Fact{fact(m)}}, false)
		}
		s.Status, s.SnapshotAt = "open", time.Unix(1778580000, 500000000)
		return true
	})
	require.NoError(t, err)

	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: newFake(w), Store: st, Queue: q, Accounts: []int64{acct}, Now: clock}
	_, err = r.Run(t.Context(), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, backfills(900999), q.deliveries())
}

func fact(m chatwoot.Message) conversation.Fact {
	kind := conversation.KindCustomer
	if m.MessageType == chatwoot.Outgoing {
		kind = conversation.KindHuman
	}
	return conversation.Fact{MessageID: m.ID, At: m.CreatedAt.Truncate(time.Second), Kind: kind}
}

// TestTimelineCapMatchesConversation pins timelineCap to what
// conversation.State keeps.
func TestTimelineCapMatchesConversation(t *testing.T) {
	var s conversation.State
	for i := range int64(timelineCap + 5) {
		s.Apply(conversation.Observation{Messages: []conversation.Fact{
			{MessageID: i + 1, At: time.Unix(1778570000+i, 0).UTC(), Kind: conversation.KindCustomer},
		}}, false)
	}
	require.Len(t, s.Messages, timelineCap)
	assert.Equal(t, int64(6), s.Messages[0].MessageID)
}

func TestRunContinuesAfterFailures(t *testing.T) {
	w := storyWorld().
		add(acct, restConversation(1424, "open", "1778580000.5", chatter(1424, 4)), chatter(1424, 4)).
		add(8, restConversation(2001, "open", "1778580000.5", chatter(2001, 2)), chatter(2001, 2))
	tests := []struct {
		name    string
		listErr map[int64]error
		msgsErr map[int64]error
		sendErr error
		want    Result
		sent    []string
		errs    []string
	}{
		{
			name: "no failures",
			want: Result{Conversations: 3, Messages: 10, Statuses: 3},
			sent: append(withStatus(backfills(98232, 98251, 98231, 98260)),
				"backfill:7:1424:open:1778580000500000",
				"backfill:7:1424001", "backfill:7:1424003", "backfill:7:1424000", "backfill:7:1424002",
				"backfill:8:2001:open:1778580000500000", "backfill:8:2001001", "backfill:8:2001000"),
		},
		{
			name:    "messages of one conversation fail",
			msgsErr: map[int64]error{story: errBoom},
			want:    Result{Conversations: 3, Messages: 6, Statuses: 2, Errors: 1},
			sent: []string{"backfill:7:1424:open:1778580000500000",
				"backfill:7:1424001", "backfill:7:1424003", "backfill:7:1424000", "backfill:7:1424002",
				"backfill:8:2001:open:1778580000500000", "backfill:8:2001001", "backfill:8:2001000"},
			errs: []string{"reconcile: account 7 conversation 1423: list messages: boom"},
		},
		{
			name:    "one account's list fails",
			listErr: map[int64]error{acct: errBoom},
			want:    Result{Conversations: 1, Messages: 2, Statuses: 1, Errors: 1},
			sent:    []string{"backfill:8:2001:open:1778580000500000", "backfill:8:2001001", "backfill:8:2001000"},
			errs:    []string{"reconcile: account 7: list conversations: boom"},
		},
		{
			name:    "queue fails",
			sendErr: errBoom,
			want:    Result{Conversations: 3, Errors: 3},
			errs: []string{
				"reconcile: account 7 conversation 1423: status resolved: enqueue: boom",
				"reconcile: account 7 conversation 1424: status open: enqueue: boom",
				"reconcile: account 8 conversation 2001: status open: enqueue: boom",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cw := newFake(w)
			cw.listErr, cw.msgsErr = tt.listErr, tt.msgsErr
			q := &fakeQueue{err: tt.sendErr}
			r := &Reconciler{Chatwoot: cw, Store: memstore.New(), Queue: q, Accounts: []int64{acct, 8}, Now: clock}
			res, err := r.Run(t.Context(), time.Hour)
			assert.Equal(t, tt.want, res)
			assert.Equal(t, tt.sent, q.deliveries())
			if tt.errs == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errBoom)
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				got = append(got, e.Error())
			}
			assert.Equal(t, tt.errs, got)
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: newFake(storyWorld()), Store: memstore.New(), Queue: q, Accounts: []int64{acct}, Now: clock}
	res, err := r.Run(ctx, time.Hour)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, Result{}, res)
	assert.Empty(t, q.sent)
}

func TestRunRejectsWindow(t *testing.T) {
	r := &Reconciler{Chatwoot: newFake(storyWorld()), Store: memstore.New(), Queue: &fakeQueue{}, Accounts: []int64{acct}}
	_, err := r.Run(t.Context(), 0)
	require.Error(t, err)
}

// TestLogsNoPersonalData: logs carry ids and counts, never content, emails,
// phone numbers or names.
func TestLogsNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cw := newFake(storyWorld().add(acct, restConversation(1424, "open", "1778580000.5", chatter(1424, 2)), chatter(1424, 2)))
	cw.msgsErr = map[int64]error{1424: errBoom}
	r := &Reconciler{Chatwoot: cw, Store: memstore.New(), Queue: &fakeQueue{}, Accounts: []int64{acct}, Now: clock, Log: log}
	_, err := r.Run(t.Context(), time.Hour)
	require.Error(t, err)

	out := buf.String()
	assert.Contains(t, out, `"conversation_id":1423`)
	assert.Contains(t, out, `"messages":4`)
	assert.Contains(t, out, `"conversation_id":1424`)
	for _, secret := range []string{"charged twice", "receipt", "refunded", "priya", "+14155550123", "Priya Raman", "Marco"} {
		assert.NotContains(t, out, secret)
	}
}
