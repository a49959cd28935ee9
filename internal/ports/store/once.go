package store

import (
	"context"
	"fmt"
	"time"
)

// Lease is how long a pending claim belongs to the worker that made it. It
// must exceed the longest effect (a Chatwoot call with its retries, ~40 s)
// and stay below the queue's visibility timeout, so that the redelivery of a
// message whose worker crashed finds the lease expired and takes over. A
// note that keeps failing ambiguously also looks for itself between its
// attempts, which in a Chatwoot outage can outlast the lease; whoever takes
// it over then looks for the note before posting it (Resumed).
const Lease = 60 * time.Second

// Once performs an effect once per (conversation, a.ID) in effect. It claims
// the action (a.At is the claim time), runs fn and records the outcome:
//   - done or dropped: later calls skip it;
//   - failed: the next call takes it over (ClaimAction) and runs fn again
//     (the message is being retried, or another one needs the effect);
//   - pending, claimed by a.Owner: this owner's earlier attempt crashed
//     (a redelivered message), run fn again;
//   - pending, another owner, younger than Lease: that worker is on it, skip;
//   - pending, another owner, older than Lease: its worker died, take it
//     over and run fn again.
//
// Of callers racing on one action, only the one whose claim the store
// accepted runs fn. When fn runs again after an earlier run, its ctx says
// so (Resumed): the earlier run may have taken effect without being
// recorded, so an effect that must not happen twice (a note) looks for it
// first. Effects that converge (label merges, priority) just repeat.
func Once(ctx context.Context, s Store, a Action, fn func(ctx context.Context) (result string, err error)) (ran bool, err error) {
	claimed, existing, err := s.ClaimAction(ctx, a)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", a.ID, err)
	}
	// A record the store did not hand over is run only by its own owner,
	// resuming a claim its crash left pending; anything else is done,
	// dropped, or another worker's.
	if !claimed && !(existing.Status == ActionPending && existing.Owner == a.Owner) {
		return false, nil
	}
	if existing.Status != "" {
		ctx = context.WithValue(ctx, resumedKey{}, true)
	}
	result, err := fn(ctx)
	if err != nil {
		if ferr := s.FinishAction(ctx, a.Key, a.ID, ActionFailed, err.Error()); ferr != nil {
			return true, fmt.Errorf("%s: %w (and recording the failure: %v)", a.ID, err, ferr)
		}
		return true, fmt.Errorf("%s: %w", a.ID, err)
	}
	if err := s.FinishAction(ctx, a.Key, a.ID, ActionDone, result); err != nil {
		return true, fmt.Errorf("finish %s: %w", a.ID, err)
	}
	return true, nil
}

type resumedKey struct{}

// Resumed reports whether ctx is that of an effect Once runs again after an
// earlier run that may have taken effect without it being recorded: one
// that failed (a timeout or a 5xx can hide a success) or whose worker
// stopped before recording. rest's PrivateNote then looks for the note
// before posting it.
func Resumed(ctx context.Context) bool {
	v, _ := ctx.Value(resumedKey{}).(bool)
	return v
}

// Converge performs an effect that converges, one that applied twice leaves
// what applying it once leaves (a label merge), unless it is recorded done
// for (conversation, a.ID): it reads the record, runs fn and records it done.
// That is one write where Once takes two (claim, finish); the price is that
// workers racing on the same action, or one crashing after fn, run it again,
// which a converging effect tolerates. A failed fn records nothing: the
// message's retry runs it again. The read may be stale (StaleActionReader):
// missing a record of the last second is one more way to race.
func Converge(ctx context.Context, s Store, a Action, fn func(ctx context.Context) (result string, err error)) (ran bool, err error) {
	read := s.Action
	if r, stale := s.(StaleActionReader); stale {
		read = r.ActionStale
	}
	existing, ok, err := read(ctx, a.Key, a.ID)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", a.ID, err)
	}
	if ok && existing.Status == ActionDone {
		return false, nil
	}
	result, err := fn(ctx)
	if err != nil {
		return true, fmt.Errorf("%s: %w", a.ID, err)
	}
	a.Status, a.Result = ActionDone, result
	if err := s.RecordAction(ctx, a); err != nil {
		return true, fmt.Errorf("record %s: %w", a.ID, err)
	}
	return true, nil
}
