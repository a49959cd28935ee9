// Package drafter is the drafts queue's consumer: it turns each draft
// request (docs/drafts.md) into a suggested reply, posted on the
// conversation as a private note an agent may use, never sent to the
// customer. One suggestion per request, however often it is delivered;
// none when an agent answered or the conversation was resolved by the time
// it is ready, or when the provider has nothing good enough.
package drafter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/retry"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafts"
	"supportpipe/internal/support/runes"
)

// Why a request got no suggestion ("drafts_skipped.<reason>").
const (
	SkipAnswered = "answered"      // an agent replied after the message
	SkipResolved = "resolved"      // the conversation was resolved after it
	SkipNoDraft  = "no_good_draft" // the provider abstained
)

// Outcomes of a request, as the day records and the logs name them.
const (
	OutcomeMade        = "made"
	OutcomeSkipped     = "skipped"
	OutcomeFailed      = "failed"
	OutcomeDuplicate   = "duplicate"   // another delivery of the request completed it
	OutcomeRedelivered = "redelivered" // this message completed it; its delete was lost
	OutcomeRetry       = "retry"
)

// DayRecordKind files one record per request outcome, for `supportctl
// drafts list` and the daily report. It holds ids, the outcome and scores;
// never the customer's text or the suggestion.
const DayRecordKind = "draft"

// Bounds of what the drafter reads and writes.
const (
	// DefaultTimeout bounds one provider call: a suggestion that comes
	// later than an agent would have answered is worth little, and a hung
	// model must not hold the queue.
	DefaultTimeout = 20 * time.Second
	// HistoryTurns is how many earlier messages of the conversation a
	// provider sees, and turnRunes how much of each.
	HistoryTurns = 10
	turnRunes    = 2_000
	// MaxSuggestionRunes bounds a note: providers bound their output, and
	// this bounds what any provider can put in front of an agent.
	MaxSuggestionRunes = 4_000
	completionTTL      = 7 * 24 * time.Hour
)

// Metrics receives the drafter's measurements (EMF on Lambda).
type Metrics interface {
	Duration(name string, d time.Duration)
	Count(name string, n int64)
}

// Drafter handles batches of the drafts queue.
type Drafter struct {
	Provider drafting.Provider
	Chatwoot rest.Client
	Store    store.Store
	// Retry is the policy for requests that failed for a reason that may
	// pass (the note could not be posted, the store failed); its Queue is
	// the drafts queue.
	Retry retry.Policy
	Log   *slog.Logger
	Now   func() time.Time
	// Metrics is optional.
	Metrics Metrics
	// Live says Chatwoot's API answers: the conversation's messages are
	// read for the provider and to see an agent's reply the pipeline has
	// not processed yet.
	Live bool
	// Timeout bounds a provider call (DefaultTimeout when 0).
	Timeout time.Duration
	// Concurrency is how many requests of a batch run at once.
	Concurrency int
}

// Process runs a batch and returns the ids of the messages to retry; the
// others may be deleted. The requests run concurrently up to their
// outcome; the outcomes are then counted for the whole batch in one store
// call, one write of the day's counters instead of one per request.
func (d *Drafter) Process(ctx context.Context, msgs []queue.Message) (failed []string) {
	results := make([]result, len(msgs))
	sem := make(chan struct{}, max(d.Concurrency, 1))
	var wg sync.WaitGroup
	for i, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = d.handle(ctx, m)
		})
	}
	wg.Wait()
	d.complete(ctx, results)
	for i := range results {
		if !d.finish(ctx, &results[i]) {
			failed = append(failed, results[i].msg.ID)
		}
	}
	return failed
}

// outcome is what became of one request.
type outcome struct {
	kind   string
	reason string // a skip's reason, or why it failed
	sugg   drafting.Suggestion
}

// result is a message's way through the batch.
type result struct {
	msg        queue.Message
	req        drafts.Request
	log        *slog.Logger
	o          outcome
	completion *store.Completion // to write; nil when there is nothing to record
	err        error
	// settled says the message needs nothing more (dead-lettered at once,
	// or already handled).
	settled bool
	elapsed time.Duration
}

