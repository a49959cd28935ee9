package dynamostore

import (
	"context"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/support/conversation"
)

// WaitingForFirstResponse implements store.Store with a query on the sparse
// index. Index reads are eventually consistent: a conversation answered a
// moment ago can still be listed, so callers re-read before acting.
func (s *Store) WaitingForFirstResponse(ctx context.Context, limit int) ([]conversation.State, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []conversation.State
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexGSI),
		KeyConditionExpression:    aws.String("#gpk = :w"),
		ExpressionAttributeNames:  map[string]string{"#gpk": attrGSIPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": str(waitingKey)},
		ScanIndexForward:          aws.Bool(true),
		Limit:                     aws.Int32(int32(min(limit, math.MaxInt32))),
	})
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query waiting: %w", err)
		}
		for _, item := range page.Items {
			st, err := decodeState(item)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out[:min(limit, len(out))], nil
}
