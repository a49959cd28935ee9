package dynamostore

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
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

// retryConflicts runs op until it does not conflict, up to
// store.MaxAttempts times.
func retryConflicts(ctx context.Context, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if !conflicted(err) || attempt == store.MaxAttempts-1 {
			return err
		}
		if err := store.Pause(ctx, attempt); err != nil {
			return err
		}
	}
}
