package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
)

func getDeliveries(t *testing.T, h *api.Handler, query string) (int, api.DeliveriesView, string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	require.NoError(t, err)
	params := map[string]string{}
	for k, v := range q {
		params[k] = v[0]
	}
	req := events.APIGatewayV2HTTPRequest{RawPath: "/support/deliveries", Headers: map[string]string{"authorization": "Bearer tok"},
		QueryStringParameters: params,
		RequestContext:        events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
	resp, err := h.Handle(context.Background(), req)
	require.NoError(t, err)
	var v api.DeliveriesView
	if resp.StatusCode == 200 {
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &v))
	}
	return resp.StatusCode, v, resp.Body
}

func TestDeliveries(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	s := memstore.New()
	at := now.Add(-time.Hour)
	require.NoError(t, s.LogDeliveries(context.Background(),
		store.Delivery{ID: "d1", MessageID: "m1", Event: "message_created", AccountID: 7, ConversationID: 1423,
			ReceivedAt: at.Add(-time.Second), At: at, Outcome: store.DeliveryFailed, Attempt: 1, Reason: "boom", Processing: 1500 * time.Microsecond},
		store.Delivery{ID: "d2", Event: "conversation_typing_on", AccountID: 7, At: at.Add(time.Minute), Outcome: store.DeliveryIgnored},
		store.Delivery{ID: "d3", MessageID: "m3", AccountID: 8, ConversationID: 1423, At: at.Add(2 * time.Minute), Outcome: store.DeliveryProcessed, Redriven: true}))
	require.NoError(t, s.AddCounters(context.Background(), stats.Day(now),
		map[string]int64{stats.Rejected: 3, stats.RejectedPrefix + "bad_signature": 2, stats.RejectedPrefix + "replay": 1,
			stats.Refused: 1, stats.RefusedPrefix + "too_large": 1}))
	h := &api.Handler{Store: s, Token: "tok", Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Account: 7}

	ids := func(v api.DeliveriesView) []string {
		var out []string
		for _, d := range v.Deliveries {
			out = append(out, d.DeliveryID)
		}
		return out
	}
	tests := []struct {
		query    string
		want     []string
		rejected int64 // -1: no aggregate
	}{
		{"", []string{"d3", "d2", "d1"}, 3},
		{"conversation=1423", []string{"d1"}, -1},
		{"conversation=1423&account=8", []string{"d3"}, -1},
		{"outcome=failed", []string{"d1"}, -1},
		{"outcome=redriven", []string{"d3"}, -1},
		{"outcome=rejected", nil, 3},
		{"since=90s", nil, 3}, // the counters are by whole day
		{"since=" + at.Add(30*time.Second).Format(time.RFC3339), []string{"d3", "d2"}, 3},
		{"delivery=d2", []string{"d2"}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, v, body := getDeliveries(t, h, tc.query)
			require.Equal(t, 200, code, body)
			assert.Equal(t, tc.want, ids(v))
			if tc.rejected < 0 {
				assert.Nil(t, v.Rejected)
			} else if assert.NotNil(t, v.Rejected) {
				assert.Equal(t, tc.rejected, v.Rejected.Total)
			}
		})
	}

	_, v, _ := getDeliveries(t, h, "")
	assert.Equal(t, map[string]int64{"bad_signature": 2, "replay": 1}, v.Rejected.Reasons)
	assert.Equal(t, &api.TurnedAway{Total: 1, Reasons: map[string]int64{"too_large": 1}, Days: v.Rejected.Days}, v.Refused)
	assert.Len(t, v.Rejected.Days, 15, "the retention's days, today's included")
	d := v.Deliveries[2]
	assert.Equal(t, api.DeliveryView{DeliveryID: "d1", MessageID: "m1", Event: "message_created", AccountID: 7, ConversationID: 1423,
		ReceivedAt: &[]time.Time{at.Add(-time.Second)}[0], At: at, Outcome: "failed", Attempt: 1, Reason: "boom", ProcessingMS: 1.5}, d)

	_, first, _ := getDeliveries(t, h, "limit=2")
	assert.Equal(t, []string{"d3", "d2"}, ids(first))
	require.NotEmpty(t, first.NextCursor)
	_, second, _ := getDeliveries(t, h, "limit=2&cursor="+first.NextCursor)
	assert.Equal(t, []string{"d1"}, ids(second))
	assert.Empty(t, second.NextCursor)
	assert.Nil(t, second.Rejected, "the counts come with the first page")

	for _, bad := range []string{"conversation=x", "conversation=-1", "account=7", "outcome=lost", "since=yesterday", "since=-1h",
		"limit=0", "limit=501", "cursor=nope"} {
		code, _, body := getDeliveries(t, h, bad)
		assert.Equal(t, 400, code, "%s: %s", bad, body)
	}
	h.Account = 0
	code, _, body := getDeliveries(t, h, "conversation=1423")
	assert.Equal(t, 400, code, "no default account: %s", body)
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"2026-12-05":                time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC),
		"2026-12-05T10:00:00+02:00": time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.AddDate(0, 0, -7),
	} {
		got, err := api.ParseSince(in, now)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}
