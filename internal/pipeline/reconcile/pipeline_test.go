package reconcile

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

// pipeline is the processor side: the events queue, the store and the
// support stages, as the local server wires them.
type pipeline struct {
	q   *sqlitequeue.Queue
	st  *memstore.Store
	cw  *fakeChatwoot
	tr  *stages.Support
	p   *processor.Processor
	now func() time.Time
}

type tagger struct{}

func (tagger) Tags(text string) []string {
	if strings.Contains(text, "charged") {
		return []string{"billing"}
	}
	return nil
}

type calm struct{}

func (calm) Score(string) float64 { return 0 }

func newPipeline(t *testing.T, w *world) *pipeline {
	t.Helper()
	q, err := sqlitequeue.Open(t.Context(), filepath.Join(t.TempDir(), "q.db"), "events", sqlitequeue.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	st := memstore.New()
	cw := newFake(w)
	week := sla.Week{}
	for d := range week {
		week[d] = []sla.Interval{{Open: 0, Close: 24 * 60}}
	}
	cal, err := sla.NewCalendar(time.UTC, week, nil)
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	// memstore expires idempotency keys by the wall clock, so the pipeline's
	// clock is the wall clock, frozen so that the counters' day is too.
	start := time.Now()
	clock := func() time.Time { return start }
	tr := &stages.Support{
		Store: st, Chatwoot: cw, Tagger: tagger{}, Anger: calm{}, Log: log, Now: clock,
		SLA:       sla.Policy{Target: time.Hour, AtRiskFraction: 0.2, Calendar: func(int64) *sla.Calendar { return cal }},
		Escalator: &escalation.Escalator{Store: st, Chatwoot: cw, Config: escalation.Config{AngerThreshold: 0.8}, Log: log, Now: clock},
	}
	p := &processor.Processor{Store: st, Queue: q, Stages: []processor.Stage{tr.Stage()}, Log: log, Now: clock}
	return &pipeline{q: q, st: st, cw: cw, tr: tr, p: p, now: clock}
}

// drain runs the processor over everything queued, as the local loop does:
// receive up to batch messages, handle the records, delete.
func (pl *pipeline) drain(t *testing.T, batch int) {
	t.Helper()
	ctx := t.Context()
	for {
		msgs, err := pl.q.Receive(ctx, batch, time.Minute)
		require.NoError(t, err)
		if len(msgs) == 0 {
			return
		}
		require.Empty(t, pl.p.Process(ctx, msgs))
		for _, m := range msgs {
			require.NoError(t, pl.q.Delete(ctx, m.ReceiptHandle))
		}
	}
}

func (pl *pipeline) counters(t *testing.T) map[string]int64 {
	t.Helper()
	c, err := pl.st.Counters(t.Context(), stats.Day(pl.now()))
	require.NoError(t, err)
	return c
}

func (pl *pipeline) state(t *testing.T) conversation.State {
	t.Helper()
	s, ok, err := pl.st.Conversation(t.Context(), conversation.Key{AccountID: acct, ConversationID: story})
	require.NoError(t, err)
	require.True(t, ok)
	return s
}

func (pl *pipeline) actions(t *testing.T) []store.Action {
	t.Helper()
	a, err := pl.st.Actions(t.Context(), conversation.Key{AccountID: acct, ConversationID: story})
	require.NoError(t, err)
	return a
}

// TestPipeline: the story's webhooks were never delivered. Reconciliation
// back-fills them through the processor; the originals, arriving late, are
// duplicates; a second run finds nothing to do.
func TestPipeline(t *testing.T) {
	ctx := t.Context()
	pl := newPipeline(t, storyWorld())
	r := &Reconciler{Chatwoot: pl.cw, Store: pl.st, Queue: pl.q, Accounts: []int64{acct}, Now: pl.now}

	res, err := r.Run(ctx, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 1, Messages: 4, Statuses: 1}, res)
	// One at a time, so the processor takes them in the order sent.
	pl.drain(t, 1)

	s := pl.state(t)
	assert.Equal(t, "resolved", s.Status)
	assert.Equal(t, []string{"billing", "refund"}, s.Labels)
	assert.Equal(t, int64(98231), s.FirstCustomerMessageID)
	assert.Equal(t, int64(98251), s.FirstResponseMessageID)
	assert.Equal(t, 6*time.Minute+24*time.Second, s.FirstResponseTime())
	assert.Equal(t, []time.Time{time.Unix(1778582465, 0).UTC()}, s.Resolutions)
	var ids []int64
	for _, f := range s.Messages {
		ids = append(ids, f.MessageID)
	}
	assert.Equal(t, []int64{98231, 98232, 98251, 98260}, ids)
	require.Len(t, s.Periods, 1, "answered and resolved")
	assert.Equal(t, time.Unix(1778582465, 0).UTC(), s.Periods[0].ResolvedAt)
	assert.False(t, s.WaitingForFirstResponse())

	c := pl.counters(t)
	assert.Equal(t, int64(res.Messages+res.Statuses), c[stats.Processed])
	assert.Equal(t, c[stats.Processed], c[stats.Backfilled], "every processed event was a backfill")
	assert.Equal(t, int64(1), c[stats.Resolved])
	assert.Zero(t, c[stats.Duplicates])
	// Triage tagged the customer's message billing and refund, which the
	// conversation already carries: no label call. The reply was merged
	// before the message it answered, so no state in between looked like a
	// breach: no other action either.
	acts := pl.actions(t)
	assert.Empty(t, acts)
	calls := len(pl.cw.Calls())

	// The originals arrive late, as ingest enqueues them.
	late := []string{
		"02_message_created_incoming.json", "03_message_created_bot.json", "05_message_created_agent_reply.json",
		"06_message_created_attachment.json", "07_conversation_status_changed.json",
	}
	for i, name := range late {
		body := readWebhook(t, name)
		_, err := pl.q.Send(ctx, body, map[string]string{
			queue.AttrDelivery: fmt.Sprintf("3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a4%d", i), queue.AttrAccount: "7",
			queue.AttrEvent: decode(t, body).Event, queue.AttrReceivedAt: pl.now().Format(time.RFC3339Nano),
		})
		require.NoError(t, err)
	}
	pl.drain(t, 10)
	c2 := pl.counters(t)
	assert.Equal(t, c[stats.Processed], c2[stats.Processed], "nothing processed twice")
	assert.Equal(t, int64(len(late)), c2[stats.Duplicates])
	assert.Equal(t, acts, pl.actions(t), "no new actions")
	assert.Len(t, pl.cw.Calls(), calls, "no new Chatwoot calls")
	after := pl.state(t)
	assert.Equal(t, s.Version, after.Version, "state untouched")

	res, err = r.Run(ctx, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 1}, res)
	d, err := pl.q.Depth(ctx)
	require.NoError(t, err)
	assert.Zero(t, d.Visible+d.InFlight+d.Delayed, "second run enqueues nothing")
}

