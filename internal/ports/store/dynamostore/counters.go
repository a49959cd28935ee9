package dynamostore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// counterPrefix keeps counter names apart from the item's key and TTL
// attributes: a counter called "ttl" must not expire the day's counters.
const counterPrefix = "c."

// RecordFailure implements store.Store with an atomic ADD.
func (s *Store) RecordFailure(ctx context.Context, messageID, reason string, expiresAt time.Time) (int, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key("ATTEMPT#"+messageID, "ATTEMPT"),
		UpdateExpression:         aws.String("ADD #a :one SET #r = :r, #exp = :exp, #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#a": "attempts", "#r": "reason", "#exp": "exp", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":r": str(reason), ":exp": num(expiresAt.UnixNano()), ":ttl": num(ttl(expiresAt)),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("record failure: %w", err)
	}
	attempts, err := getNum(out.Attributes, "attempts")
	if err != nil {
		return 0, fmt.Errorf("record failure: %w", err)
	}
	return int(attempts), nil
}

func countersKey(day string) map[string]types.AttributeValue {
	return key("COUNTERS#"+day, "COUNTERS")
}

// counterUpdate adds the non-zero deltas to the day's counter item, or is
// nil when there are none (an empty ADD is invalid).
func (s *Store) counterUpdate(day string, deltas map[string]int64) *types.Update {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var adds []string
	for i, name := range slices.Sorted(maps.Keys(deltas)) {
		if deltas[name] == 0 {
			continue
		}
		p := strconv.Itoa(i)
		names["#c"+p] = counterPrefix + name
		values[":c"+p] = num(deltas[name])
		adds = append(adds, "#c"+p+" :c"+p)
	}
	if len(adds) == 0 {
		return nil
	}
	return &types.Update{
		TableName:                 &s.table,
		Key:                       countersKey(day),
		UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// AddCounters implements store.Store with one UpdateItem, retried while a
// concurrent Complete transaction holds the counter item.
func (s *Store) AddCounters(ctx context.Context, day string, deltas map[string]int64) error {
	u := s.counterUpdate(day, deltas)
	if u == nil {
		return nil
	}
	err := retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 u.TableName,
			Key:                       u.Key,
			UpdateExpression:          u.UpdateExpression,
			ExpressionAttributeNames:  u.ExpressionAttributeNames,
			ExpressionAttributeValues: u.ExpressionAttributeValues,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("add counters: %w", err)
	}
	return nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, day string) (map[string]int64, error) {
	item, err := s.get(ctx, "COUNTERS#"+day, "COUNTERS")
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	out := map[string]int64{}
	for attr := range item {
		name, ok := strings.CutPrefix(attr, counterPrefix)
		if !ok {
			continue
		}
		v, err := getNum(item, attr)
		if err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		out[name] = v
	}
	return out, nil
}