// handle runs one message up to its outcome, whose completion it returns
// unwritten.
func (d *Drafter) handle(ctx context.Context, m queue.Message) result {
	start := time.Now()
	r := result{msg: m, log: d.Log.With(slog.String("message_id", m.ID))}
	req, err := decode(m.Body)
	if err != nil {
		// A request that does not decode will not decode on a retry: it
		// goes to the DLQ at once, for review.
		if err := d.Retry.Queue.DeadLetter(ctx, m, err.Error(), 1); err != nil {
			r.err = fmt.Errorf("dead-letter: %w", err)
			return r
		}
		d.count(ctx, r.log, map[string]int64{stats.DraftsFailed: 1})
		r.log.LogAttrs(ctx, slog.LevelError, "draft request dead-lettered", slog.String("error", err.Error()))
		r.settled = true
		return r
	}
	r.req = req
	r.log = r.log.With(slog.String("request_id", req.ID), slog.Int64("conversation_id", req.ConversationID))
	if r.o, r.err = d.run(ctx, m, req, r.log); r.err != nil {
		return r
	}
	r.elapsed = time.Since(start)
	switch r.o.kind {
	case OutcomeDuplicate, OutcomeRedelivered:
		r.log.LogAttrs(ctx, slog.LevelDebug, "draft request already handled", slog.String("outcome", r.o.kind))
		r.settled = true
		return r
	}
	r.completion, r.err = d.record(ctx, m, req, r.o)
	return r
}

// complete writes the batch's completions in one call. One that another
// delivery of the request completed meanwhile is skipped: counted once.
func (d *Drafter) complete(ctx context.Context, results []result) {
	var idx []int
	var cs []store.Completion
	for i, r := range results {
		if r.err == nil && r.completion != nil {
			idx = append(idx, i)
			cs = append(cs, *r.completion)
		}
	}
	if len(cs) == 0 {
		return
	}
	if err := d.Store.Complete(ctx, cs...); err != nil && !errors.Is(err, store.ErrDuplicate) {
		for _, i := range idx {
			results[i].err = fmt.Errorf("complete: %w", err)
		}
	}
}

// finish logs and measures a message, or applies the retry policy to a
// failed one; it reports whether the message may be deleted.
func (d *Drafter) finish(ctx context.Context, r *result) bool {
	if r.err != nil {
		return d.fail(ctx, r.msg, r.err, r.log)
	}
	if r.settled {
		return true
	}
	d.observe(r.o, latency(r.req, d.Now()))
	r.log.LogAttrs(ctx, slog.LevelInfo, "draft request done", slog.String("outcome", r.o.kind), slog.String("reason", r.o.reason),
		slog.String("source", r.o.sugg.Source), slog.Float64("score", r.o.sugg.Score), slog.Duration("elapsed", r.elapsed))
	return true
}

// decode reads a draft request and checks what the drafter relies on.
func decode(body []byte) (drafts.Request, error) {
	var r drafts.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("invalid draft request: %w", err)
	}
	switch {
	case r.Schema != drafts.Schema:
		return r, fmt.Errorf("invalid draft request: schema %q, want %q", clip(r.Schema, 64), drafts.Schema)
	case r.AccountID <= 0 || r.ConversationID <= 0 || r.Message.ID <= 0:
		return r, errors.New("invalid draft request: account, conversation and message ids must be positive")
	case r.ID != drafts.RequestID(r.AccountID, r.ConversationID, r.Message.ID):
		return r, errors.New("invalid draft request: id does not match its account, conversation and message")
	}
	return r, nil
}

// completedKey is the idempotency key of a request's outcome.
func completedKey(req drafts.Request) string { return "drafted:" + req.ID }