// TestPartialBackfill: the reply and the status change were lost. The
// backfill sends only those, and the processed state equals the state all
// the webhooks would have built.
func TestPartialBackfill(t *testing.T) {
	ctx := t.Context()
	pl := newPipeline(t, storyWorld())
	delivered := []string{
		"01_conversation_created.json", "02_message_created_incoming.json", "03_message_created_bot.json",
		"04_message_created_private_note.json", "06_message_created_attachment.json",
	}
	for i, name := range delivered {
		body := readWebhook(t, name)
		_, err := pl.q.Send(ctx, body, map[string]string{
			queue.AttrDelivery: fmt.Sprintf("delivery-%d", i), queue.AttrAccount: "7",
			queue.AttrEvent: decode(t, body).Event, queue.AttrReceivedAt: pl.now().Format(time.RFC3339Nano),
		})
		require.NoError(t, err)
	}
	pl.drain(t, 10)

	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: pl.cw, Store: pl.st, Queue: q, Accounts: []int64{acct}, Now: pl.now}
	res, err := r.Run(ctx, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 1, Messages: 1, Statuses: 1}, res)
	assert.Equal(t, withStatus(backfills(98251)), q.deliveries())
	for _, m := range q.sent {
		_, err := pl.q.Send(ctx, m.body, m.attrs)
		require.NoError(t, err)
	}
	pl.drain(t, 10)

	all := memstore.New()
	observe(t, all, append(delivered, "05_message_created_agent_reply.json", "07_conversation_status_changed.json",
		"08_conversation_updated.json")...)
	want, _, err := all.Conversation(ctx, conversation.Key{AccountID: acct, ConversationID: story})
	require.NoError(t, err)
	got := pl.state(t)
	got.Version = want.Version
	assert.Equal(t, want, got)
}

