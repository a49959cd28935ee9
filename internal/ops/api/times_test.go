package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/api"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/sla"
)

// Conversations stored before event times were clamped may wait since
// 9999-12-31 or since year 1.
var (
	farFuture = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	farPast   = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	year1     = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
)

func TestQueueWithAbsurdWaits(t *testing.T) {
	now := time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		since            []time.Time
		avg, oldest      float64
		breached, atRisk int
	}{
		{
			name:  "far future only",
			since: hoursBefore(farFuture, 20),
		},
		{
			name:     "far past only",
			since:    hoursBefore(farPast.Add(19*time.Hour), 20),
			avg:      now.Sub(farPast).Seconds() - 9.5*3600,
			oldest:   now.Sub(farPast).Seconds(),
			breached: 20,
		},
		{
			name:     "ten far future, nine far past, one at year 1",
			since:    append(append(hoursBefore(farFuture, 10), hoursBefore(farPast.Add(8*time.Hour), 9)...), year1),
			avg:      (9*now.Sub(farPast).Seconds() - 36*3600 + time.Duration(1<<63-1).Seconds()) / 20,
			oldest:   time.Duration(1<<63 - 1).Seconds(), // a Duration holds 292 years
			breached: 10,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			for i, since := range tc.since {
				addWaiting(t, s, int64(i+1), since)
			}
			v, err := api.Queue(t.Context(), s, nyPolicy(t), now)
			require.NoError(t, err)
			assert.Equal(t, len(tc.since), v.Pending)
			assert.InDelta(t, tc.avg, v.AvgWaitSeconds, 1e-3)
			assert.InDelta(t, tc.oldest, v.OldestWaitSeconds, 1e-3)
			assert.GreaterOrEqual(t, v.AvgWaitSeconds, 0.0)
			assert.Equal(t, tc.breached, v.SLA.Breached)
			assert.Equal(t, tc.atRisk, v.SLA.AtRisk)
		})
	}
}

// hoursBefore returns n instants an hour apart, the last at t.
func hoursBefore(t time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t.Add(-time.Duration(n-1-i) * time.Hour)
	}
	return out
}

// nyPolicy is 15 minutes in New York office hours: from the evening of
// 9999-12-31 it comes due in year 10000.
func nyPolicy(t *testing.T) sla.Policy {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	var week sla.Week
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []sla.Interval{{Open: 9 * 60, Close: 17 * 60}}
	}
	cal, err := sla.NewCalendar(loc, week, nil)
	require.NoError(t, err)
	return sla.Policy{Target: 15 * time.Minute, AtRiskFraction: 0.2, Calendar: func(int64) *sla.Calendar { return cal }}
}

func TestConversationWithAbsurdTimes(t *testing.T) {
	now := time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)
	lastJSON := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	tests := []struct {
		name      string
		since     time.Time
		wantState sla.State
		wantDue   time.Time
	}{
		{"due past year 9999", farFuture, sla.Pending, lastJSON},
		{"since 1970", farPast, sla.Breached, time.Date(1970, 1, 1, 14, 15, 0, 0, time.UTC)},
		{"since year 1", year1, sla.Breached, time.Date(1, 1, 1, 14, 11, 2, 0, time.UTC)}, // New York's mean time was 4:56:02 behind
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			addWaiting(t, s, 7, tc.since)
			var logs bytes.Buffer
			h := &api.Handler{Store: s, Token: tileToken, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
				Now: func() time.Time { return now }, Policy: nyPolicy(t)}
			resp, err := h.Handle(t.Context(), getRequest("/support/conversations/1/7"))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			assert.Empty(t, logs.String())

			var v api.ConversationView
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &v))
			require.NotNil(t, v.SLA)
			assert.Equal(t, tc.wantState, v.SLA.State)
			assert.True(t, tc.wantDue.Equal(v.SLA.Due), "due %v", v.SLA.Due)
			assert.True(t, tc.since.Equal(*v.FirstCustomerMessageAt))
			assert.True(t, v.Waiting)
		})
	}
}

func getRequest(path string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RawPath: path, Headers: map[string]string{"authorization": "Bearer " + tileToken}}
	req.RequestContext.HTTP.Method = http.MethodGet
	return req
}

func TestQueueRouteWithAbsurdWaits(t *testing.T) {
	now := time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)
	s := memstore.New()
	for i, since := range append(hoursBefore(farFuture, 10), hoursBefore(farPast.Add(9*time.Hour), 10)...) {
		addWaiting(t, s, int64(i+1), since)
	}
	h := &api.Handler{Store: s, Token: tileToken, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Routes: map[string]api.Route{"/support/queue": api.QueueRoute(s, nyPolicy(t), func() time.Time { return now })}}
	resp, err := h.Handle(t.Context(), getRequest("/support/queue"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &v))
	assert.Equal(t, 20.0, v["pending"])
	assert.GreaterOrEqual(t, v["avg_wait_seconds"], 0.0)
	assert.InDelta(t, now.Sub(farPast).Seconds(), v["oldest_wait_seconds"], 1e-3)
	assert.Equal(t, "2026-05-12T12:00:00Z", v["generated_at"])
}

// TestQueueComplianceJudgedNow: today's compliance judges each waiting
// period now, as today's report does: a record stored pending whose due
// time has passed is breached, one whose due time is still to come has no
// outcome yet.
func TestQueueComplianceJudgedNow(t *testing.T) {
	now := time.Date(2026, 5, 12, 15, 0, 0, 0, time.UTC) // 11:00 New York
	s := memstore.New()
	for i, start := range []time.Time{now.Add(-time.Hour), now.Add(-5 * time.Minute)} {
		r := sla.Record{AccountID: 1, ConversationID: int64(70 + i), Start: start, State: sla.Pending}
		require.NoError(t, s.AddDayRecord(t.Context(), store.DayRecord{Day: "2026-05-12", Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: start}))
	}
	v, err := api.Queue(t.Context(), s, nyPolicy(t), now)
	require.NoError(t, err)
	require.NotNil(t, v.SLA.CompliancePct)
	assert.Equal(t, 0.0, *v.SLA.CompliancePct, "the hour-old wait is breached; the other has no outcome yet")
}
