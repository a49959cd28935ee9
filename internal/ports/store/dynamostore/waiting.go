package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/support/conversation"
)

// WaitingForFirstResponse implements store.Store with a query on the sparse
// index. Index reads are eventually consistent: a conversation answered a
// moment ago can still be listed, so callers re-read before acting.
func (s *Store) WaitingForFirstResponse(ctx context.Context, limit int) ([]conversation.State, error) {
	return firstItems(ctx, s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexGSI),
		KeyConditionExpression:    aws.String("#gpk = :w"),
		ExpressionAttributeNames:  map[string]string{"#gpk": attrGSIPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": str(waitingKey)},
		ScanIndexForward:          aws.Bool(true),
	}, limit, "waiting", decodeState)
}