// run decides and performs a request's outcome, up to its completion.
func (d *Drafter) run(ctx context.Context, m queue.Message, req drafts.Request, log *slog.Logger) (outcome, error) {
	key := completedKey(req)
	seen, err := d.Store.Seen(ctx, key)
	if err != nil {
		return outcome{}, fmt.Errorf("idempotency read: %w", err)
	}
	if owner, ok := seen[key]; ok {
		if owner == m.ID {
			return outcome{kind: OutcomeRedelivered}, nil
		}
		return outcome{kind: OutcomeDuplicate}, nil
	}
	k := conversation.Key{AccountID: req.AccountID, ConversationID: req.ConversationID}
	// A note posted by an earlier attempt that crashed before completing
	// is not posted again; its outcome is completed now.
	if a, ok, err := d.Store.Action(ctx, k, noteAction(req)); err != nil {
		return outcome{}, fmt.Errorf("read note action: %w", err)
	} else if ok && a.Status == store.ActionDone {
		return outcome{kind: OutcomeMade, sugg: suggestionOf(a)}, nil
	}
	if reason, err := d.stale(ctx, k, req); err != nil || reason != "" {
		return outcome{kind: OutcomeSkipped, reason: reason}, err
	}
	dreq := request(req)
	var history []chatwoot.Message
	if d.Live {
		// The history helps; a draft without it is still a draft.
		if history, err = d.Chatwoot.RecentMessages(ctx, req.AccountID, req.ConversationID); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "conversation history not read", slog.String("error", err.Error()))
		}
		if answeredIn(history, req.Message.ID) {
			return outcome{kind: OutcomeSkipped, reason: SkipAnswered}, nil
		}
		dreq.History, dreq.Agent = turns(history, req.Message.ID)
	}

	pctx, cancel := context.WithTimeout(ctx, d.timeout())
	sugg, err := d.Provider.Draft(pctx, dreq)
	cancel()
	if err != nil {
		// Not retried: a model that failed now is likely to fail again,
		// and a late suggestion is worth less than none. Counted, and
		// alarmed on.
		log.LogAttrs(ctx, slog.LevelWarn, "provider failed", slog.String("error", err.Error()))
		return outcome{kind: OutcomeFailed, reason: "provider", sugg: sugg}, nil
	}
	if sugg.Abstained() {
		return outcome{kind: OutcomeSkipped, reason: SkipNoDraft, sugg: sugg}, nil
	}
	// The provider may have taken seconds: look again before posting.
	if reason, err := d.stale(ctx, k, req); err != nil || reason != "" {
		return outcome{kind: OutcomeSkipped, reason: reason, sugg: sugg}, err
	}
	a := store.Action{Key: k, ID: noteAction(req), Kind: "draft_note", Owner: m.ID, At: d.Now(),
		Detail: detail(sugg)}
	ran, err := store.Once(ctx, d.Store, a, func(ctx context.Context) (string, error) {
		return "", d.Chatwoot.PrivateNote(ctx, req.AccountID, req.ConversationID, Note(sugg))
	})
	if err != nil {
		return outcome{}, fmt.Errorf("post suggestion: %w", err)
	}
	if !ran {
		// Another delivery of the request holds the note's claim. Only
		// once it is posted is the outcome this one's to record: if that
		// delivery fails, this one's retry takes the claim over.
		if cur, ok, err := d.Store.Action(ctx, k, a.ID); err != nil {
			return outcome{}, fmt.Errorf("read note action: %w", err)
		} else if !ok || cur.Status != store.ActionDone {
			return outcome{}, errors.New("another delivery of the request is posting its suggestion")
		}
	}
	return outcome{kind: OutcomeMade, sugg: sugg}, nil
}

// noteAction is the id of the action that posts a request's note.
func noteAction(req drafts.Request) string { return fmt.Sprintf("draft-note:%d", req.Message.ID) }

// stale reports why the message needs no suggestion any more, from the
// conversation as the pipeline knows it: an agent's reply after it, or a
// resolution after it.
func (d *Drafter) stale(ctx context.Context, k conversation.Key, req drafts.Request) (string, error) {
	st, ok, err := d.Store.Conversation(ctx, k)
	if err != nil {
		return "", fmt.Errorf("read conversation: %w", err)
	}
	if !ok {
		return "", nil
	}
	at := req.Message.CreatedAt.Truncate(time.Second)
	for _, f := range st.Messages {
		if f.Kind == conversation.KindHuman && (f.MessageID > req.Message.ID || f.At.After(at)) {
			return SkipAnswered, nil
		}
	}
	for _, r := range st.Resolutions {
		if !r.Before(at) {
			return SkipResolved, nil
		}
	}
	return "", nil
}

// answeredIn reports a human reply after the message among Chatwoot's
// messages (ids grow with time in a Chatwoot installation).
func answeredIn(msgs []chatwoot.Message, after int64) bool {
	for i := range msgs {
		if msgs[i].ID > after && msgs[i].HumanReply() {
			return true
		}
	}
	return false
}

