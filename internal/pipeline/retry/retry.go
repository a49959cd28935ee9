// Package retry is the retry policy of the pipeline's queue consumers (the
// processor, the drafter): a failed message is tried again after a backoff,
// up to a number of attempts, then moved to its queue's DLQ with the reason.
// Attempts are counted in the store, not taken from the queue's receive
// count, so receives that never ran the consumer (throttling, a crash
// before work) do not burn attempts.
package retry

import (
	"context"
	"fmt"
	"time"

	"supportpipe/internal/ports/queue"
)

// Defaults: 3 attempts; a message waits 1 s after its first failure and 2 s
// after its second, and its third goes to the DLQ. The schedule goes on
// (4 s, then 4 s again) when MaxAttempts is raised.
var DefaultBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}

const DefaultMaxAttempts = 3

// AttemptsTTL is how long an attempt count is kept: beyond any redelivery.
const AttemptsTTL = 7 * 24 * time.Hour

// Attempts counts failed attempts (store.Store implements it).
type Attempts interface {
	RecordFailure(ctx context.Context, messageID, reason string, expiresAt time.Time) (int, error)
}

// Queue is the part of the queue port a retry drives.
type Queue interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error
	DeadLetter(ctx context.Context, m queue.Message, reason string, attempts int) error
}

// Policy applies the retry policy to the messages of one queue.
type Policy struct {
	Attempts    Attempts
	Queue       Queue
	MaxAttempts int             // DefaultMaxAttempts when 0
	Backoff     []time.Duration // DefaultBackoff when nil; the last repeats
}

// Verdict is what became of a failed message.
type Verdict struct {
	// Attempt is the number of the attempt that failed (1 for the first).
	Attempt int
	// DeadLettered says the message is now in the DLQ, and may be deleted.
	DeadLettered bool
	// Again says the attempts were spent before: a redelivery after a DLQ
	// move whose delete did not finish, counted when it first failed.
	Again bool
	// Backoff is how long the message stays hidden before its next
	// attempt; BackoffErr, why it was not applied (the queue's visibility
	// timeout then decides).
	Backoff    time.Duration
	BackoffErr error
}

// Fail records a failed attempt of msg and retries or dead-letters it. An
// error means neither could be done: the message is left to the queue's
// visibility timeout and redrive.
func (p Policy) Fail(ctx context.Context, msg queue.Message, reason string, now time.Time) (Verdict, error) {
	attempt, err := p.Attempts.RecordFailure(ctx, msg.ID, reason, now.Add(AttemptsTTL))
	if err != nil {
		return Verdict{}, fmt.Errorf("record failure: %w", err)
	}
	v := Verdict{Attempt: attempt}
	if attempt < p.maxAttempts() {
		v.Backoff = p.backoff(attempt)
		v.BackoffErr = p.Queue.ChangeVisibility(ctx, msg.ReceiptHandle, v.Backoff)
		return v, nil
	}
	if err := p.Queue.DeadLetter(ctx, msg, reason, attempt); err != nil {
		return v, fmt.Errorf("dead-letter: %w", err)
	}
	v.DeadLettered, v.Again = true, attempt > p.maxAttempts()
	return v, nil
}

func (p Policy) maxAttempts() int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (p Policy) backoff(attempt int) time.Duration {
	b := p.Backoff
	if b == nil {
		b = DefaultBackoff
	}
	return b[min(attempt, len(b))-1]
}
