// Package processor turns queued Chatwoot events into stored state. It is the
// SQS-triggered function's logic: per record it deduplicates, decodes, merges
// conversation state, runs the support stages and counts, and it owns the retry
// policy (3 attempts with 1 s/2 s/4 s backoff, then the DLQ).
package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/conversation"
	"supportpipe/internal/queue"
	"supportpipe/internal/stats"
	"supportpipe/internal/store"
)

// Defaults of the retry policy.
var (
	DefaultBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}
)

const (
	// DefaultMaxAttempts is how many times the processor runs a message
	// before it goes to the DLQ.
	DefaultMaxAttempts = 3
	// idempotencyTTL outlives any redelivery or Chatwoot re-emission.
	idempotencyTTL = 7 * 24 * time.Hour
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

	// Filled by the triage stages for the ones after them.
	Customer bool     // a public message the customer wrote
	Tags     []string // tags of the message text
	Anger    float64  // anger score of the message text
	VIP      bool

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

// Metrics receives per-message measurements (EMF on Lambda).
type Metrics interface {
	Message(outcome string, d time.Duration)
}

// Processor handles SQS batches.
type Processor struct {
	Store       store.Store
	Queue       Queue
	Stages      []Stage
	Log         *slog.Logger
	Now         func() time.Time
	Metrics     Metrics // optional
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

// Handle processes a batch and reports the records to retry.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	conc := max(p.Concurrency, 1)
	if conc == 1 || len(ev.Records) == 1 {
		for _, rec := range ev.Records {
			if !p.record(ctx, rec) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			}
		}
		return resp, nil
	}
	var mu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		sem <- struct{}{}
		wg.Add(1)
		go func(rec events.SQSMessage) {
			defer func() { <-sem; wg.Done() }()
			if !p.record(ctx, rec) {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}(rec)
	}
	wg.Wait()
	return resp, nil
}

// record processes one message and reports whether it may be deleted.
func (p *Processor) record(ctx context.Context, rec events.SQSMessage) (done bool) {
	start := time.Now()
	msg := toMessage(rec)
	ev, outcome, err := p.process(ctx, msg, start)
	elapsed := time.Since(start)
	// The ids logger is built only when something will be logged: on the
	// happy path it would cost more than the rest of the bookkeeping.
	logger := func() *slog.Logger {
		log := p.Log.With(slog.String("message_id", msg.ID), slog.String("delivery_id", msg.Attributes[queue.AttrDelivery]))
		if ev != nil && ev.Payload != nil {
			log = log.With(slog.String("event", ev.Payload.Event), slog.Int64("conversation_id", ev.Payload.ConversationID()))
		}
		return log
	}
	if err == nil {
		if elapsed > slowThreshold {
			logger().LogAttrs(ctx, slog.LevelWarn, "slow message", slog.Duration("elapsed", elapsed))
		} else if p.Log.Enabled(ctx, slog.LevelDebug) {
			logger().LogAttrs(ctx, slog.LevelDebug, "message done", slog.String("outcome", outcome), slog.Duration("elapsed", elapsed))
		}
		p.observe(outcome, elapsed)
		return true
	}
	outcome, ok := p.fail(ctx, msg, err, logger())
	p.observe(outcome, elapsed)
	return ok
}

func (p *Processor) observe(outcome string, d time.Duration) {
	if p.Metrics != nil {
		p.Metrics.Message(outcome, d)
	}
}

// fail applies the retry policy. Attempts are counted in the store, not taken
// from the queue's receive count, so receives that never ran the processor
// (throttling, crashes before work) do not burn attempts.
func (p *Processor) fail(ctx context.Context, msg queue.Message, cause error, log *slog.Logger) (string, bool) {
	now := p.Now()
	day := stats.Day(now)
	reason := cause.Error()
	attempt, err := p.Store.RecordFailure(ctx, msg.ID, reason, now.Add(idempotencyTTL))
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "cannot record failure; leaving message to the queue's redrive",
			slog.String("error", err.Error()), slog.String("cause", reason))
		return OutcomeRetry, false
	}
	maxAttempts := p.maxAttempts()
	counters := map[string]int64{stats.Failed: 1}
	if attempt < maxAttempts {
		counters[stats.Retried] = 1
		p.addCounters(ctx, day, counters, log)
		backoff := p.backoff(attempt)
		if err := p.Queue.ChangeVisibility(ctx, msg.ReceiptHandle, backoff); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "backoff not applied", slog.String("error", err.Error()))
		}
		log.LogAttrs(ctx, slog.LevelWarn, "processing failed; will retry", slog.Int("attempt", attempt),
			slog.Duration("backoff", backoff), slog.String("error", reason))
		return OutcomeRetry, false
	}
	if attempt == maxAttempts {
		counters[stats.DeadLettered] = 1
	} else {
		// A redelivery after a DLQ move that did not finish; counted already.
		delete(counters, stats.Failed)
	}
	if err := p.Queue.DeadLetter(ctx, msg, reason, attempt); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "dead-letter failed", slog.String("error", err.Error()))
		return OutcomeRetry, false
	}
	p.addCounters(ctx, day, counters, log)
	log.LogAttrs(ctx, slog.LevelError, "message dead-lettered", slog.Int("attempts", attempt), slog.String("error", reason))
	return OutcomeDeadLettered, true
}

