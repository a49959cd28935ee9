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

// A day's counters are kept in two items of its partition: the drafter's
// (names that begin with draftCounters: its latency histogram, tokens, skips
// by reason) in one of their own, the others in the day's COUNTERS item.
// DynamoDB bills a write by the KB of the larger of the item's images, and
// every processor batch and every drafter batch writes its day's counters:
// apart, each item stays within the one KB a write unit holds, where
// together they pass it on a busy day and double the price of every batch's
// counter write (docs/cost.md). Counters reads the partition: the items of
// a day written before the split, or by another layout, add up the same.
const (
	countersSK      = "COUNTERS"
	draftCountersSK = "COUNTERS#draft"
	draftCounters   = "draft" // the drafter's names (stats.DraftsMade, stats.Drafting, …)
)

func countersPK(day string) string { return "COUNTERS#" + day }

// counterItem is the sort key of the item that keeps the counter name.
func counterItem(name string) string {
	if strings.HasPrefix(name, draftCounters) {
		return draftCountersSK
	}
	return countersSK
}

// counterItems is how many counter items deltas write on each day.
func counterItems(counts map[string]map[string]int64) int {
	n := 0
	for _, deltas := range counts {
		items := map[string]bool{}
		for name, v := range deltas {
			if v != 0 {
				items[counterItem(name)] = true
			}
		}
		n += len(items)
	}
	return n
}

// counterUpdates add the non-zero deltas to the day's counter items, one
// update per item; none when there is nothing to add (an empty ADD is
// invalid).
func (s *Store) counterUpdates(day string, deltas map[string]int64) []*types.Update {
	type update struct {
		names  map[string]string
		values map[string]types.AttributeValue
		adds   []string
	}
	bySK := map[string]*update{}
	for i, name := range slices.Sorted(maps.Keys(deltas)) {
		if deltas[name] == 0 {
			continue
		}
		sk := counterItem(name)
		u := bySK[sk]
		if u == nil {
			u = &update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
			bySK[sk] = u
		}
		p := strconv.Itoa(i)
		u.names["#c"+p] = counterPrefix + name
		u.values[":c"+p] = num(deltas[name])
		u.adds = append(u.adds, "#c"+p+" :c"+p)
	}
	var out []*types.Update
	for _, sk := range slices.Sorted(maps.Keys(bySK)) {
		u := bySK[sk]
		out = append(out, &types.Update{
			TableName:                 &s.table,
			Key:                       key(countersPK(day), sk),
			UpdateExpression:          aws.String("ADD " + strings.Join(u.adds, ", ")),
			ExpressionAttributeNames:  u.names,
			ExpressionAttributeValues: u.values,
		})
	}
	return out
}

// AddCounters implements store.Store with one UpdateItem per counter item
// the deltas touch (one, unless they mix the drafter's counters with
// others), each retried while a concurrent Complete transaction holds it.
func (s *Store) AddCounters(ctx context.Context, day string, deltas map[string]int64) error {
	for _, u := range s.counterUpdates(day, deltas) {
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
	}
	return nil
}

// Counters implements store.Store with one query of the day's partition,
// summing its items.
func (s *Store) Counters(ctx context.Context, day string) (map[string]int64, error) {
	out := map[string]int64{}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(countersPK(day))},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		for _, item := range page.Items {
			for attr := range item {
				name, ok := strings.CutPrefix(attr, counterPrefix)
				if !ok {
					continue
				}
				v, err := getNum(item, attr)
				if err != nil {
					return nil, fmt.Errorf("read counters: %w", err)
				}
				out[name] += v
			}
		}
	}
	return out, nil
}
