package dynamostore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

const actionPrefix = "ACTION#"

// ClaimAction implements store.Store. The store sets Status to pending,
// clears Result, and fills At with its clock when a.At is zero. Claim order
// is the store's clock at the claim ("seq"), not a.At, which callers set
// and may repeat; a per-conversation counter would be exact across writers
// whose clocks disagree, but would cost a second write per claim. A record
// it may take over (store.MayTakeOver) is updated with a condition on what
// was read, so of racing claims one wins and the others read its claim.
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
	for range store.ClaimTries {
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
		existing, found, err := s.Action(ctx, a.Key, a.ID)
		if err != nil {
			return false, store.Action{}, err
		}
		if !found {
			return false, store.Action{}, fmt.Errorf("read action: claimed action %q not found", a.ID)
		}
		if !store.MayTakeOver(existing, a) {
			return false, existing, nil
		}
		switch err := s.takeOver(ctx, a, existing, now); {
		case err == nil:
			return true, existing, nil
		case !conditionFailed(err):
			return false, store.Action{}, fmt.Errorf("take over action: %w", err)
		}
		// Another claim or finish came between the read and the write:
		// read again and decide on what it left.
	}
	return false, store.Action{}, fmt.Errorf("claim action %q: %w", a.ID, store.ErrConflict)
}

// takeOver makes the action pending under a.Owner if it is still the
// record read (existing): its status, owner, claim and update times.
func (s *Store) takeOver(ctx context.Context, a, existing store.Action, now time.Time) error {
	names := map[string]string{"#st": "status", "#at": "at", "#up": "updated", "#res": "result", "#owner": "owner"}
	values := map[string]types.AttributeValue{
		":pending": str(store.ActionPending), ":at": num(a.At.UnixNano()), ":now": num(now.UnixNano()),
		":oldst": str(existing.Status), ":oldat": num(existing.At.UnixNano()), ":oldup": num(existing.Updated.UnixNano()),
	}
	cond := "#st = :oldst AND #at = :oldat AND #up = :oldup AND "
	// Empty strings are not written (see getStr): an empty owner is absent.
	if existing.Owner == "" {
		cond += "attribute_not_exists(#owner)"
	} else {
		cond += "#owner = :oldowner"
		values[":oldowner"] = str(existing.Owner)
	}
	update := "SET #st = :pending, #at = :at, #up = :now"
	if a.Owner == "" {
		update += " REMOVE #res, #owner"
	} else {
		update += ", #owner = :owner REMOVE #res"
		values[":owner"] = str(a.Owner)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(convPK(a.Key), actionPrefix+a.ID),
		UpdateExpression: &update, ConditionExpression: &cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	return err
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