// TestExternalEchoBackfill: a customer was answered from the WhatsApp
// Business app and neither webhook arrived. REST shows the reply as an
// outgoing message with no sender and content_attributes.external_echo;
// the back-filled body carries it, so the reply is the first response and
// the sweeper finds no breach, long after the hour the SLA allows.
func TestExternalEchoBackfill(t *testing.T) {
	ctx := t.Context()
	customer := restMessage(story, 99001, incoming, false, 1778577267, "Where is my order?", contact())
	echo := restMessage(story, 99002, outgoing, false, 1778577267+240, "Shipped this morning!", nil)
	echo["content_attributes"], echo["status"] = obj{"external_echo": true}, "delivered"
	delete(echo, "sender_type") // the messages endpoint names a sender only by its push data
	delete(echo, "sender_id")
	msgs := []obj{customer, echo}
	conv := restConversation(story, "open", "1778577507.25", msgs)
	conv["first_reply_created_at"] = echo["created_at"]
	w := newWorld().add(acct, conv, msgs)
	srv, _ := restChatwoot(t, w, "tok-reconcile")
	hc, err := rest.NewHTTPClient(srv.URL, "tok-reconcile", rest.Options{RatePerMinute: -1})
	require.NoError(t, err)

	pl := newPipeline(t, w)
	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: hc, Store: pl.st, Queue: q, Accounts: []int64{acct}, Now: pl.now}
	res, err := r.Run(ctx, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 1, Messages: 2, Statuses: 1}, res)

	var body map[string]any
	require.NoError(t, json.Unmarshal(q.get(t, "backfill:7:99002").body, &body))
	assert.Equal(t, "outgoing", body["message_type"])
	assert.Equal(t, map[string]any{"external_echo": true}, body["content_attributes"])
	assert.Nil(t, body["sender"])
	assert.Equal(t, map[string]any{}, body["additional_attributes"], "REST's messages carry none")

	for _, m := range q.sent {
		_, err := pl.q.Send(ctx, m.body, m.attrs)
		require.NoError(t, err)
	}
	pl.drain(t, 10)
	s := pl.state(t)
	assert.Equal(t, int64(99002), s.FirstResponseMessageID)
	assert.Equal(t, 4*time.Minute, s.FirstResponseTime())
	assert.False(t, s.WaitingForFirstResponse())
	r2, ok := pl.tr.SLA.Current(&s, pl.now())
	require.True(t, ok)
	assert.Equal(t, sla.Met, r2.State)

	breaches, err := pl.tr.Sweep(ctx, 100)
	require.NoError(t, err)
	assert.Zero(t, breaches)
	assert.Empty(t, pl.actions(t), "no escalation")
}

// restChatwoot serves the world in the REST shapes of docs/chatwoot.md §5,
// paging messages as Chatwoot's MessageFinder does: the latest 20, then 20
// before the id given as before. The messages of the conversations in
// notFound answer 404. It returns the request URIs it received.
func restChatwoot(t *testing.T, w *world, token string, notFound ...int64) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var uris []string
	mux := http.NewServeMux()
	param := func(r *http.Request, name string) int64 {
		n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
		require.NoError(t, err)
		return n
	}
	mux.HandleFunc("GET /api/v1/accounts/{a}/conversations", func(rw http.ResponseWriter, r *http.Request) {
		convs := w.convs[param(r, "a")]
		writeJSON(t, rw, http.StatusOK, obj{"data": obj{
			"meta":    obj{"mine_count": 0, "assigned_count": len(convs), "unassigned_count": 0, "all_count": len(convs)},
			"payload": convs,
		}})
	})
	mux.HandleFunc("GET /api/v1/accounts/{a}/conversations/{c}/messages", func(rw http.ResponseWriter, r *http.Request) {
		if slices.Contains(notFound, param(r, "c")) {
			writeJSON(t, rw, http.StatusNotFound, obj{"error": "Resource could not be found"})
			return
		}
		msgs := slices.Clone(w.msgs[conversation.Key{AccountID: param(r, "a"), ConversationID: param(r, "c")}])
		slices.SortFunc(msgs, func(a, b obj) int { return int(a["id"].(int64) - b["id"].(int64)) })
		if b := r.URL.Query().Get("before"); b != "" {
			before, err := strconv.ParseInt(b, 10, 64)
			require.NoError(t, err)
			msgs = slices.DeleteFunc(msgs, func(m obj) bool { return m["id"].(int64) >= before })
		}
		msgs = msgs[max(len(msgs)-20, 0):]
		writeJSON(t, rw, http.StatusOK, obj{"meta": obj{"labels": []string{}, "additional_attributes": obj{}, "contact": contact(),
			"assignee": agent(), "agent_last_seen_at": 0, "assignee_last_seen_at": 0}, "payload": msgs})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api_access_token") != token {
			writeJSON(t, rw, http.StatusUnauthorized, obj{"error": "You need to sign in or sign up before continuing."})
			return
		}
		mu.Lock()
		uris = append(uris, r.URL.RequestURI())
		mu.Unlock()
		mux.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(uris)
	}
}

