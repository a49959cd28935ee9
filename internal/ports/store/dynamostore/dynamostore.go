// Package dynamostore implements store.Store on a single DynamoDB table.
//
// The table has a string partition key pk and sort key sk, one global
// secondary index gsi1 (gsi1pk, gsi1sk; all attributes projected) and TTL on
// the number attribute ttl (epoch seconds). Items:
//
//	pk                  sk             attributes
//	CONV#<acct>#<id>    STATE          version, state (JSON); gsi1pk, gsi1sk while a customer waits
//	CONV#<acct>#<id>    ACTIONS        seq: the conversation's claim counter
//	CONV#<acct>#<id>    ACTION#<id>    seq, kind, status, owner, detail, result, at, updated
//	IDEM#<key>          IDEM           exp, ttl
//	ATTEMPT#<msg id>    ATTEMPT        attempts, reason, exp, ttl
//	COUNTERS#<day>      COUNTERS       c.<name> per counter
//	DAY#<day>#<kind>    <id>           data, at
//	MARK#<name>         MARK           at (string, see markTime)
//
// Times are unix nanoseconds. TTL deletion runs up to days late, so reads
// compare the exact exp attribute and treat expired items as absent.
package dynamostore

import (
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// Attribute names of the table schema.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSIPK  = "gsi1pk"
	attrGSISK  = "gsi1sk"
	attrTTL    = "ttl"
	indexGSI   = "gsi1"
	waitingKey = "WAITING" // gsi1pk of conversations waiting for a first response
)

const (
	// maxAttempts bounds the optimistic retries of UpdateConversation and the
	// retries after transaction conflicts and unprocessed batch keys.
	maxAttempts = 20
	minBackoff  = 5 * time.Millisecond
	maxBackoff  = 200 * time.Millisecond
	// counterPrefix keeps counter names apart from the item's key and TTL
	// attributes: a counter called "ttl" must not expire the day's counters.
	counterPrefix = "c."
	batchGetLimit = 100
)

// Store is the DynamoDB store.
type Store struct {
	db    *dynamodb.Client
	table string
}

var _ store.Store = (*Store)(nil)

// New returns a store on the named table, which must have the schema
// CreateTable makes.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table}
}

// CreateTable creates the table with the store's schema, for tests and local
// runs; the deployed table is made by the CDK stack. It neither waits for the
// table to become active (minidyn never reports a status) nor enables TTL on
// ttl (no local fake implements UpdateTimeToLive).
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr(attrPK), attr(attrSK), attr(attrGSIPK), attr(attrGSISK)},
		KeySchema:            keys(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(indexGSI),
			KeySchema:  keys(attrGSIPK, attrGSISK),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// Close implements store.Store; the client holds nothing to release.
func (s *Store) Close() error { return nil }

// Ping reads one item by key.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.get(ctx, "PING", "PING"); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

func convPK(k conversation.Key) string {
	return "CONV#" + strconv.FormatInt(k.AccountID, 10) + "#" + strconv.FormatInt(k.ConversationID, 10)
}

// Conversation implements store.Store.
func (s *Store) Conversation(ctx context.Context, k conversation.Key) (conversation.State, bool, error) {
	return s.conversation(ctx, k, true)
}

func (s *Store) conversation(ctx context.Context, k conversation.Key, consistent bool) (conversation.State, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(convPK(k), "STATE"), ConsistentRead: aws.Bool(consistent)})
	var item map[string]types.AttributeValue
	if err == nil {
		item = out.Item
	}
	if err != nil {
		return conversation.State{}, false, fmt.Errorf("read conversation: %w", err)
	}
	if item == nil {
		return conversation.State{}, false, nil
	}
	st, err := decodeState(item)
	if err != nil {
		return conversation.State{}, false, err
	}
	return st, true, nil
}

// The state is stored deflated ("statez"): a write costs one unit per KB,
// and the JSON of a conversation with its messages compresses about 4:1.
// Items written before that hold it as JSON text ("state").
func encodeState(st conversation.State) (types.AttributeValue, error) {
	blob, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	if _, err := w.Write(blob); err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	return &types.AttributeValueMemberB{Value: buf.Bytes()}, nil
}

