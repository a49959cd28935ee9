// Package processor turns queued Chatwoot events into stored state. It is the
// SQS-triggered function's logic: per record it deduplicates, decodes, merges
// conversation state, runs the support stages and counts, and it applies the
// retry policy (package retry: 3 attempts, 1 s and 2 s apart, then the
// DLQ).
package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/retry"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

const (
	// idempotencyTTL outlives any redelivery or Chatwoot re-emission, and
	// the delivery log: a conversation's records carry its entries.
	idempotencyTTL = store.DeliveryRetention
	slowThreshold  = time.Second
)

// Event is what a stage sees: the decoded payload and the conversation state
// after this event was merged.
type Event struct {
	MessageID    string
	DeliveryID   string
	AccountID    int64
	ReceivedAt   time.Time
	Backfilled   bool
	Payload      *chatwoot.Payload
	Conversation *conversation.State // after the merge; nil for events without a conversation
	Previous     *conversation.State // before the merge

	counters map[string]int64
}

// Count adds to a daily counter when the event completes, in the same
// transaction as its idempotency keys, so the count is exact under
// redelivery and duplicates.
func (e *Event) Count(name string, n int64) {
	if e.counters == nil {
		e.counters = map[string]int64{}
	}
	e.counters[name] += n
}

// Stage is one step of support logic after the state merge (tagging, SLA,
// escalation, Chatwoot actions, draft routing). A stage must be idempotent:
// it runs again when a message is redelivered after a failure.
type Stage interface {
	Name() string
	Run(ctx context.Context, ev *Event) error
}

// Queue is the part of the queue port the processor drives.
type Queue interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error
	DeadLetter(ctx context.Context, m queue.Message, reason string, attempts int) error
}

// Claims reads back the bodies that travelled by claim check, and deletes
// them once their event is complete (claim.Check).
type Claims interface {
	Body(ctx context.Context, body []byte, attrs map[string]string) ([]byte, error)
	Release(ctx context.Context, attrs map[string]string) error
}

// Metrics receives per-message measurements (EMF on Lambda).
type Metrics interface {
	Message(outcome string, d time.Duration)
}

// Processor handles SQS batches.
type Processor struct {
	Store   store.Store
	Queue   Queue
	Claims  Claims // optional: without it, a claim message fails
	Stages  []Stage
	Log     *slog.Logger
	Now     func() time.Time
	Metrics Metrics // optional
	// MaxAttempts and Backoff are the retry policy's (package retry:
	// 3 attempts, 1 s, 2 s, 4 s).
	MaxAttempts int
	Backoff     []time.Duration
	// Concurrency is how many records of a batch run at once.
	Concurrency int
	// CountBots lets bot replies answer a waiting customer (sla.count_bots).
	CountBots bool
}

// Outcomes of one record.
const (
	OutcomeProcessed    = "processed"
	OutcomeDuplicate    = "duplicate"
	OutcomeRedelivered  = "redelivered"
	OutcomeRetry        = "retry"
	OutcomeDeadLettered = "dead_lettered"
)

// Process runs a batch of received messages and returns the ids of those to
// retry, as an SQS event source mapping's partial batch response names them;
// the others may be deleted. Messages run (concurrently up to Concurrency)
// up to their completion, which is then written for the whole batch in one
// store call.
func (p *Processor) Process(ctx context.Context, msgs []queue.Message) (failed []string) {
	results := make([]result, len(msgs))
	b := &batch{first: map[string]int{}}
	conc := max(p.Concurrency, 1)
	if conc == 1 || len(msgs) == 1 {
		for i, m := range msgs {
			results[i] = p.process(ctx, m, b, i)
		}
	} else {
		sem := make(chan struct{}, conc)
		var wg sync.WaitGroup
		for i, m := range msgs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				results[i] = p.process(ctx, m, b, i)
			})
		}
		wg.Wait()
	}
	p.complete(ctx, results)
	for i := range results {
		if !p.finish(ctx, &results[i]) {
			failed = append(failed, results[i].msg.ID)
		}
	}
	p.logDeliveries(ctx, results)
	return failed
}

// result is a record's way through the batch.
type result struct {
	msg        queue.Message
	ev         *Event
	outcome    string
	completion *store.Completion // to write; nil when there is nothing to record
	copyOf     int               // the record of this batch carrying the same event, or -1
	err        error
	elapsed    time.Duration
	attempt    int // the attempt that failed, when err is set
}

