package dynamostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
)

const (
	idemPrefix    = "IDEM#"
	batchGetLimit = 100
)

// Seen implements store.Store with eventually consistent batch reads, at
// half the price of consistent ones. Seen only spares work: Complete's
// conditional transaction decides what is a duplicate, and a record missed
// by a stale read (written under a second ago: a concurrent copy, which a
// consistent read can miss as well) costs a run of the idempotent stages.
func (s *Store) Seen(ctx context.Context, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	now := time.Now().UnixNano()
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(keys))), batchGetLimit) {
		ka := types.KeysAndAttributes{
			ProjectionExpression:     aws.String("#pk, #sk, #exp, #own"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK, "#exp": "exp", "#own": "owner"},
		}
		named := map[[2]string]string{} // table key → the key asked for
		for _, k := range chunk {
			pk, sk := idemKey(k)
			named[[2]string{pk, sk}] = k
			ka.Keys = append(ka.Keys, key(pk, sk))
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			// Unprocessed keys mean throttling: back off before asking again.
			if attempt == store.MaxAttempts {
				return nil, fmt.Errorf("read idempotency: keys still unprocessed after %d attempts", attempt)
			}
			if attempt > 0 {
				if err := store.Pause(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("read idempotency: %w", err)
			}
			for _, item := range res.Responses[s.table] {
				exp, err := getNum(item, "exp")
				if err != nil {
					return nil, fmt.Errorf("read idempotency: %w", err)
				}
				if exp > now {
					sk := cmp.Or(getStr(item, attrSK), "IDEM") // unprocessed keys retried as another projection asked
					out[named[[2]string{getStr(item, attrPK), sk}]] = getStr(item, "owner")
				}
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// maxTransactItems is DynamoDB's limit of items in one transaction.
const maxTransactItems = 100

// Complete implements store.Store with one transaction per up to 100 items:
// a conditional put per key and one ADD per day and counter item to the
// counters, summed over the completions, so a batch of events writes its
// counter item once. A key
// whose item exists but has expired counts as absent, as in Seen. When the
// transaction is cancelled by failed conditions, the completions they belong
// to are skipped and the rest written again.
func (s *Store) Complete(ctx context.Context, cs ...store.Completion) error {
	var skipped []int
	// One transaction may not write an item twice: a completion naming a key
	// of an earlier one in the call is its duplicate.
	named := map[string]bool{}
	var chunk []int
	size := 0
	flush := func() error {
		dups, err := s.complete(ctx, cs, chunk)
		skipped = append(skipped, dups...)
		chunk, size = nil, 0
		return err
	}
	for i, c := range cs {
		keys := slices.Compact(slices.Sorted(slices.Values(c.Keys)))
		if slices.ContainsFunc(keys, func(k string) bool { return named[k] }) {
			skipped = append(skipped, i)
			continue
		}
		for _, k := range keys {
			named[k] = true
		}
		// Each completion may add counter updates of its own.
		n := len(keys) + counterItems(c.Counts)
		if size+n > maxTransactItems && len(chunk) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, i)
		size += n
	}
	if len(chunk) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	slices.Sort(skipped)
	// After the transaction, so that the time line costs the batch one
	// write; the entries of a conversation's completions are already on
	// their records.
	logErr := s.logCompleted(ctx, cs, skipped)
	switch {
	case skipped == nil:
		return logErr
	case logErr != nil:
		return errors.Join(&store.SkippedError{Index: skipped}, logErr)
	}
	return &store.SkippedError{Index: skipped}
}

// complete writes the completions at the positions in idx in one transaction
// and returns the positions it skipped as duplicates.
func (s *Store) complete(ctx context.Context, cs []store.Completion, idx []int) (skipped []int, err error) {
	for attempt := 0; len(idx) > 0; attempt++ {
		now := time.Now()
		var items []types.TransactWriteItem
		var owner []int // position in cs of each item's completion; -1 for counters
		days := map[string]map[string]int64{}
		for _, i := range idx {
			c := cs[i]
			carries := carrier(c)
			for _, k := range slices.Compact(slices.Sorted(slices.Values(c.Keys))) {
				pk, sk := idemKey(k)
				item := map[string]types.AttributeValue{
					attrPK:  str(pk),
					attrSK:  str(sk),
					"exp":   num(c.ExpiresAt.UnixNano()),
					attrTTL: num(ttl(c.ExpiresAt)),
				}
				if c.Owner != "" {
					item["owner"] = str(c.Owner)
				}
				if k == carries {
					// The conversation's log reads the entry here: no write of its own.
					item[attrEntries] = &types.AttributeValueMemberB{Value: encodeEntries([]store.Delivery{*c.Delivery})}
				}
				items = append(items, types.TransactWriteItem{Put: &types.Put{
					TableName:                 &s.table,
					Item:                      item,
					ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
					ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#exp": "exp"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixNano())},
				}})
				owner = append(owner, i)
			}
			for day, deltas := range c.Counts {
				if days[day] == nil {
					days[day] = map[string]int64{}
				}
				for name, v := range deltas {
					days[day][name] += v
				}
			}
		}
		for _, day := range slices.Sorted(maps.Keys(days)) {
			for _, u := range s.counterUpdates(day, days[day]) {
				items = append(items, types.TransactWriteItem{Update: u})
				owner = append(owner, -1)
			}
		}
		if len(items) == 0 {
			return skipped, nil
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return skipped, nil
		}
		tce, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			if conflicted(err) && attempt < store.MaxAttempts-1 {
				if err := store.Pause(ctx, attempt); err != nil {
					return skipped, err
				}
				continue
			}
			return skipped, fmt.Errorf("complete: %w", err)
		}
		failed := map[int]bool{}
		for j, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" && j < len(owner) && owner[j] >= 0 {
				failed[owner[j]] = true
			}
		}
		switch {
		case len(failed) > 0:
			idx = slices.DeleteFunc(idx, func(i int) bool { return failed[i] })
			skipped = append(skipped, slices.Sorted(maps.Keys(failed))...)
		case hasReason(tce, "TransactionConflict") && attempt < store.MaxAttempts-1:
			if err := store.Pause(ctx, attempt); err != nil {
				return skipped, err
			}
		default:
			return skipped, fmt.Errorf("complete: %w", err)
		}
	}
	return skipped, nil
}