func (p *Processor) addCounters(ctx context.Context, day string, c map[string]int64, log *slog.Logger) {
	if err := p.Store.AddCounters(ctx, day, c); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "counters not written", slog.String("error", err.Error()))
	}
}

func (p *Processor) maxAttempts() int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (p *Processor) backoff(attempt int) time.Duration {
	b := p.Backoff
	if b == nil {
		b = DefaultBackoff
	}
	if attempt-1 < len(b) {
		return b[attempt-1]
	}
	return b[len(b)-1]
}

// errDecode marks payloads that cannot be decoded. They still get their
// attempts: a decoder fix deployed meanwhile should be able to save them.
var errDecode = errors.New("decode")

func (p *Processor) process(ctx context.Context, msg queue.Message, start time.Time) (*Event, string, error) {
	payload, err := chatwoot.Decode(msg.Body)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", errDecode, err)
	}
	ev := &Event{
		MessageID:  msg.ID,
		DeliveryID: msg.Attributes[queue.AttrDelivery],
		Payload:    payload,
		Backfilled: msg.Attributes[queue.AttrBackfilled] == "true",
	}
	ev.AccountID, _ = strconv.ParseInt(msg.Attributes[queue.AttrAccount], 10, 64)
	if ev.AccountID == 0 {
		ev.AccountID = payload.AccountID()
	}
	ev.ReceivedAt, _ = time.Parse(time.RFC3339Nano, msg.Attributes[queue.AttrReceivedAt])

	messageKey := "msg:" + msg.ID
	keys := []string{messageKey, "content:" + payload.ContentKey(ev.AccountID, msg.Body)}
	if ev.DeliveryID != "" {
		keys = append(keys, "delivery:"+ev.DeliveryID)
	}
	// One read for all keys: the message's own key means it completed before
	// and only its delete was lost; any other key means a duplicate.
	seen, err := p.Store.Seen(ctx, keys...)
	if err != nil {
		return ev, "", fmt.Errorf("idempotency read: %w", err)
	}
	if seen[messageKey] {
		return ev, OutcomeRedelivered, nil
	}
	if len(seen) > 0 {
		return ev, OutcomeDuplicate, p.completeDuplicate(ctx, messageKey)
	}

	if obs, ok := conversation.Observe(payload, ev.AccountID); ok {
		var prev conversation.State
		st, err := p.Store.UpdateConversation(ctx, obs.Key, func(s *conversation.State) bool {
			prev = s.Clone()
			return s.Apply(obs, p.CountBots)
		})
		if err != nil {
			return ev, "", fmt.Errorf("update conversation: %w", err)
		}
		ev.Conversation, ev.Previous = &st, &prev
	}
	for _, s := range p.Stages {
		if err := s.Run(ctx, ev); err != nil {
			return ev, "", fmt.Errorf("stage %s: %w", s.Name(), err)
		}
	}

	now := p.Now()
	elapsed := time.Since(start)
	counters := map[string]int64{stats.Processed: 1, stats.BucketCounter(elapsed): 1}
	for k, v := range ev.counters {
		counters[k] += v
	}
	if elapsed > slowThreshold {
		counters[stats.SlowMessages] = 1
	}
	err = p.Store.Complete(ctx, store.Completion{Keys: keys, ExpiresAt: now.Add(idempotencyTTL), Day: stats.Day(now), Counters: counters})
	if errors.Is(err, store.ErrDuplicate) {
		// A copy of this event completed concurrently. Our effects were
		// idempotent, so only the accounting differs: count a duplicate.
		return ev, OutcomeDuplicate, p.completeDuplicate(ctx, messageKey)
	}
	if err != nil {
		return ev, "", fmt.Errorf("complete: %w", err)
	}
	return ev, OutcomeProcessed, nil
}

func (p *Processor) completeDuplicate(ctx context.Context, messageKey string) error {
	now := p.Now()
	err := p.Store.Complete(ctx, store.Completion{Keys: []string{messageKey}, ExpiresAt: now.Add(idempotencyTTL),
		Day: stats.Day(now), Counters: map[string]int64{stats.Duplicates: 1}})
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	return err
}

func toMessage(rec events.SQSMessage) queue.Message {
	m := queue.Message{ID: rec.MessageId, ReceiptHandle: rec.ReceiptHandle, Body: []byte(rec.Body), Attributes: map[string]string{}}
	for k, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			m.Attributes[k] = *v.StringValue
		}
	}
	if n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"]); err == nil {
		m.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil {
		m.SentAt = time.UnixMilli(ms).UTC()
	}
	return m
}

// Record builds the SQS record for a received queue message; the local
// processor loop uses it to call Handle exactly as the Lambda event source would.
func Record(m queue.Message) events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(m.Attributes))
	for k, v := range m.Attributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{
		MessageId:     m.ID,
		ReceiptHandle: m.ReceiptHandle,
		Body:          string(m.Body),
		Attributes: map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
			"SentTimestamp":           strconv.FormatInt(m.SentAt.UnixMilli(), 10),
		},
		MessageAttributes: attrs,
		EventSource:       "aws:sqs",
	}
}
