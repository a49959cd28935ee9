package store

import (
	"context"
	"math/rand/v2"
	"time"

	"supportpipe/internal/support/conversation"
)

const (
	// MaxAttempts bounds the attempts of UpdateWithRetry, and a driver's
	// retries after transaction conflicts and unprocessed batch keys.
	MaxAttempts = 20
	minBackoff  = 5 * time.Millisecond
	maxBackoff  = 200 * time.Millisecond
)

// Pause sleeps before the retry of a failed attempt (counted from 0) a
// random time below an exponential bound (full jitter), so that writers
// that collided do not collide again. It returns early with ctx's error.
func Pause(ctx context.Context, attempt int) error {
	bound := min(minBackoff<<min(attempt, 16), maxBackoff)
	t := time.NewTimer(rand.N(bound) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Versioned is what UpdateWithRetry needs of a driver to update one
// conversation: a read, and a write conditional on the version read.
type Versioned struct {
	// Read returns the stored state, found false when there is none. A read
	// that need not be consistent may miss recent writes (it is cheaper); a
	// driver whose reads are all consistent ignores consistent.
	Read func(ctx context.Context, consistent bool) (st conversation.State, found bool, err error)
	// Write stores next if the stored state is still the one read: version
	// next.Version-1, or none when found is false. written is false when
	// another writer stored first.
	Write func(ctx context.Context, next conversation.State, found bool) (written bool, err error)
	// StaleFirst lets the first read be inconsistent. The conditional write
	// refuses a state read stale, and fn reporting no change on it is
	// confirmed on a consistent read before the caller sees it.
	StaleFirst bool
}

// UpdateWithRetry is UpdateConversation for every driver: it applies fn to
// a copy of the state read (zero State with Key k if none) and, if fn
// reports a change, writes it as the next version. A write refused after a
// consistent read means another writer won: it pauses and starts again, up
// to MaxAttempts, then returns ErrConflict. It returns the state as stored.
func UpdateWithRetry(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool, v Versioned) (conversation.State, error) {
	consistent := !v.StaleFirst
	for attempt := range MaxAttempts {
		cur, found, err := v.Read(ctx, consistent)
		if err != nil {
			return conversation.State{}, err
		}
		if !found {
			cur = conversation.State{Key: k}
		}
		next := cur.Clone()
		if !fn(&next) {
			if consistent {
				return cur, nil
			}
			consistent = true
			continue
		}
		next.Key = k
		next.Version = cur.Version + 1
		written, err := v.Write(ctx, next, found)
		if err != nil {
			return conversation.State{}, err
		}
		if written {
			return next, nil
		}
		// A stale read explains a refusal: read again at once, consistently.
		if consistent {
			if err := Pause(ctx, attempt); err != nil {
				return conversation.State{}, err
			}
		}
		consistent = true
	}
	return conversation.State{}, ErrConflict
}
