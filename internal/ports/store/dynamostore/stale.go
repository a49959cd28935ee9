package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

var _ store.StaleActionReader = (*Store)(nil)

// ActionStale implements store.StaleActionReader with an eventually
// consistent read, half a consistent one's price.
func (s *Store) ActionStale(ctx context.Context, k conversation.Key, id string) (store.Action, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(convPK(k), actionPrefix+id),
		ConsistentRead: aws.Bool(false)})
	if err != nil {
		return store.Action{}, false, fmt.Errorf("read action: %w", err)
	}
	if out.Item == nil {
		return store.Action{}, false, nil
	}
	a, err := decodeAction(k, out.Item)
	return a, err == nil, err
}
