package drafter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/retry"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafts"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// provider answers from a function, counting its calls.
type provider struct {
	mu    sync.Mutex
	calls []drafting.Request
	fn    func(ctx context.Context, r drafting.Request) (drafting.Suggestion, error)
}

func (p *provider) Draft(ctx context.Context, r drafting.Request) (drafting.Suggestion, error) {
	p.mu.Lock()
	p.calls = append(p.calls, r)
	p.mu.Unlock()
	return p.fn(ctx, r)
}

func (p *provider) called() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

func canned(context.Context, drafting.Request) (drafting.Suggestion, error) {
	return drafting.Suggestion{Text: "Hi Ana, your refund is on its way.", Source: "refund_status", Score: 0.82, Provider: "retrieval"}, nil
}

// chatwootClient is Offline with a conversation's messages and a note
// posting that can fail.
type chatwootClient struct {
	*rest.Offline
	mu       sync.Mutex
	messages []chatwoot.Message
	noteErr  error
}

func (c *chatwootClient) RecentMessages(ctx context.Context, a, conv int64) ([]chatwoot.Message, error) {
	if _, err := c.Offline.RecentMessages(ctx, a, conv); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.messages, nil
}

func (c *chatwootClient) PrivateNote(ctx context.Context, a, conv int64, content string) error {
	c.mu.Lock()
	err := c.noteErr
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Offline.PrivateNote(ctx, a, conv, content)
}

func (c *chatwootClient) notes() []string {
	var out []string
	for _, call := range c.Calls() {
		if call.Op == rest.OpPrivateNote {
			out = append(out, call.Content)
		}
	}
	return out
}

// dlq is the drafts queue as the retry policy drives it.
type dlq struct {
	mu     sync.Mutex
	dead   []string
	hidden int
}

func (q *dlq) ChangeVisibility(context.Context, string, time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.hidden++
	return nil
}

func (q *dlq) DeadLetter(_ context.Context, m queue.Message, reason string, _ int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = append(q.dead, m.ID+": "+reason)
	return nil
}

type env struct {
	d  *Drafter
	st *memstore.Store
	cw *chatwootClient
	p  *provider
	q  *dlq
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := memstore.New()
	e := &env{st: st, cw: &chatwootClient{Offline: rest.NewOffline(st)}, p: &provider{fn: canned}, q: &dlq{}}
	e.d = &Drafter{Provider: e.p, Chatwoot: e.cw, Store: st, Retry: retry.Policy{Attempts: st, Queue: e.q},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 }, Concurrency: 2}
	return e
}

const (
	account, conv, msgID = 7, 42, 1001
)

func body(t *testing.T, mutate ...func(*drafts.Request)) []byte {
	t.Helper()
	r := drafts.Request{Schema: drafts.Schema, ID: drafts.RequestID(account, conv, msgID), AccountID: account, ConversationID: conv,
		Message:     drafts.Message{ID: msgID, Content: "Where is my refund?", CreatedAt: t0.Add(-time.Minute)},
		ContactName: "Ana", Tags: []string{"refund"}, RequestedAt: t0.Add(-2 * time.Second)}
	for _, f := range mutate {
		f(&r)
	}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	return b
}

func message(id string, body []byte) queue.Message {
	return queue.Message{ID: id, ReceiptHandle: "rh-" + id, Body: body}
}

func (e *env) counters(t *testing.T) map[string]int64 {
	t.Helper()
	c, err := e.st.Counters(context.Background(), stats.Day(t0))
	require.NoError(t, err)
	return c
}

func (e *env) records(t *testing.T) []Record {
	t.Helper()
	rs, err := e.st.DayRecords(context.Background(), stats.Day(t0), DayRecordKind, 100)
	require.NoError(t, err)
	var out []Record
	for _, r := range rs {
		var rec Record
		require.NoError(t, json.Unmarshal([]byte(r.Data), &rec))
		out = append(out, rec)
	}
	return out
}

// answer stores a conversation in which an agent replied after the message.
func (e *env) store(t *testing.T, facts []conversation.Fact, resolutions ...time.Time) {
	t.Helper()
	k := conversation.Key{AccountID: account, ConversationID: conv}
	_, err := e.st.UpdateConversation(context.Background(), k, func(s *conversation.State) bool {
		s.Messages = append(s.Messages, facts...)
		s.Resolutions = append(s.Resolutions, resolutions...)
		return true
	})
	require.NoError(t, err)
}

var customer = conversation.Fact{MessageID: msgID, At: t0.Add(-time.Minute), Kind: conversation.KindCustomer}

func TestOneSuggestionPerRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.store(t, []conversation.Fact{customer})
	b := body(t)

	require.Empty(t, e.d.Process(ctx, []queue.Message{message("m1", b)}))
	notes := e.cw.notes()
	require.Len(t, notes, 1)
	assert.True(t, strings.HasPrefix(notes[0], rest.NotePrefix+" Suggested reply (not sent) — canned response `refund_status`, confidence 0.82"), notes[0])
	assert.Contains(t, notes[0], "Hi Ana, your refund is on its way.")
	assert.Equal(t, "Ana", e.p.calls[0].Contact.Name)
	assert.Equal(t, "Where is my refund?", e.p.calls[0].Text)

	// Its redelivery, and a duplicate request under another message id
	// (in the same batch and later), add nothing.
	require.Empty(t, e.d.Process(ctx, []queue.Message{message("m1", b), message("m2", b)}))
	require.Empty(t, e.d.Process(ctx, []queue.Message{message("m3", b)}))
	assert.Len(t, e.cw.notes(), 1, "one note however often the request comes")
	assert.Equal(t, 1, e.p.called(), "the provider is asked once")

	c := e.counters(t)
	assert.EqualValues(t, 1, c[stats.DraftsMade])
	assert.EqualValues(t, 1, c[stats.Drafting.Counter(2*time.Second)], "latency runs from the request")
	d := stats.Summarise(stats.Day(t0), c).Drafts
	assert.EqualValues(t, 1, d.Made)
	assert.Greater(t, d.LatencyMS.P50, 0.0)
	recs := e.records(t)
	require.Len(t, recs, 1)
	assert.Equal(t, OutcomeMade, recs[0].Outcome)
	assert.Equal(t, "refund_status", recs[0].Source)
	assert.EqualValues(t, 2000, recs[0].LatencyMS)
	data, _ := json.Marshal(recs[0])
	assert.NotContains(t, string(data), "refund?", "a record holds no customer text")
	assert.NotContains(t, string(data), "Ana")
}

func TestSkipped(t *testing.T) {
	ctx := context.Background()
	later := t0.Add(-30 * time.Second)
	abstain := func(context.Context, drafting.Request) (drafting.Suggestion, error) {
		return drafting.Suggestion{Score: 0.2, Provider: "retrieval"}, nil
	}
	for _, tc := range []struct {
		name        string
		facts       []conversation.Fact
		resolutions []time.Time
		provider    func(context.Context, drafting.Request) (drafting.Suggestion, error)
		reason      string
		asked       int
	}{
		{name: "answered", facts: []conversation.Fact{customer, {MessageID: msgID + 1, At: later, Kind: conversation.KindHuman}},
			reason: SkipAnswered},
		{name: "resolved", facts: []conversation.Fact{customer}, resolutions: []time.Time{later}, reason: SkipResolved},
		{name: "nothing good enough", facts: []conversation.Fact{customer}, provider: abstain, reason: SkipNoDraft, asked: 1},
		{name: "a bot reply is not an answer", facts: []conversation.Fact{customer, {MessageID: msgID + 1, At: later, Kind: conversation.KindBot}},
			asked: 1},
		{name: "an earlier answer is not an answer to it",
			facts: []conversation.Fact{{MessageID: msgID - 1, At: t0.Add(-time.Hour), Kind: conversation.KindHuman}, customer}, asked: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.provider != nil {
				e.p.fn = tc.provider
			}
			e.store(t, tc.facts, tc.resolutions...)
			require.Empty(t, e.d.Process(ctx, []queue.Message{message("m1", body(t))}))
			assert.Equal(t, tc.asked, e.p.called())
			c := e.counters(t)
			if tc.reason == "" {
				assert.Len(t, e.cw.notes(), 1)
				assert.EqualValues(t, 1, c[stats.DraftsMade])
				return
			}
			assert.Empty(t, e.cw.notes())
			assert.EqualValues(t, 1, c[stats.DraftsSkipped])
			assert.EqualValues(t, 1, c[stats.DraftsSkippedPrefix+tc.reason])
			assert.Equal(t, map[string]int64{tc.reason: 1}, stats.Summarise("", c).Drafts.SkippedBy)
			assert.Equal(t, tc.reason, e.records(t)[0].Reason)
		})
	}
}

// TestAnsweredWhileDrafting: an agent's reply processed while the provider
// works wins; the suggestion is not posted.
func TestAnsweredWhileDrafting(t *testing.T) {
	e := newEnv(t)
	e.store(t, []conversation.Fact{customer})
	e.p.fn = func(ctx context.Context, r drafting.Request) (drafting.Suggestion, error) {
		e.store(t, []conversation.Fact{{MessageID: msgID + 1, At: t0, Kind: conversation.KindHuman}})
		return canned(ctx, r)
	}
	require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1", body(t))}))
	assert.Empty(t, e.cw.notes())
	assert.EqualValues(t, 1, e.counters(t)[stats.DraftsSkippedPrefix+SkipAnswered])
}

