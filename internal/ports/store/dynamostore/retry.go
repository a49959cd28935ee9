package dynamostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// maxAttempts bounds the optimistic retries of UpdateConversation and the
	// retries after transaction conflicts and unprocessed batch keys.
	maxAttempts = 20
	minBackoff  = 5 * time.Millisecond
	maxBackoff  = 200 * time.Millisecond
)

// conditionFailed reports a failed condition, alone or inside a cancelled
// transaction.
func conditionFailed(err error) bool {
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return true
	}
	tce, ok := errors.AsType[*types.TransactionCanceledException](err)
	return ok && hasReason(tce, "ConditionalCheckFailed")
}

// conflicted reports a write that lost to a concurrent transaction on one of
// its items; DynamoDB asks the caller to try again, and the SDK does not.
func conflicted(err error) bool {
	if _, ok := errors.AsType[*types.TransactionConflictException](err); ok {
		return true
	}
	tce, ok := errors.AsType[*types.TransactionCanceledException](err)
	return ok && hasReason(tce, "TransactionConflict") && !hasReason(tce, "ConditionalCheckFailed")
}

func hasReason(tce *types.TransactionCanceledException, code string) bool {
	return slices.ContainsFunc(tce.CancellationReasons, func(r types.CancellationReason) bool {
		return aws.ToString(r.Code) == code
	})
}

// retryConflicts runs op until it does not conflict, up to maxAttempts times.
func retryConflicts(ctx context.Context, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if !conflicted(err) || attempt == maxAttempts-1 {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// pause sleeps a random time below an exponential bound (full jitter), so
// that writers that collided do not collide again.
func pause(ctx context.Context, attempt int) error {
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