// batch tells the records of one batch that carry the same event apart: the
// first runs, the others wait for its outcome instead of running the stages
// again.
type batch struct {
	mu    sync.Mutex
	first map[string]int // content key → record
}

func (b *batch) claim(key string, i int) (first int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if j, ok := b.first[key]; ok {
		return j
	}
	b.first[key] = i
	return i
}

// complete writes the batch's completions, in one call when nothing
// collides. A processed event whose key another message completed meanwhile
// becomes a duplicate, as does a copy of an event a record of this batch
// completed; their records go in a second call. A duplicate whose record
// exists was counted by an earlier delivery of the same message.
func (p *Processor) complete(ctx context.Context, results []result) {
	for round := 0; round < 2; round++ {
		if round == 1 {
			for i := range results {
				r := &results[i]
				if r.copyOf < 0 || r.err != nil {
					continue
				}
				if err := results[r.copyOf].err; err != nil {
					r.err = fmt.Errorf("a copy of this event in the batch failed: %w", err)
					continue
				}
				r.outcome, r.completion = OutcomeDuplicate, p.duplicate(r.msg, r.ev)
			}
		}
		var idx []int
		var cs []store.Completion
		now := p.Now()
		for i, r := range results {
			if r.err == nil && r.completion != nil {
				idx = append(idx, i)
				c := *r.completion
				d := p.entry(&r, r.outcome, now)
				c.Delivery = &d
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		err := p.Store.Complete(ctx, cs...)
		if errors.Is(err, store.ErrDeliveryLog) {
			// The completions are written: only their log entries are missing.
			p.Log.LogAttrs(ctx, slog.LevelError, "delivery log not written", slog.String("error", err.Error()))
			err = skippedOnly(err)
		}
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			for _, i := range idx {
				results[i].err = fmt.Errorf("complete: %w", err)
			}
			continue
		}
		for j, i := range idx {
			r := &results[i]
			r.completion = nil
			if !store.Skipped(err, j) {
				continue
			}
			if r.outcome == OutcomeDuplicate {
				r.outcome = OutcomeRedelivered
				continue
			}
			// A copy of this event completed concurrently. Our effects were
			// idempotent, so only the accounting differs: count a duplicate.
			r.outcome = OutcomeDuplicate
			r.completion = p.duplicate(r.msg, r.ev)
		}
	}
}

// finish logs and measures a record and applies the retry policy to a
// failed one; it reports whether the message may be deleted.
func (p *Processor) finish(ctx context.Context, r *result) bool {
	// The ids logger is built only when something will be logged: on the
	// happy path it would cost more than the rest of the bookkeeping.
	logger := func() *slog.Logger {
		log := p.Log.With(slog.String("message_id", r.msg.ID), slog.String("delivery_id", r.msg.Attributes[queue.AttrDelivery]))
		if r.ev != nil && r.ev.Payload != nil {
			log = log.With(slog.String("event", r.ev.Payload.Event), slog.Int64("conversation_id", r.ev.Payload.ConversationID))
		}
		return log
	}
	if r.err == nil {
		if p.Claims != nil {
			// A failure leaves the object to the bucket's lifecycle rule.
			if err := p.Claims.Release(ctx, r.msg.Attributes); err != nil {
				logger().LogAttrs(ctx, slog.LevelWarn, "claim not released", slog.String("error", err.Error()))
			}
		}
		if r.elapsed > slowThreshold {
			logger().LogAttrs(ctx, slog.LevelWarn, "slow message", slog.Duration("elapsed", r.elapsed))
		} else if p.Log.Enabled(ctx, slog.LevelDebug) {
			logger().LogAttrs(ctx, slog.LevelDebug, "message done", slog.String("outcome", r.outcome), slog.Duration("elapsed", r.elapsed))
		}
		p.observe(r.outcome, r.elapsed)
		return true
	}
	outcome, attempt, ok := p.fail(ctx, r.msg, r.err, logger())
	r.outcome, r.attempt = outcome, attempt
	p.observe(outcome, r.elapsed)
	return ok
}

func (p *Processor) observe(outcome string, d time.Duration) {
	if p.Metrics != nil {
		p.Metrics.Message(outcome, d)
	}
}

// fail applies the retry policy (package retry) and counts its verdict.
func (p *Processor) fail(ctx context.Context, msg queue.Message, cause error, log *slog.Logger) (outcome string, attempt int, deleted bool) {
	now := p.Now()
	day := stats.Day(now)
	reason := cause.Error()
	policy := retry.Policy{Attempts: p.Store, Queue: p.Queue, MaxAttempts: p.MaxAttempts, Backoff: p.Backoff}
	v, err := policy.Fail(ctx, msg, reason, now)
	if err != nil && v.Attempt == 0 {
		log.LogAttrs(ctx, slog.LevelError, "cannot record failure; leaving message to the queue's redrive",
			slog.String("error", err.Error()), slog.String("cause", reason))
		return OutcomeRetry, 0, false
	}
	counters := map[string]int64{stats.Failed: 1}
	if !v.DeadLettered && err == nil {
		counters[stats.Retried] = 1
		p.addCounters(ctx, map[string]map[string]int64{day: counters}, log)
		if v.BackoffErr != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "backoff not applied", slog.String("error", v.BackoffErr.Error()))
		}
		log.LogAttrs(ctx, slog.LevelWarn, "processing failed; will retry", slog.Int("attempt", v.Attempt),
			slog.Duration("backoff", v.Backoff), slog.String("error", reason))
		return OutcomeRetry, v.Attempt, false
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "dead-letter failed", slog.String("error", err.Error()))
		return OutcomeRetry, v.Attempt, false
	}
	counts := map[string]map[string]int64{day: counters}
	if v.Again {
		delete(counters, stats.Failed)
	} else {
		counts = arrival(msg, now, true, counts)
	}
	p.addCounters(ctx, counts, log)
	log.LogAttrs(ctx, slog.LevelError, "message dead-lettered", slog.Int("attempts", v.Attempt), slog.String("error", reason))
	return OutcomeDeadLettered, v.Attempt, true
}