func decodeState(item map[string]types.AttributeValue) (conversation.State, error) {
	var st conversation.State
	blob := []byte(getStr(item, "state"))
	if z, ok := item["statez"].(*types.AttributeValueMemberB); ok {
		var err error
		if blob, err = io.ReadAll(flate.NewReader(bytes.NewReader(z.Value))); err != nil {
			return conversation.State{}, fmt.Errorf("decode conversation: %w", err)
		}
	}
	if err := json.Unmarshal(blob, &st); err != nil {
		return conversation.State{}, fmt.Errorf("decode conversation: %w", err)
	}
	v, err := getNum(item, "version")
	if err != nil {
		return conversation.State{}, fmt.Errorf("decode conversation: %w", err)
	}
	st.Version = v
	return st, nil
}

// UpdateConversation implements store.Store with a put conditional on the
// version read, retried after a short random pause when another writer won.
func (s *Store) UpdateConversation(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool) (conversation.State, error) {
	// The first read is eventually consistent, at half the price: the
	// conditional write below refuses a state read stale, and a merge that
	// would change nothing is confirmed on a consistent read before the
	// caller sees it. Later attempts read consistently.
	consistent := false
	for attempt := range maxAttempts {
		cur, found, err := s.conversation(ctx, k, consistent)
		if err != nil {
			return conversation.State{}, err
		}
		if !found {
			cur = conversation.State{Key: k}
		}
		next := cur.Clone()
		if !fn(&next) {
			if consistent {
				return cur, nil
			}
			consistent = true
			continue
		}
		next.Key = k
		next.Version = cur.Version + 1
		state, err := encodeState(next)
		if err != nil {
			return conversation.State{}, err
		}
		// A put replaces the whole item, so the sparse index keys are present
		// exactly while a customer waits, ordered by State.WaitingSince.
		item := map[string]types.AttributeValue{
			attrPK:    str(convPK(k)),
			attrSK:    str("STATE"),
			"version": num(next.Version),
			"statez":  state,
		}
		if w := next.WaitingSince(); !w.IsZero() {
			item[attrGSIPK] = str(waitingKey)
			item[attrGSISK] = str(fmt.Sprintf("%019d#%d#%d", w.UnixNano(), k.AccountID, k.ConversationID))
		}
		in := &dynamodb.PutItemInput{
			TableName:                &s.table,
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#v)"),
			ExpressionAttributeNames: map[string]string{"#v": "version"},
		}
		if found {
			in.ConditionExpression = aws.String("#v = :cur")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":cur": num(cur.Version)}
		}
		_, err = s.db.PutItem(ctx, in)
		if err == nil {
			return next, nil
		}
		if !conditionFailed(err) {
			return conversation.State{}, fmt.Errorf("write conversation: %w", err)
		}
		if consistent {
			if err := pause(ctx, attempt); err != nil {
				return conversation.State{}, err
			}
		}
		consistent = true
	}
	return conversation.State{}, store.ErrConflict
}

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

