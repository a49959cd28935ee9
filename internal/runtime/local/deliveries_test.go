package local_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/runtime/local"
)

// poison fails every attempt of the deliveries it names while it is on:
// Chatwoot refusing, as far as the processor can tell.
type poison struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (p *poison) Name() string { return "poison" }
func (p *poison) Run(_ context.Context, ev *processor.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids[ev.DeliveryID] {
		return errors.New("chatwoot api: 503 Service Unavailable")
	}
	return nil
}

func (p *poison) cure(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ids, id)
}

// deliveries reads GET /support/deliveries with query (url.Values encoded).
func (s *server) deliveries(t *testing.T, query url.Values) api.DeliveriesView {
	t.Helper()
	var v api.DeliveriesView
	require.Equal(t, 200, s.get(t, "/support/deliveries?"+query.Encode(), s.token, &v))
	return v
}

func outcomes(v api.DeliveriesView) []string {
	var out []string
	for i := len(v.Deliveries) - 1; i >= 0; i-- { // oldest first, as a story reads
		d := v.Deliveries[i]
		o := d.Outcome
		if d.Attempt > 0 {
			o += fmt.Sprintf("#%d", d.Attempt)
		}
		if d.Redriven {
			o += " (redriven)"
		}
		out = append(out, o)
	}
	return out
}

// TestDeliveryLogAnswersForEveryOutcome: "did Chatwoot send it, and what
// became of it?" through the local server's API, for each way a webhook
// can end: processed, a duplicate Chatwoot emitted again under a new
// delivery id, ignored, rejected (counted by reason: nothing unproven is
// kept), invalid and kept, dead-lettered after its attempts and their
// reasons, and redriven.
func TestDeliveryLogAnswersForEveryOutcome(t *testing.T) {
	bad := &poison{ids: map[string]bool{"x-1": true}}
	s := start(t, func(s *local.Server) {
		s.Processor.Stages = append([]processor.Stage{bad}, s.Processor.Stages...)
		s.Processor.Backoff = []time.Duration{time.Millisecond} // retried at once; the production policy is the processor's test
	})
	now := s.s.Now()
	at := now.Unix()
	msg := messageBody(9301, 9201, now, "where is my refund?", "", "{}", "[]")
	typing, err := os.ReadFile("../../../testdata/chatwoot/10_conversation_typing_on.json")
	require.NoError(t, err)

	one := func(id string) []string {
		return outcomes(s.deliveries(t, url.Values{"delivery": {id}}))
	}
	require.Equal(t, 202, s.postAt(t, msg, "p-1", secret, at))
	waitfor.Until(t, func() bool { return len(one("p-1")) == 1 }, "the first delivery processed")
	require.Equal(t, 202, s.postAt(t, msg, "p-2", secret, at+1), "Chatwoot emits the same event again under a new delivery id")
	require.Equal(t, 202, s.post(t, typing, "i-1"))
	require.Equal(t, 409, s.postAt(t, msg, "p-1", secret, at), "a replay")
	require.Equal(t, 401, s.postSigned(t, msg, "r-1", "not-our-secret"), "a forgery")
	require.Equal(t, 202, s.post(t, []byte(`{"event":"message_created","id":"x"}`), "v-1"), "invalid, kept")
	require.Equal(t, 202, s.post(t, messageBody(9302, 9202, now, "hello?", "", "{}", "[]"), "x-1"))

	waitfor.Until(t, func() bool { return len(one("x-1")) == 3 }, "the poisoned delivery's three attempts logged: %v",
		func() string { return fmt.Sprint(one("x-1")) })
	s.waitDrained(t)

	tests := []struct {
		delivery string
		want     []string
	}{
		{"p-1", []string{"processed"}},
		{"p-2", []string{"duplicate"}},
		{"i-1", []string{"ignored"}},
		{"v-1", []string{"invalid"}},
		{"x-1", []string{"failed#1", "failed#2", "dead_lettered#3"}},
		{"r-1", nil}, // rejected: no entry, a count by reason
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, one(tc.delivery), tc.delivery)
	}

	all := s.deliveries(t, url.Values{})
	assert.Len(t, all.Deliveries, 7)
	x := s.deliveries(t, url.Values{"delivery": {"x-1"}})
	for _, d := range x.Deliveries {
		assert.Equal(t, "chatwoot api: 503 Service Unavailable", d.Reason[len(d.Reason)-len("chatwoot api: 503 Service Unavailable"):],
			"each failure with its reason")
		assert.Equal(t, int64(9202), d.ConversationID)
		assert.Equal(t, "message_created", d.Event)
	}
	v := s.deliveries(t, url.Values{"outcome": {"invalid"}}).Deliveries
	require.Len(t, v, 1)
	assert.Contains(t, v[0].Reason, "schema")
	dls, err := s.s.Queue.ListDeadLetters(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 2, "the invalid payload and the poisoned message")
	dlqIDs := []string{dls[0].ID, dls[1].ID}
	assert.Contains(t, dlqIDs, v[0].MessageID, "the invalid payload's entry names its dead letter")

	var rejected *api.TurnedAway
	waitfor.Until(t, func() bool {
		rejected = s.deliveries(t, url.Values{"outcome": {"rejected"}}).Rejected
		return rejected != nil && rejected.Total == 2 // the edge's counters are flushed every 200 ms
	}, "the rejections counted")
	assert.Equal(t, map[string]int64{"replay": 1, "bad_signature": 1}, rejected.Reasons)

	conv := s.deliveries(t, url.Values{"conversation": {"9201"}, "account": {"7"}})
	assert.Equal(t, []string{"processed", "duplicate"}, outcomes(conv), "a conversation's log, by key")

	// The operator fixes the cause and redrives the dead letter.
	bad.cure("x-1")
	for _, d := range dls {
		if d.Attributes["delivery_id"] == "x-1" {
			n, err := s.s.Queue.Redrive(context.Background(), d.ID)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}
	}
	waitfor.Until(t, func() bool { return len(one("x-1")) == 4 }, "the redriven message's outcome logged")
	assert.Equal(t, []string{"failed#1", "failed#2", "dead_lettered#3", "processed (redriven)"}, one("x-1"))
	assert.Equal(t, []string{"processed (redriven)"}, outcomes(s.deliveries(t, url.Values{"outcome": {"redriven"}})))
	assert.Equal(t, []string{"dead_lettered#3"}, outcomes(s.deliveries(t, url.Values{"outcome": {"dead_lettered"}})))
	assert.Equal(t, []string{"failed#1", "failed#2", "dead_lettered#3", "processed (redriven)"},
		outcomes(s.deliveries(t, url.Values{"conversation": {"9202"}, "account": {"7"}})), "the conversation's log")

	// Page by page, newest first, the same entries.
	var paged []string
	q := url.Values{"limit": {"3"}}
	for range 10 {
		page := s.deliveries(t, q)
		for _, d := range page.Deliveries {
			paged = append(paged, d.DeliveryID+"/"+d.Outcome)
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	var whole []string
	for _, d := range s.deliveries(t, url.Values{}).Deliveries {
		whole = append(whole, d.DeliveryID+"/"+d.Outcome)
	}
	assert.Len(t, whole, 8)
	assert.Equal(t, whole, paged)
	assert.NotContains(t, logs.String(), "where is my refund", "ids in the log, never content")
}
