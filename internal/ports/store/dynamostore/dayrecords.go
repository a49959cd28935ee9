package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
)

func dayPK(day, kind string) string { return "DAY#" + day + "#" + kind }

// AddDayRecord implements store.Store; a put replaces the item unless the
// stored one has a greater version.
func (s *Store) AddDayRecord(ctx context.Context, r store.DayRecord) error {
	item := map[string]types.AttributeValue{attrPK: str(dayPK(r.Day, r.Kind)), attrSK: str(r.ID)}
	if r.Data != "" {
		item["data"] = str(r.Data)
	}
	if !r.At.IsZero() {
		item["at"] = num(r.At.UnixNano())
	}
	if r.Version != 0 {
		item["v"] = num(r.Version)
	}
	// An older version is refused by the condition, and left alone: the
	// stored record is the newer.
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(#v) OR #v <= :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "v"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(r.Version)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("add day record: %w", err)
	}
	return nil
}

// DayRecords implements store.Store with a query on the (day, kind)
// partition, in sort key order.
func (s *Store) DayRecords(ctx context.Context, day, kind string, limit int) ([]store.DayRecord, error) {
	return firstItems(ctx, s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(dayPK(day, kind))},
		ScanIndexForward:          aws.Bool(true),
	}, limit, "day records", func(item map[string]types.AttributeValue) (store.DayRecord, error) {
		r := store.DayRecord{Day: day, Kind: kind, ID: getStr(item, attrSK), Data: getStr(item, "data")}
		if _, ok := item["at"]; ok {
			at, err := getNum(item, "at")
			if err != nil {
				return store.DayRecord{}, fmt.Errorf("decode day record: %w", err)
			}
			r.At = time.Unix(0, at).UTC()
		}
		if _, ok := item["v"]; ok {
			v, err := getNum(item, "v")
			if err != nil {
				return store.DayRecord{}, fmt.Errorf("decode day record: %w", err)
			}
			r.Version = v
		}
		return r, nil
	})
}