// TestProviderFailure: a provider that fails or times out leaves no note
// and a counted failure, and the request is not retried.
func TestProviderFailure(t *testing.T) {
	for name, fn := range map[string]func(context.Context, drafting.Request) (drafting.Suggestion, error){
		"timeout": func(ctx context.Context, _ drafting.Request) (drafting.Suggestion, error) {
			<-ctx.Done()
			return drafting.Suggestion{}, ctx.Err()
		},
		"error": func(context.Context, drafting.Request) (drafting.Suggestion, error) {
			return drafting.Suggestion{}, errors.New("model unavailable")
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.d.Timeout = time.Millisecond
			e.p.fn = fn
			require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1", body(t))}), "not retried")
			assert.Empty(t, e.cw.notes())
			assert.EqualValues(t, 1, e.counters(t)[stats.DraftsFailed])
			assert.Equal(t, OutcomeFailed, e.records(t)[0].Outcome)
			assert.Empty(t, e.q.dead)
			// A redelivery does not ask again.
			require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m2", body(t))}))
			assert.Equal(t, 1, e.p.called())
		})
	}
}

// TestNoteFailure: a note Chatwoot refuses is retried with the policy's
// backoff, then the request goes to the DLQ, counted failed once.
func TestNoteFailure(t *testing.T) {
	e := newEnv(t)
	e.cw.noteErr = errors.New("chatwoot api: 503")
	msg := message("m1", body(t))
	for range 2 {
		assert.Equal(t, []string{"m1"}, e.d.Process(context.Background(), []queue.Message{msg}))
	}
	assert.Equal(t, 2, e.q.hidden)
	assert.Empty(t, e.d.Process(context.Background(), []queue.Message{msg}), "dead-lettered, so deleted")
	require.Len(t, e.q.dead, 1)
	assert.Contains(t, e.q.dead[0], "503")
	assert.EqualValues(t, 1, e.counters(t)[stats.DraftsFailed])

	// Chatwoot recovers: the request redriven from the DLQ is drafted.
	e.cw.noteErr = nil
	assert.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1-redriven", body(t))}))
	assert.Len(t, e.cw.notes(), 1)
}

// TestCrashAfterNote: a note posted by an attempt that died before
// completing is not posted again; the retry completes it.
func TestCrashAfterNote(t *testing.T) {
	e := newEnv(t)
	k := conversation.Key{AccountID: account, ConversationID: conv}
	require.NoError(t, e.st.RecordAction(context.Background(), store.Action{Key: k, ID: "draft-note:1001", Kind: "draft_note",
		Status: store.ActionDone, Detail: `{"source":"refund_status","score":0.82,"provider":"retrieval"}`, At: t0}))
	require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1", body(t))}))
	assert.Empty(t, e.cw.notes())
	assert.Zero(t, e.p.called())
	assert.EqualValues(t, 1, e.counters(t)[stats.DraftsMade])
	assert.Equal(t, "refund_status", e.records(t)[0].Source)
}

func TestInvalidRequest(t *testing.T) {
	for name, b := range map[string][]byte{
		"not json":       []byte("{"),
		"another schema": []byte(`{"schema":"other/v9"}`),
		"no ids":         body(t, func(r *drafts.Request) { r.AccountID = 0 }),
		"id of another":  body(t, func(r *drafts.Request) { r.ID = "draft:7:42:1" }),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			assert.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1", b)}))
			require.Len(t, e.q.dead, 1, "to the DLQ at once")
			assert.Contains(t, e.q.dead[0], "invalid draft request")
			assert.Zero(t, e.p.called())
			assert.EqualValues(t, 1, e.counters(t)[stats.DraftsFailed])
		})
	}
}