func writeJSON(t *testing.T, rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	assert.NoError(t, json.NewEncoder(rw).Encode(v))
}

// TestHTTPClient runs through the real REST client: the bodies equal those
// built from the fake client, so the fake stands for Chatwoot.
func TestHTTPClient(t *testing.T) {
	long := chatter(1424, 45) // three pages
	w := storyWorld().add(acct, restConversation(1424, "open", "1778580000.5", long), long)
	srv, uris := restChatwoot(t, w, "tok-reconcile")
	hc, err := rest.NewHTTPClient(srv.URL, "tok-reconcile", rest.Options{RatePerMinute: -1})
	require.NoError(t, err)

	overHTTP, viaFake := &fakeQueue{}, &fakeQueue{}
	r := &Reconciler{Chatwoot: hc, Store: memstore.New(), Queue: overHTTP, Accounts: []int64{acct}, Now: clock}
	res, err := r.Run(t.Context(), 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Result{Conversations: 2, Messages: 4 + 45, Statuses: 2}, res)

	r.Chatwoot, r.Queue = newFake(w), viaFake
	_, err = r.Run(t.Context(), 15*time.Minute)
	require.NoError(t, err)
	require.Equal(t, len(viaFake.sent), len(overHTTP.sent))
	for i := range viaFake.sent {
		assert.JSONEq(t, string(viaFake.sent[i].body), string(overHTTP.sent[i].body))
		assert.Equal(t, viaFake.sent[i].attrs, overHTTP.sent[i].attrs)
	}

	assert.Equal(t, []string{
		"/api/v1/accounts/7/conversations?status=all&updated_within=900",
		"/api/v1/accounts/7/conversations/1423/messages",
		"/api/v1/accounts/7/conversations/1424/messages",
		"/api/v1/accounts/7/conversations/1424/messages?before=1424025",
		"/api/v1/accounts/7/conversations/1424/messages?before=1424005",
	}, uris())
}

// TestHTTPClientFailure: a conversation whose messages Chatwoot refuses is
// an error of that conversation only.
func TestHTTPClientFailure(t *testing.T) {
	w := storyWorld().add(acct, restConversation(1424, "open", "1778580000.5", chatter(1424, 2)), chatter(1424, 2))
	srv, _ := restChatwoot(t, w, "tok-reconcile", story)
	hc, err := rest.NewHTTPClient(srv.URL, "tok-reconcile", rest.Options{RatePerMinute: -1})
	require.NoError(t, err)
	q := &fakeQueue{}
	r := &Reconciler{Chatwoot: hc, Store: memstore.New(), Queue: q, Accounts: []int64{acct}, Now: clock}
	res, err := r.Run(t.Context(), time.Hour)
	assert.Equal(t, Result{Conversations: 2, Messages: 2, Statuses: 1, Errors: 1}, res)
	var apiErr *rest.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "conversation 1423")
	assert.Equal(t, []string{"backfill:7:1424:open:1778580000500000", "backfill:7:1424001", "backfill:7:1424000"}, q.deliveries())
}

// TestBackfillsWhatTheQueueCannotCarry: an email of over 1 MiB (or with a
// character SQS refuses) is back-filled by claim check, as the edge would
// have taken it, and processed.
func TestBackfillsWhatTheQueueCannotCarry(t *testing.T) {
	msgs := []obj{
		restMessage(story, 98231, incoming, false, 1778577267, "I was charged twice "+strings.Repeat("<p>détails</p>", 90_000), contact()),
		restMessage(story, 98232, incoming, false, 1778577268, "refund \uffff please", contact()),
	}
	pl := newPipeline(t, newWorld().add(acct, restConversation(story, "open", resolvedAt, msgs), msgs))
	b, err := fileblob.New(filepath.Join(t.TempDir(), "claims"))
	require.NoError(t, err)
	claims := &claim.Check{Bucket: b, Prefix: claim.Prefix}
	pl.p.Claims = claims
	r := &Reconciler{Chatwoot: pl.cw, Store: pl.st, Queue: pl.q, Claims: claims, Accounts: []int64{acct}, Now: pl.now}
	res, err := r.Run(t.Context(), 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Messages)
	pl.drain(t, 10)
	assert.Equal(t, int64(res.Messages+res.Statuses), pl.counters(t)[stats.Processed], "nothing failed")
	assert.Equal(t, int64(98231), pl.state(t).FirstCustomerMessageID)
	keys, err := b.List(t.Context(), claim.Prefix, 0)
	require.NoError(t, err)
	assert.Empty(t, keys, "released once processed")
}