// turns is the conversation before the message, as a provider reads it: the
// last HistoryTurns public messages, each clipped, and the agent who last
// replied (for {{agent.name}}). Private notes, ours included, and activity
// messages are not the conversation.
func turns(msgs []chatwoot.Message, before int64) ([]drafting.Turn, drafting.Person) {
	var out []drafting.Turn
	var agent drafting.Person
	for i := range msgs {
		m := &msgs[i]
		if m.ID >= before || m.Private || strings.TrimSpace(m.Content) == "" {
			continue
		}
		switch {
		case m.MessageType == chatwoot.Incoming:
			out = append(out, drafting.Turn{Role: "customer", Text: clip(m.Content, turnRunes)})
		case m.MessageType == chatwoot.Outgoing:
			out = append(out, drafting.Turn{Role: "agent", Text: clip(m.Content, turnRunes)})
			if m.HumanReply() && m.Sender != nil && m.Sender.Name != "" {
				agent.Name = m.Sender.Name
			}
		}
	}
	if len(out) > HistoryTurns {
		out = out[len(out)-HistoryTurns:]
	}
	return out, agent
}

// clip cuts s to n characters, marking the cut.
func clip(s string, n int) string {
	if cut, ok := runes.Prefix(s, n); ok {
		return cut + "…"
	}
	return s
}

// request is what the provider is asked.
func request(r drafts.Request) drafting.Request {
	return drafting.Request{ID: r.ID, AccountID: r.AccountID, ConversationID: r.ConversationID, MessageID: r.Message.ID,
		Text: r.Message.Content, Tags: r.Tags, Angry: r.Angry, VIP: r.VIP, Contact: drafting.Person{Name: r.ContactName}}
}

// Note is the private note that carries a suggestion: an agent sees at a
// glance that it is a suggestion, was not sent, and where it comes from.
// rest adds the prefix that marks it ours.
func Note(s drafting.Suggestion) string {
	var b strings.Builder
	b.WriteString("Suggested reply (not sent)")
	switch {
	case s.Source != "" && s.Provider == "retrieval":
		fmt.Fprintf(&b, " — canned response `%s`", s.Source)
	case s.Source != "":
		fmt.Fprintf(&b, " — written by %s from canned response `%s`", s.Provider, s.Source)
	case s.Provider != "":
		fmt.Fprintf(&b, " — written by %s", s.Provider)
	}
	fmt.Fprintf(&b, ", confidence %.2f. Review before sending:\n\n", s.Score)
	b.WriteString(clip(strings.TrimSpace(s.Text), MaxSuggestionRunes))
	return b.String()
}

// detail is the note action's record: where the suggestion came from.
func detail(s drafting.Suggestion) string {
	b, _ := json.Marshal(map[string]any{"source": s.Source, "score": s.Score, "provider": s.Provider})
	return string(b)
}

// suggestionOf reads back what detail recorded.
func suggestionOf(a store.Action) drafting.Suggestion {
	var s struct {
		Source   string  `json:"source"`
		Score    float64 `json:"score"`
		Provider string  `json:"provider"`
	}
	_ = json.Unmarshal([]byte(a.Detail), &s)
	return drafting.Suggestion{Source: s.Source, Score: s.Score, Provider: s.Provider}
}

// Record is a request's day record (DayRecordKind): ids, outcome, scores.
type Record struct {
	RequestID      string    `json:"request_id"`
	AccountID      int64     `json:"account_id"`
	ConversationID int64     `json:"conversation_id"`
	MessageID      int64     `json:"message_id"`
	Outcome        string    `json:"outcome"`
	Reason         string    `json:"reason,omitempty"`
	Source         string    `json:"source,omitempty"`
	Score          float64   `json:"score"`
	Provider       string    `json:"provider,omitempty"`
	LatencyMS      int64     `json:"latency_ms"`
	InputTokens    int       `json:"input_tokens,omitempty"`
	OutputTokens   int       `json:"output_tokens,omitempty"`
	RequestedAt    time.Time `json:"requested_at,omitzero"`
	At             time.Time `json:"at"`
}

// latency is the time from the request to its outcome: how long the
// customer's message waited for a suggestion. A request time the clock
// has not reached yet (skew) counts as now.
func latency(req drafts.Request, now time.Time) time.Duration {
	if req.RequestedAt.IsZero() || req.RequestedAt.After(now) {
		return 0
	}
	return now.Sub(req.RequestedAt)
}

