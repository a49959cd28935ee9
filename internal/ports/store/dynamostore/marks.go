package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetMark implements store.Store with a conditional write. A zero t is never
// later than what is stored (zero when nothing is), so it writes nothing.
func (s *Store) SetMark(ctx context.Context, name string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key("MARK#"+name, "MARK"),
		UpdateExpression:          aws.String("SET #at = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #at < :t"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(markTime(t))},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("set mark: %w", err)
	}
	return nil
}

// Mark implements store.Store.
func (s *Store) Mark(ctx context.Context, name string) (time.Time, error) {
	item, err := s.get(ctx, "MARK#"+name, "MARK")
	if err != nil {
		return time.Time{}, fmt.Errorf("read mark: %w", err)
	}
	if item == nil {
		return time.Time{}, nil
	}
	at, err := strconv.ParseInt(getStr(item, "at"), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read mark: %w", err)
	}
	return time.Unix(0, at).UTC(), nil
}

// markTime formats t as fixed-width unix nanoseconds, so that string order is
// time order. A string compares exactly everywhere; minidyn holds numbers
// as float64, which cannot tell apart times a few hundred nanoseconds apart.
func markTime(t time.Time) string { return fmt.Sprintf("%019d", t.UnixNano()) }