func (p *Processor) addCounters(ctx context.Context, counts map[string]map[string]int64, log *slog.Logger) {
	for day, c := range counts {
		if err := p.Store.AddCounters(ctx, day, c); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "counters not written", slog.String("error", err.Error()))
		}
	}
}

// errDecode marks payloads that cannot be decoded. They still get their
// attempts: a decoder fix deployed meanwhile should be able to save them.
var errDecode = errors.New("decode")

// process runs one record up to its completion, which it returns unwritten.
func (p *Processor) process(ctx context.Context, m queue.Message, b *batch, i int) result {
	start := time.Now()
	r := result{msg: m, copyOf: -1}
	r.err = p.run(ctx, &r, b, i, start)
	r.elapsed = time.Since(start)
	return r
}

// run fills r's event, outcome and completion, or fails.
func (p *Processor) run(ctx context.Context, r *result, b *batch, i int, start time.Time) error {
	msg := r.msg
	body := msg.Body
	if claimKey, ok := claimKey(msg); ok {
		if p.Claims == nil {
			return errors.New("a claim message, and no claim check to read it")
		}
		var err error
		if body, err = p.Claims.Body(ctx, msg.Body, msg.Attributes); err != nil {
			if !errors.Is(err, claim.ErrGone) {
				return err
			}
			// Released after an earlier delivery completed the event
			// (its delete was lost), or a copy of it; otherwise lost.
			seen, serr := p.Store.Seen(ctx, claimKey)
			if serr != nil {
				return fmt.Errorf("idempotency read: %w", serr)
			}
			owner, ok := seen[claimKey]
			switch {
			case !ok:
				return err
			case owner == msg.ID:
				r.outcome = OutcomeRedelivered
			default:
				r.outcome, r.completion = OutcomeDuplicate, p.duplicate(msg, nil)
			}
			return nil
		}
	}
	payload, err := chatwoot.Decode(body)
	if err != nil {
		return fmt.Errorf("%w: %w", errDecode, err)
	}
	ev := &Event{
		MessageID:  msg.ID,
		DeliveryID: msg.Attributes[queue.AttrDelivery],
		Payload:    payload,
		Backfilled: msg.Attributes[queue.AttrBackfilled] == "true",
	}
	ev.AccountID, _ = strconv.ParseInt(msg.Attributes[queue.AttrAccount], 10, 64)
	if ev.AccountID == 0 {
		ev.AccountID = payload.AccountID
	}
	ev.ReceivedAt, _ = time.Parse(time.RFC3339Nano, msg.Attributes[queue.AttrReceivedAt])
	r.ev = ev

	// The content key alone identifies the event: a delivery sent twice
	// carries the same signed body, so the same key. Its record names the
	// message that completed it, which is how a redelivery of that message
	// (its delete was lost) tells itself apart from a duplicate. It is
	// scoped to the event's conversation, whose delivery log it carries.
	contentKey := p.scoped(ev, "content:"+payload.ContentKey(ev.AccountID, body))
	if j := b.claim(contentKey, i); j != i {
		r.copyOf = j
		return nil
	}

	// The content key saw the times as sent; from here on implausible ones are the receipt time.
	payload.ClampTimes(ev.ReceivedAt, p.Now())
	changed := false
	if obs, ok := conversation.Observe(payload, ev.AccountID); ok {
		var prev conversation.State
		st, err := p.Store.UpdateConversation(ctx, obs.Key, func(s *conversation.State) bool {
			prev = s.Clone()
			changed = s.Apply(obs, p.CountBots) // the last call's verdict is the stored one
			return changed
		})
		if err != nil {
			return fmt.Errorf("update conversation: %w", err)
		}
		ev.Conversation, ev.Previous = &st, &prev
	}
	// An event whose merge changed the conversation was not completed: its
	// completion follows its merge, and merging an event again changes
	// nothing. Only the others need the idempotency read (docs/cost.md).
	if !changed {
		seen, err := p.Store.Seen(ctx, contentKey)
		if err != nil {
			return fmt.Errorf("idempotency read: %w", err)
		}
		if owner, ok := seen[contentKey]; ok {
			if owner == msg.ID {
				r.outcome = OutcomeRedelivered
				return nil
			}
			r.outcome, r.completion = OutcomeDuplicate, p.duplicate(msg, ev)
			return nil
		}
	}
	for _, s := range p.Stages {
		if err := s.Run(ctx, ev); err != nil {
			return fmt.Errorf("stage %s: %w", s.Name(), err)
		}
	}

	now := p.Now()
	elapsed := time.Since(start)
	counters := map[string]int64{stats.Processed: 1, stats.Processing.Counter(elapsed): 1}
	for k, v := range ev.counters {
		counters[k] += v
	}
	if elapsed > slowThreshold {
		counters[stats.SlowMessages] = 1
	}
	r.outcome = OutcomeProcessed
	r.completion = &store.Completion{Keys: withClaim(msg, contentKey), Owner: msg.ID, ExpiresAt: now.Add(idempotencyTTL),
		Counts: arrival(msg, now, false, map[string]map[string]int64{stats.Day(now): counters})}
	return nil
}