// record files the request's day record and returns the completion that
// counts its outcome, once: the counters are written with the idempotency
// key, as the processor's are.
func (d *Drafter) record(ctx context.Context, m queue.Message, req drafts.Request, o outcome) (*store.Completion, error) {
	now := d.Now()
	lat := latency(req, now)
	rec := Record{RequestID: req.ID, AccountID: req.AccountID, ConversationID: req.ConversationID, MessageID: req.Message.ID,
		Outcome: o.kind, Reason: o.reason, Source: o.sugg.Source, Score: o.sugg.Score, Provider: o.sugg.Provider,
		LatencyMS: lat.Milliseconds(), InputTokens: o.sugg.InputTokens, OutputTokens: o.sugg.OutputTokens,
		RequestedAt: req.RequestedAt, At: now}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode draft record: %w", err)
	}
	day := stats.Day(now)
	if err := d.Store.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: DayRecordKind, ID: req.ID, Data: string(data), At: now}); err != nil {
		return nil, fmt.Errorf("file draft record: %w", err)
	}
	counts := map[string]int64{}
	switch o.kind {
	case OutcomeMade:
		counts[stats.DraftsMade] = 1
		counts[stats.Drafting.Counter(lat)] = 1
	case OutcomeSkipped:
		counts[stats.DraftsSkipped] = 1
		counts[stats.DraftsSkippedPrefix+o.reason] = 1
	case OutcomeFailed:
		counts[stats.DraftsFailed] = 1
	}
	if o.sugg.InputTokens > 0 || o.sugg.OutputTokens > 0 {
		counts[stats.DraftInputTokens] = int64(o.sugg.InputTokens)
		counts[stats.DraftOutputTokens] = int64(o.sugg.OutputTokens)
	}
	return &store.Completion{Keys: []string{completedKey(req)}, Owner: m.ID, ExpiresAt: now.Add(completionTTL),
		Counts: map[string]map[string]int64{day: counts}}, nil
}

// fail applies the retry policy; a request that spent its attempts is
// counted failed as it goes to the DLQ.
func (d *Drafter) fail(ctx context.Context, m queue.Message, cause error, log *slog.Logger) bool {
	v, err := d.Retry.Fail(ctx, m, cause.Error(), d.Now())
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "draft request failed; left to the queue's redrive",
			slog.String("error", err.Error()), slog.String("cause", cause.Error()))
		return false
	}
	if !v.DeadLettered {
		log.LogAttrs(ctx, slog.LevelWarn, "draft request failed; will retry", slog.Int("attempt", v.Attempt),
			slog.Duration("backoff", v.Backoff), slog.String("error", cause.Error()))
		return false
	}
	if !v.Again {
		d.count(ctx, log, map[string]int64{stats.DraftsFailed: 1})
		if d.Metrics != nil {
			d.Metrics.Count(metrics.DraftsFailed, 1)
		}
	}
	log.LogAttrs(ctx, slog.LevelError, "draft request dead-lettered", slog.Int("attempts", v.Attempt),
		slog.String("error", cause.Error()))
	return true
}

func (d *Drafter) count(ctx context.Context, log *slog.Logger, c map[string]int64) {
	if err := d.Store.AddCounters(ctx, stats.Day(d.Now()), c); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "counters not written", slog.String("error", err.Error()))
	}
}

func (d *Drafter) observe(o outcome, lat time.Duration) {
	if d.Metrics == nil {
		return
	}
	switch o.kind {
	case OutcomeMade:
		d.Metrics.Count(metrics.DraftsMade, 1)
		d.Metrics.Duration(metrics.DraftTime, lat)
	case OutcomeSkipped:
		d.Metrics.Count(metrics.DraftsSkipped, 1)
	case OutcomeFailed:
		d.Metrics.Count(metrics.DraftsFailed, 1)
	}
	if o.sugg.InputTokens > 0 || o.sugg.OutputTokens > 0 {
		d.Metrics.Count(metrics.InputTokens, int64(o.sugg.InputTokens))
		d.Metrics.Count(metrics.OutputTokens, int64(o.sugg.OutputTokens))
	}
}

func (d *Drafter) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}
