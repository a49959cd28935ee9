package report

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/sla"
)

var update = flag.Bool("update", false, "rewrite the golden file")

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seed builds 2026-05-12 with figures small enough to check by hand.
func seed(t *testing.T) (Source, *memstore.Store) {
	ctx := context.Background()
	st := memstore.New()
	cfg, err := config.Parse(nil) // 24×7 UTC, 15 min target, at risk at 20 % left
	require.NoError(t, err)
	policy := sla.Policy{Target: cfg.SLA.FirstResponse, AtRiskFraction: cfg.SLA.AtRiskFraction, Calendar: cfg.Calendar}
	day := "2026-05-12"
	counters := map[string]int64{
		stats.Received: 1000, stats.Accepted: 984, stats.Rejected: 10, stats.Ignored: 5, stats.Refused: 1,
		stats.RejectedPrefix + "bad_signature": 6, stats.RejectedPrefix + "stale_timestamp": 4,
		stats.RefusedPrefix + "too_large": 1, stats.InvalidPayload: 1, stats.InvalidPrefix + "schema": 1,
		stats.Duplicates: 20, stats.Processed: 960, stats.Retried: 7, stats.Failed: 9, stats.DeadLettered: 2,
		stats.Spooled: 3, stats.Backfilled: 4, stats.SlowMessages: 1, stats.Opened: 40, stats.Resolved: 31,
		stats.TagPrefix + "billing": 12, stats.TagPrefix + "shipping": 30, stats.TagPrefix + "refund": 12, stats.TagPrefix + "urgent": 3,
	}
	// 900 messages took 2 ms, 59 took 50 ms, 1 took 1.5 s.
	counters[stats.Processing.Counter(2*time.Millisecond)] += 900
	counters[stats.Processing.Counter(50*time.Millisecond)] += 59
	counters[stats.Processing.Counter(1500*time.Millisecond)] += 1
	require.NoError(t, st.AddCounters(ctx, day, counters))

	recs := []sla.Record{
		// Answered in 5 min and 10 min: met.
		{AccountID: 7, ConversationID: 1, Start: at("2026-05-12T09:00:00Z"), RespondedAt: at("2026-05-12T09:05:00Z")},
		{AccountID: 7, ConversationID: 2, Start: at("2026-05-12T10:00:00Z"), RespondedAt: at("2026-05-12T10:10:00Z")},
		// Answered after 40 min: breached.
		{AccountID: 7, ConversationID: 3, Start: at("2026-05-12T11:00:00Z"), RespondedAt: at("2026-05-12T11:40:00Z")},
		// Never answered, due 12:15: breached by the end of the day.
		{AccountID: 7, ConversationID: 4, Start: at("2026-05-12T12:00:00Z")},
		// Started 23:50, due 00:05: at the end of the day 10 min elapsed, 5 of 15 left (33 %): pending.
		{AccountID: 7, ConversationID: 5, Start: at("2026-05-12T23:50:00Z")},
		// Started 23:47: 13 min elapsed, 2 of 15 left (13 % ≤ 20 %): at risk.
		{AccountID: 7, ConversationID: 6, Start: at("2026-05-12T23:47:00Z")},
	}
	for _, r := range recs {
		r.State = sla.Pending
		if !r.RespondedAt.IsZero() {
			s := sla.Evaluate(policy.Target, policy.AtRiskFraction, policy.Calendar(0), r.Start, r.RespondedAt, r.RespondedAt)
			r.State, r.Due = s.State, s.DueAt
			r.BusinessSeconds = r.RespondedAt.Sub(r.Start).Seconds()
			r.WallSeconds = r.BusinessSeconds
		}
		require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: r.Day(), Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: r.Start}))
	}
	for _, id := range []string{"7:3:angry_language", "7:4:sla_breach", "7:9:vip", "7:3:vip"} {
		require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: "escalation", ID: id, Data: "{}", At: at("2026-05-12T13:00:00Z")}))
	}
	require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: AlertKind, ID: "queue-alert-1",
		Data: "events queue above 50 (63 waiting)", At: at("2026-05-12T14:02:00Z")}))
	return Source{Store: st, Policy: policy}, st
}

func TestHandComputedFigures(t *testing.T) {
	src, _ := seed(t)
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	require.NotNil(t, d.DeliveryPct)
	assert.InDelta(t, 100*982.0/985.0, *d.DeliveryPct, 1e-9, "(accepted − dead-lettered) / (accepted + refused)")
	// Buckets are 10 per decade: 2 ms falls in (1.995, 2.512] ms, 50 ms in (39.81, 50.12] ms.
	assert.Equal(t, [3]float64{2.512, 50.119, 50.119}, d.Processing, "p50 in the 2 ms bucket, p95 and p99 in the 50 ms one")
	assert.Equal(t, 2, d.SLAMet)
	assert.Equal(t, 2, d.SLABreached)
	assert.Equal(t, 1, d.SLAPending)
	assert.Equal(t, 1, d.SLAAtRisk)
	require.NotNil(t, d.CompliancePct)
	assert.InDelta(t, 50.0, *d.CompliancePct, 1e-9)
	// Answered: 300 s, 600 s, 2400 s → average 1100 s, median 600 s, p90 2400 s.
	assert.Equal(t, Summary{N: 3, Avg: 1100, Median: 600, P90: 2400}, d.FRTWall)
	assert.Equal(t, d.FRTWall, d.FRTBusiness, "24×7 calendar")
	assert.Equal(t, map[string]int{"angry_language": 1, "sla_breach": 1, "vip": 2}, d.Escalations)
	assert.Equal(t, []TagCount{{"shipping", 30}, {"billing", 12}, {"refund", 12}, {"urgent", 3}}, d.TopTags)
	require.Len(t, d.Breaches, 2)
	assert.Equal(t, int64(3), d.Breaches[0].ConversationID)
}

func TestGolden(t *testing.T) {
	src, _ := seed(t)
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	got := Render(d)
	path := filepath.Join("testdata", "2026-05-12.md")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))

	again, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	assert.Equal(t, got, Render(again), "same day, same file")
}