const idemPrefix = "IDEM#"

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
			ProjectionExpression:     aws.String("#pk, #exp, #own"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#exp": "exp", "#own": "owner"},
		}
		for _, k := range chunk {
			ka.Keys = append(ka.Keys, key(idemPrefix+k, "IDEM"))
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			// Unprocessed keys mean throttling: back off before asking again.
			if attempt == maxAttempts {
				return nil, fmt.Errorf("read idempotency: keys still unprocessed after %d attempts", attempt)
			}
			if attempt > 0 {
				if err := pause(ctx, attempt); err != nil {
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
					out[strings.TrimPrefix(getStr(item, attrPK), idemPrefix)] = getStr(item, "owner")
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
// a conditional put per key and one ADD per day to the counters, summed over
// the completions, so a batch of events writes the counter item once. A key
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
		// Each completion may add a counter update per day of its own.
		n := len(keys) + len(c.Counts)
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
	if skipped != nil {
		slices.Sort(skipped)
		return &store.SkippedError{Index: skipped}
	}
	return nil
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
			for _, k := range slices.Compact(slices.Sorted(slices.Values(c.Keys))) {
				item := map[string]types.AttributeValue{
					attrPK:  str(idemPrefix + k),
					attrSK:  str("IDEM"),
					"exp":   num(c.ExpiresAt.UnixNano()),
					attrTTL: num(ttl(c.ExpiresAt)),
				}
				if c.Owner != "" {
					item["owner"] = str(c.Owner)
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
			if u := s.counterUpdate(day, days[day]); u != nil {
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
			if conflicted(err) && attempt < maxAttempts-1 {
				if err := pause(ctx, attempt); err != nil {
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
		case hasReason(tce, "TransactionConflict") && attempt < maxAttempts-1:
			if err := pause(ctx, attempt); err != nil {
				return skipped, err
			}
		default:
			return skipped, fmt.Errorf("complete: %w", err)
		}
	}
	return skipped, nil
}

// ttl is the expiry in epoch seconds, rounded up so that DynamoDB never
// deletes an item before its exact expiry.
func ttl(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

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

const actionPrefix = "ACTION#"

// ClaimAction implements store.Store. The store sets Status to pending,
// clears Result, and fills At with its clock when a.At is zero. Claim order
// is the store's clock at the claim ("seq"), not a.At, which callers set
// and may repeat; a per-conversation counter would be exact across writers
// whose clocks disagree, but would cost a second write per claim.
func (s *Store) ClaimAction(ctx context.Context, a store.Action) (bool, store.Action, error) {
	now := time.Now()
	if a.At.IsZero() {
		a.At = now
	}
	pk := convPK(a.Key)
	seq := now.UnixNano()
	item := map[string]types.AttributeValue{
		attrPK:    str(pk),
		attrSK:    str(actionPrefix + a.ID),
		"seq":     num(seq),
		"kind":    str(a.Kind),
		"status":  str(store.ActionPending),
		"at":      num(a.At.UnixNano()),
		"updated": num(now.UnixNano()),
	}
	if a.Detail != "" {
		item["detail"] = str(a.Detail)
	}
	if a.Owner != "" {
		item["owner"] = str(a.Owner)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &s.table,
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	if err == nil {
		return true, store.Action{}, nil
	}
	if !conditionFailed(err) {
		return false, store.Action{}, fmt.Errorf("claim action: %w", err)
	}
	// Actions are never deleted, so the item that failed the condition is
	// still there.
	existing, err := s.get(ctx, pk, actionPrefix+a.ID)
	if err != nil {
		return false, store.Action{}, fmt.Errorf("read action: %w", err)
	}
	if existing == nil {
		return false, store.Action{}, fmt.Errorf("read action: claimed action %q not found", a.ID)
	}
	act, err := decodeAction(a.Key, existing)
	return false, act, err
}

// FinishAction implements store.Store. Finishing an action that was never
// claimed is an error: it would be a side effect nobody guarded.
func (s *Store) FinishAction(ctx context.Context, k conversation.Key, id, status, result string) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(convPK(k), actionPrefix+id),
		UpdateExpression:         aws.String("SET #st = :st, #up = :up REMOVE #res"),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#st": "status", "#up": "updated", "#res": "result"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(status), ":up": num(time.Now().UnixNano()),
		},
	}
	if result != "" {
		in.UpdateExpression = aws.String("SET #st = :st, #up = :up, #res = :res")
		in.ExpressionAttributeValues[":res"] = str(result)
	}
	_, err := s.db.UpdateItem(ctx, in)
	if conditionFailed(err) {
		return fmt.Errorf("finish action %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("finish action: %w", err)
	}
	return nil
}

// Action implements store.Store with a consistent read.
func (s *Store) Action(ctx context.Context, k conversation.Key, id string) (store.Action, bool, error) {
	item, err := s.get(ctx, convPK(k), actionPrefix+id)
	if err != nil {
		return store.Action{}, false, fmt.Errorf("read action: %w", err)
	}
	if item == nil {
		return store.Action{}, false, nil
	}
	a, err := decodeAction(k, item)
	return a, err == nil, err
}

// RecordAction implements store.Store with one UpdateItem; a replaced
// action keeps its claim order.
func (s *Store) RecordAction(ctx context.Context, a store.Action) error {
	now := time.Now()
	if a.At.IsZero() {
		a.At = now
	}
	names := map[string]string{"#seq": "seq", "#kind": "kind", "#st": "status", "#at": "at", "#up": "updated"}
	values := map[string]types.AttributeValue{
		":now": num(now.UnixNano()), ":kind": str(a.Kind), ":st": str(a.Status), ":at": num(a.At.UnixNano()),
	}
	set := []string{"#seq = if_not_exists(#seq, :now)", "#kind = :kind", "#st = :st", "#at = :at", "#up = :now"}
	var remove []string
	// Empty strings are not written (see getStr), so an empty field is removed.
	for name, v := range map[string]string{"owner": a.Owner, "detail": a.Detail, "result": a.Result} {
		names["#"+name] = name
		if v == "" {
			remove = append(remove, "#"+name)
			continue
		}
		values[":"+name] = str(v)
		set = append(set, "#"+name+" = :"+name)
	}
	slices.Sort(set)
	slices.Sort(remove)
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(convPK(a.Key), actionPrefix+a.ID), UpdateExpression: &expr,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("record action: %w", err)
	}
	return nil
}

// Actions implements store.Store.
func (s *Store) Actions(ctx context.Context, k conversation.Key) ([]store.Action, error) {
	type seqAction struct {
		seq int64
		a   store.Action
	}
	var list []seqAction
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                &s.table,
		ConsistentRead:           aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(convPK(k)), ":p": str(actionPrefix),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query actions: %w", err)
		}
		for _, item := range page.Items {
			a, err := decodeAction(k, item)
			if err != nil {
				return nil, err
			}
			seq, err := getNum(item, "seq")
			if err != nil {
				return nil, fmt.Errorf("decode action: %w", err)
			}
			list = append(list, seqAction{seq, a})
		}
	}
	slices.SortFunc(list, func(x, y seqAction) int { return cmp.Compare(x.seq, y.seq) })
	var out []store.Action
	for _, x := range list {
		out = append(out, x.a)
	}
	return out, nil
}

func decodeAction(k conversation.Key, item map[string]types.AttributeValue) (store.Action, error) {
	at, err := getNum(item, "at")
	if err != nil {
		return store.Action{}, fmt.Errorf("decode action: %w", err)
	}
	updated, err := getNum(item, "updated")
	if err != nil {
		return store.Action{}, fmt.Errorf("decode action: %w", err)
	}
	return store.Action{
		Key:     k,
		ID:      strings.TrimPrefix(getStr(item, attrSK), actionPrefix),
		Kind:    getStr(item, "kind"),
		Status:  getStr(item, "status"),
		Owner:   getStr(item, "owner"),
		Detail:  getStr(item, "detail"),
		Result:  getStr(item, "result"),
		At:      time.Unix(0, at).UTC(),
		Updated: time.Unix(0, updated).UTC(),
	}, nil
}

func dayPK(day, kind string) string { return "DAY#" + day + "#" + kind }

// AddDayRecord implements store.Store; a put replaces the item.
func (s *Store) AddDayRecord(ctx context.Context, r store.DayRecord) error {
	item := map[string]types.AttributeValue{attrPK: str(dayPK(r.Day, r.Kind)), attrSK: str(r.ID)}
	if r.Data != "" {
		item["data"] = str(r.Data)
	}
	if !r.At.IsZero() {
		item["at"] = num(r.At.UnixNano())
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("add day record: %w", err)
	}
	return nil
}

// DayRecords implements store.Store with a query on the (day, kind)
// partition, in sort key order.
func (s *Store) DayRecords(ctx context.Context, day, kind string, limit int) ([]store.DayRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.DayRecord
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(dayPK(day, kind))},
		ScanIndexForward:          aws.Bool(true),
		Limit:                     aws.Int32(int32(min(limit, math.MaxInt32))),
	})
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query day records: %w", err)
		}
		for _, item := range page.Items {
			r := store.DayRecord{Day: day, Kind: kind, ID: getStr(item, attrSK), Data: getStr(item, "data")}
			if _, ok := item["at"]; ok {
				at, err := getNum(item, "at")
				if err != nil {
					return nil, fmt.Errorf("decode day record: %w", err)
				}
				r.At = time.Unix(0, at).UTC()
			}
			out = append(out, r)
		}
	}
	return out[:min(limit, len(out))], nil
}

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

// get is a strongly consistent GetItem; a missing item is nil.
func (s *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

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

// retryConflicts runs op until it does not conflict, up to maxAttempts times.
func retryConflicts(ctx context.Context, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if !conflicted(err) || attempt == maxAttempts-1 {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// pause sleeps a random time below an exponential bound (full jitter), so
// that writers that collided do not collide again.
func pause(ctx context.Context, attempt int) error {
	bound := min(minBackoff<<min(attempt, 16), maxBackoff)
	t := time.NewTimer(rand.N(bound) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// getStr returns a string attribute, or "" when it is absent (empty strings are
// not written, for fakes that reject them).
func getStr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getNum(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s: not a number", name)
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return i, nil
}

// Keys names the key attributes of the table and of its index, which
// projects all attributes.
func Keys() (pk, sk, indexPK, indexSK string) { return attrPK, attrSK, attrGSIPK, attrGSISK }
