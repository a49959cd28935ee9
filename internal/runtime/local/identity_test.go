package local_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/support/conversation"
)

// postRaw posts body to path, signed at ts, with the signature header
// passed through sig (identity when nil).
func (s *server) postRaw(t *testing.T, path string, body []byte, delivery string, ts int64, sig func(string) string) int {
	t.Helper()
	unix := strconv.FormatInt(ts, 10)
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", delivery)
	req.Header.Set("X-Chatwoot-Timestamp", unix)
	h := chatwoot.Sign([]byte(secret), unix, body)
	if sig != nil {
		h = sig(h)
	}
	req.Header.Set("X-Chatwoot-Signature", h)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *server) counters(t *testing.T) map[string]int64 {
	t.Helper()
	c, err := s.s.Store.Counters(context.Background(), stats.Day(s.s.Now()))
	require.NoError(t, err)
	return c
}

func (s *server) stored(t *testing.T, account, conv int64) (conversation.State, bool) {
	t.Helper()
	st, ok, err := s.s.Store.Conversation(context.Background(), conversation.Key{AccountID: account, ConversationID: conv})
	require.NoError(t, err)
	return st, ok
}

// TestSignedAccountWinsOverThePath: a captured request re-sent to another
// account's URL is processed as the account it was signed for.
func TestSignedAccountWinsOverThePath(t *testing.T) {
	s := start(t)
	body := messageBody(71, 9001, s.s.Now(), "where is my order?", "", "{}", "[]")
	require.Equal(t, 202, s.postRaw(t, "/webhooks/chatwoot/8", body, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", s.s.Now().Unix(), nil))
	s.waitDrained(t)
	_, ok := s.stored(t, 7, 9001)
	assert.True(t, ok, "stored under the signed account")
	_, ok = s.stored(t, 8, 9001)
	assert.False(t, ok, "never under the path's")
	waitfor.Until(t, func() bool { return s.counters(t)[stats.AccountMismatch] == 1 }, "the account mismatch counted")
}

// TestConversationIsNotSplit: a conversation_created posted without an
// account in the path names its account (Chatwoot ≥ 4.14.2), and lands
// where its messages do.
func TestConversationIsNotSplit(t *testing.T) {
	s := start(t)
	now := s.s.Now()
	created := []byte(`{"event":"conversation_created","id":9002,"account":{"id":7,"name":"Northwind"},"inbox_id":4,` +
		`"status":"open","labels":[],"messages":[],"created_at":` + strconv.FormatInt(now.Unix(), 10) +
		`,"updated_at":` + strconv.FormatInt(now.Unix(), 10) + `.25}`)
	require.Equal(t, 202, s.postRaw(t, "/webhooks/chatwoot", created, "c1", now.Unix(), nil))
	require.Equal(t, 202, s.postRaw(t, "/webhooks/chatwoot", messageBody(72, 9002, now, "hello", "", "{}", "[]"), "m1", now.Unix(), nil))
	s.waitDrained(t)
	st, ok := s.stored(t, 7, 9002)
	require.True(t, ok)
	assert.Equal(t, "open", st.Status, "the conversation event merged here")
	assert.Equal(t, int64(72), st.FirstCustomerMessageID, "and so did its message")
	_, ok = s.stored(t, 0, 9002)
	assert.False(t, ok, "no second half under another account")
}

// TestReplayInAnySpelling: the replay check keys on the signature, however
// its hex is spelled.
func TestReplayInAnySpelling(t *testing.T) {
	s := start(t)
	body := messageBody(73, 9003, s.s.Now(), "hi", "", "{}", "[]")
	at := s.s.Now().Unix()
	upper := func(h string) string { return "sha256=" + strings.ToUpper(strings.TrimPrefix(h, "sha256=")) }
	require.Equal(t, 202, s.postRaw(t, "/webhooks/chatwoot", body, "d-73", at, nil))
	assert.Equal(t, 409, s.postRaw(t, "/webhooks/chatwoot", body, "d-73", at, upper))
	assert.Equal(t, 409, s.postRaw(t, "/webhooks/chatwoot", body, "d-73", at, nil))
	waitfor.Until(t, func() bool { return s.counters(t)[stats.RejectedPrefix+"replay"] == 2 }, "both replays counted")
}

// TestHugeDeliveryID: an 8 KB X-Chatwoot-Delivery is neither stored nor
// logged; a derived id stands in.
func TestHugeDeliveryID(t *testing.T) {
	s := start(t)
	huge := strings.Repeat("deliv", 1640)
	// Kept for review (invalid), so the stored attributes can be read back.
	require.Equal(t, 202, s.postRaw(t, "/webhooks/chatwoot", []byte(`{"event":"message_created","id":"x"}`), huge, s.s.Now().Unix(), nil))
	dls, err := s.s.Queue.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	id := dls[0].Attributes[queue.AttrDelivery]
	assert.True(t, strings.HasPrefix(id, "derived-"), id)
	assert.LessOrEqual(t, len(id), 64)
	assert.NotContains(t, logs.String(), huge[:100], "never logged")
}

// TestPoisonDoesNotHoldBackOthers: a customer message that is one 1 MiB
// word, and one with a character SQS refuses, are processed like any other,
// and so is the ordinary message sent after them.
func TestPoisonDoesNotHoldBackOthers(t *testing.T) {
	s := start(t)
	now := s.s.Now()
	word := strings.Repeat("x", 1<<20)
	require.Equal(t, 202, s.post(t, messageBody(81, 9101, now, word, "", "{}", "[]"), "p1"))
	require.Equal(t, 202, s.post(t, messageBody(82, 9102, now, "refund \uffff please", "", "{}", "[]"), "p2"))
	require.Equal(t, 202, s.post(t, messageBody(83, 9103, now, "I was charged twice", "", "{}", "[]"), "i1"))
	s.waitDrained(t)
	for _, conv := range []int64{9101, 9102, 9103} {
		st, ok := s.stored(t, 7, conv)
		require.True(t, ok, "conversation %d", conv)
		assert.NotZero(t, st.FirstCustomerMessageID, "conversation %d", conv)
	}
	assert.Contains(t, s.view(t, 9103).Tags, "billing")
	assert.Contains(t, s.view(t, 9102).Tags, "refund")
	dls, err := s.s.Queue.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, dls)
	keys, err := s.s.Claims.Bucket.List(context.Background(), "", 0)
	require.NoError(t, err)
	assert.Empty(t, keys, "the claim-checked bodies are released once processed")
}