// TestLiveHistory: when Chatwoot answers, the provider sees the
// conversation before the message (public messages only, ours and other
// notes left out) and the agent who replied last; a reply Chatwoot has and
// the pipeline has not processed yet skips the request.
func TestLiveHistory(t *testing.T) {
	in := func(id int64, text string) chatwoot.Message {
		return chatwoot.Message{ID: id, Content: text, MessageType: chatwoot.Incoming, Sender: &chatwoot.Sender{Type: "contact", Name: "Ana"}}
	}
	out := func(id int64, text string, private bool) chatwoot.Message {
		return chatwoot.Message{ID: id, Content: text, MessageType: chatwoot.Outgoing, Private: private,
			Sender: &chatwoot.Sender{Type: "user", Name: "Rafael"}}
	}
	e := newEnv(t)
	e.d.Live = true
	e.cw.messages = []chatwoot.Message{
		in(990, "I returned the shoes"), out(991, "Thanks, we got them", false),
		out(992, rest.NotePrefix+" Escalated", true), out(993, "internal: check the warehouse", true),
		in(msgID, "Where is my refund?"),
	}
	require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m1", body(t))}))
	require.Equal(t, 1, e.p.called())
	got := e.p.calls[0]
	assert.Equal(t, []drafting.Turn{{Role: "customer", Text: "I returned the shoes"}, {Role: "agent", Text: "Thanks, we got them"}}, got.History)
	assert.Equal(t, "Rafael", got.Agent.Name)

	e2 := newEnv(t)
	e2.d.Live = true
	e2.cw.messages = append(e.cw.messages, out(msgID+1, "Refunded this morning", false))
	require.Empty(t, e2.d.Process(context.Background(), []queue.Message{message("m1", body(t))}))
	assert.Zero(t, e2.p.called())
	assert.EqualValues(t, 1, e2.counters(t)[stats.DraftsSkippedPrefix+SkipAnswered])
}

// TestHistoryBounded: a conversation of thousands of long messages gives
// the provider HistoryTurns turns of at most turnRunes characters.
func TestHistoryBounded(t *testing.T) {
	var msgs []chatwoot.Message
	for i := range 5000 {
		msgs = append(msgs, chatwoot.Message{ID: int64(i + 1), Content: strings.Repeat("x", 10_000), MessageType: chatwoot.Incoming})
	}
	turns, _ := turns(msgs, 6000)
	require.Len(t, turns, HistoryTurns)
	for _, tr := range turns {
		assert.LessOrEqual(t, len([]rune(tr.Text)), turnRunes+1)
	}
}

func TestNote(t *testing.T) {
	for _, tc := range []struct {
		s    drafting.Suggestion
		want string
	}{
		{drafting.Suggestion{Text: "Hello", Source: "greet", Score: 0.9, Provider: "retrieval"},
			"Suggested reply (not sent) — canned response `greet`, confidence 0.90. Review before sending:\n\nHello"},
		{drafting.Suggestion{Text: "Hello", Source: "greet", Score: 0.7, Provider: "bedrock"},
			"Suggested reply (not sent) — written by bedrock from canned response `greet`, confidence 0.70. Review before sending:\n\nHello"},
		{drafting.Suggestion{Text: " Hello\n", Score: 0.5, Provider: "openai"},
			"Suggested reply (not sent) — written by openai, confidence 0.50. Review before sending:\n\nHello"},
	} {
		assert.Equal(t, tc.want, Note(tc.s))
	}
	long := Note(drafting.Suggestion{Text: strings.Repeat("é", 10*MaxSuggestionRunes), Provider: "openai"})
	assert.Less(t, len([]rune(long)), MaxSuggestionRunes+200)
}

// TestConcurrentDuplicates: the same request delivered twice in one batch
// (the processor sent it again after a crash) is drafted and posted once,
// counted once; while one delivery holds the note's claim the other waits
// for its outcome rather than recording one of its own.
func TestConcurrentDuplicates(t *testing.T) {
	e := newEnv(t)
	e.d.Concurrency = 2
	b := body(t)
	failed := e.d.Process(context.Background(), []queue.Message{message("m1", b), message("m2", b)})
	assert.LessOrEqual(t, len(failed), 1)
	for _, id := range failed { // its retry finds the request complete
		assert.Empty(t, e.d.Process(context.Background(), []queue.Message{message(id, b)}))
	}
	assert.Len(t, e.cw.notes(), 1)
	assert.EqualValues(t, 1, e.counters(t)[stats.DraftsMade])
}

// TestHolderFails: the delivery holding the note's claim fails to post;
// the other's retry takes the claim over and posts it.
func TestHolderFails(t *testing.T) {
	e := newEnv(t)
	e.cw.noteErr = errors.New("chatwoot api: 502")
	require.Equal(t, []string{"m1"}, e.d.Process(context.Background(), []queue.Message{message("m1", body(t))}))
	e.cw.noteErr = nil
	require.Empty(t, e.d.Process(context.Background(), []queue.Message{message("m2", body(t))}))
	assert.Len(t, e.cw.notes(), 1)
	assert.EqualValues(t, 1, e.counters(t)[stats.DraftsMade])
}
