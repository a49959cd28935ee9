package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/support/drafts"
	"supportpipe/internal/support/sla"
)

// clock is a movable server clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

// withClock makes c the server's clock, before it starts.
func withClock(c *clock) func(*local.Server) { return func(s *local.Server) { s.Now = c.now } }

func messageBody(msgID, convID int64, created time.Time, content, email string, custom string, labels string) []byte {
	return []byte(fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"content_type":"text","message_type":"incoming","private":false,`+
		`"created_at":%q,"account":{"id":7,"name":"Northwind"},"inbox":{"id":4,"name":"Web"},`+
		`"sender":{"id":5512,"name":"Priya","email":%q,"custom_attributes":%s},`+
		`"conversation":{"id":%d,"inbox_id":4,"status":"open","labels":%s,"updated_at":%d.5,"created_at":%d,"messages":[],`+
		`"meta":{"sender":{"id":5512,"email":%q,"custom_attributes":%s,"type":"contact"}}}}`,
		msgID, content, created.UTC().Format(time.RFC3339Nano), email, custom, convID, labels, created.Unix(), created.Unix(), email, custom))
}

func (s *server) view(t *testing.T, conv int64) api.ConversationView {
	t.Helper()
	var v api.ConversationView
	require.Equal(t, 200, s.get(t, fmt.Sprintf("/support/conversations/7/%d", conv), s.token, &v))
	return v
}

func (s *server) waitDrained(t *testing.T) {
	t.Helper()
	waitfor.Until(t, func() bool {
		ok, err := s.s.Drained(context.Background())
		return err == nil && ok
	}, "the queues drained")
}

func actionIDs(acts []api.ActionView) []string {
	var ids []string
	for _, a := range acts {
		ids = append(ids, a.ID+"="+a.Status)
	}
	return ids
}

func TestAngryVIPMessageEscalatesOnce(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 15, 1, 0, 0, time.UTC)) // Monday 10:01 New York
	s := start(t, withClock(c), withoutDrafter)
	body := messageBody(501, 42, c.now().Add(-time.Minute),
		"This is the WORST service ever. You charged me twice, fix it NOW or I'll file a chargeback and leave a bad review!!!",
		"ceo@vip-corp.example", `{}`, `["existing"]`)
	require.Equal(t, 202, s.post(t, body, "d-501"))
	s.waitDrained(t)

	v := s.view(t, 42)
	assert.ElementsMatch(t, []string{"angry_language", "vip"}, v.EscalationReasons)
	assert.Contains(t, v.AppliedLabels, "escalated")
	assert.Contains(t, v.Tags, "billing", "charged twice")
	ids := actionIDs(v.Actions)
	assert.Contains(t, ids, "label:escalated=done")
	assert.Contains(t, ids, "priority:urgent=done")
	assert.Contains(t, ids, "note:escalation:angry_language+vip=done", "one note listing both reasons")
	assert.Contains(t, ids, "draft:501=done")
	notes := 0
	for _, a := range v.Actions {
		if a.Kind == "note" {
			notes++
		}
		if a.ID == "label:escalated" {
			var set []string
			require.NoError(t, json.Unmarshal([]byte(a.Result), &set))
			assert.Subset(t, set, []string{"existing", "billing", "escalated"}, "merged with the labels the conversation had")
		}
	}
	assert.Equal(t, 1, notes)
	dq, err := s.s.Drafts.Queue(context.Background())
	require.NoError(t, err)
	d, err := dq.Depth(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Visible, "one draft request")
	msgs, err := dq.Receive(context.Background(), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	var req drafts.Request
	require.NoError(t, json.Unmarshal(msgs[0].Body, &req))
	assert.Equal(t, drafts.Schema, req.Schema)
	assert.True(t, req.VIP)
	assert.True(t, req.Angry)
	assert.Equal(t, int64(501), req.Message.ID)
	assert.Equal(t, "pending", req.SLA.State)
	assert.Equal(t, time.Date(2026, 11, 23, 15, 15, 0, 0, time.UTC), req.SLA.DueAt.UTC(), "10:00 + 15 min business time")
	require.NoError(t, dq.Delete(context.Background(), msgs[0].ReceiptHandle))

	// Replays: the same delivery re-sent (new signature) and a Chatwoot
	// double-emit with a new delivery id. Nothing new may happen.
	before := len(v.Actions)
	c.set(c.now().Add(2 * time.Second))
	require.Equal(t, 202, s.post(t, body, "d-501"))
	require.Equal(t, 202, s.post(t, body, "d-501-reemit"))
	s.waitDrained(t)
	v = s.view(t, 42)
	assert.Len(t, v.Actions, before, "no new action: %v", actionIDs(v.Actions))
	d, err = dq.Depth(context.Background())
	require.NoError(t, err)
	assert.Zero(t, d.Visible+d.InFlight, "no second draft request")
	assert.NotContains(t, logs.String(), "WORST service", "no message content in the logs")
	assert.NotContains(t, logs.String(), "ceo@vip-corp.example", "no email in the logs")
}

func TestSweeperBreachesInBusinessHours(t *testing.T) {
	// Monday 10:00 New York = 15:00 UTC; due 10:15.
	// Friday 16:59 New York = 21:59 UTC: due Monday 09:14 New York.
	c := newClock(time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC))
	s := start(t, withClock(c))
	require.Equal(t, 202, s.post(t, messageBody(602, 61, time.Date(2026, 11, 20, 21, 59, 0, 0, time.UTC), "Where is my parcel?", "a@b.example", `{}`, `[]`), "d-602"))
	s.waitDrained(t)
	c.set(time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)) // Friday 18:30: closed, the clock does not run
	s.s.RunJobs(context.Background())
	assert.Equal(t, sla.Pending, s.view(t, 61).SLA.State)

	c.set(time.Date(2026, 11, 23, 15, 5, 0, 0, time.UTC))
	require.Equal(t, 202, s.post(t, messageBody(601, 60, time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC), "Where is my parcel?", "a@b.example", `{}`, `[]`), "d-601"))
	s.waitDrained(t)
	assert.Equal(t, sla.Pending, s.view(t, 60).SLA.State)

	c.set(time.Date(2026, 11, 23, 15, 16, 0, 0, time.UTC)) // 10:16: one minute late, no event arrived
	s.s.RunJobs(context.Background())
	v := s.view(t, 60)
	assert.Equal(t, sla.Breached, v.SLA.State)
	assert.Equal(t, []string{"sla_breach"}, v.EscalationReasons)
	n := len(v.Actions)
	s.s.RunJobs(context.Background())
	assert.Len(t, s.view(t, 60).Actions, n, "escalated once")

	// Friday's message has been breached since Monday 09:14 New York; the
	// sweeper at 10:16 found it too.
	v = s.view(t, 61)
	assert.Equal(t, sla.Breached, v.SLA.State)
	assert.Equal(t, time.Date(2026, 11, 23, 14, 14, 0, 0, time.UTC), v.SLA.Due.UTC(), "1 min on Friday, 14 on Monday")
	assert.Equal(t, []string{"sla_breach"}, v.EscalationReasons)
	assert.False(t, strings.Contains(logs.String(), "Where is my parcel"))
}