// claimKey is the idempotency key of a claim message's object: recorded
// with its completion, it tells a redelivery whose object was released
// that its event is complete.
func claimKey(msg queue.Message) (string, bool) {
	if !claim.Claimed(msg.Attributes) {
		return "", false
	}
	return "claim:" + msg.Attributes[claim.Attr], true
}

func withClaim(msg queue.Message, key string) []string {
	if k, ok := claimKey(msg); ok {
		return []string{key, k}
	}
	return []string{key}
}

// duplicate is the record of a message that carried an event completed by
// another: keyed by the message, so its own redelivery counts it once; ev
// is its event, nil when it was not decoded.
func (p *Processor) duplicate(msg queue.Message, ev *Event) *store.Completion {
	now := p.Now()
	return &store.Completion{Keys: withClaim(msg, p.scoped(ev, "msg:"+msg.ID)), Owner: msg.ID, ExpiresAt: now.Add(idempotencyTTL),
		Counts: arrival(msg, now, false, map[string]map[string]int64{stats.Day(now): {stats.Duplicates: 1}})}
}

// arrival adds to counts what a message's final outcome says about its
// event, on the day the webhook received it: received and
// accepted, and dead-lettered when the outcome is the DLQ. The processor
// counts them, once per queue message at its final outcome, with the
// exactness of its own counters, so the edge writes nothing to the store
// for an accepted event. A message redriven from the DLQ was counted when
// it went there: completing it now counts it recovered on that same day,
// beside its dead letter, so the day's delivery figures can be corrected
// after a redrive; dead-lettering it again counts nothing more.
func arrival(msg queue.Message, now time.Time, deadLettered bool, counts map[string]map[string]int64) map[string]map[string]int64 {
	at, err := time.Parse(time.RFC3339Nano, msg.Attributes[queue.AttrReceivedAt])
	if err != nil {
		at = now
	}
	day := stats.Day(at)
	add := func(name string) {
		if counts[day] == nil {
			counts[day] = map[string]int64{}
		}
		counts[day][name]++
	}
	switch {
	case !queue.Redriven(msg.Attributes):
		add(stats.Received)
		add(stats.Accepted)
		if deadLettered {
			add(stats.DeadLettered)
		}
	case !deadLettered:
		add(stats.Recovered)
	}
	return counts
}
