package dynamostore

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

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
// version read (store.UpdateWithRetry). The first read is eventually
// consistent, at half the price: the conditional write refuses a state read
// stale, and a merge that would change nothing is confirmed on a consistent
// read before the caller sees it. Later attempts read consistently.
func (s *Store) UpdateConversation(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool) (conversation.State, error) {
	return store.UpdateWithRetry(ctx, k, fn, store.Versioned{
		Read: func(ctx context.Context, consistent bool) (conversation.State, bool, error) {
			return s.conversation(ctx, k, consistent)
		},
		Write:      s.putConversation,
		StaleFirst: true,
	})
}

// putConversation implements store.Versioned's Write.
func (s *Store) putConversation(ctx context.Context, next conversation.State, found bool) (bool, error) {
	state, err := encodeState(next)
	if err != nil {
		return false, err
	}
	k := next.Key
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
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":cur": num(next.Version - 1)}
	}
	_, err = s.db.PutItem(ctx, in)
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write conversation: %w", err)
	}
	return true, nil
}
