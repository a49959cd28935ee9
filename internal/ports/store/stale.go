package store

import (
	"context"

	"supportpipe/internal/support/conversation"
)

// StaleActionReader is a store that can read an action at half the price
// when the read may miss a write of the last second (DynamoDB's eventually
// consistent read). Converge reads through it: what it would miss is a
// converging effect recorded an instant ago, which running again leaves as
// it was, as racing workers already do.
type StaleActionReader interface {
	ActionStale(ctx context.Context, k conversation.Key, id string) (a Action, ok bool, err error)
}
