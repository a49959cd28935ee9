package report

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

var update = flag.Bool("update", false, "rewrite the golden files and the README's example chart")

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixed is a clock stopped at t.
func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// defaultPolicy is the configuration's default: 24×7 UTC, a 15 min target,
// at risk with 20 % (3 min) left.
func defaultPolicy(t *testing.T) sla.Policy {
	cfg, err := config.Parse(nil)
	require.NoError(t, err)
	return sla.Policy{Target: cfg.SLA.FirstResponse, AtRiskFraction: cfg.SLA.AtRiskFraction, Calendar: cfg.Calendar}
}

// file stores r as the pipeline does: state as judged when it was written
// (answered: met or breached; open: pending), response times once answered.
func file(t *testing.T, st store.Store, p sla.Policy, r sla.Record) {
	t.Helper()
	if r.State == "" {
		r.State = sla.Pending
	}
	if !r.RespondedAt.IsZero() {
		s := sla.Evaluate(p.Target, p.AtRiskFraction, p.Calendar(0), r.Start, r.RespondedAt, r.RespondedAt)
		r.State, r.Due = s.State, s.DueAt
		r.BusinessSeconds = r.RespondedAt.Sub(r.Start).Seconds()
		r.WallSeconds = r.BusinessSeconds
	}
	require.NoError(t, st.AddDayRecord(context.Background(), store.DayRecord{Day: r.Day(), Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: r.Start}))
}

// logged writes n delivery log entries with an outcome, for webhooks
// received a second apart from received on, each recorded after delay.
func logged(t *testing.T, st store.Store, outcome string, n int, received time.Time, delay time.Duration) {
	t.Helper()
	for i := range n {
		at := received.Add(time.Duration(i) * time.Second)
		require.NoError(t, st.LogDeliveries(context.Background(), store.Delivery{ID: fmt.Sprintf("%s-%d-%d", outcome, at.Unix(), i),
			MessageID: fmt.Sprintf("m-%d-%d", at.Unix(), i), Event: "message_created", AccountID: 7, ConversationID: 1,
			ReceivedAt: at, At: at.Add(delay), Outcome: outcome}))
	}
}

// seed builds 2026-05-12 with figures small enough to check by hand; the
// source's clock, and the store's, are at the end of that day.
func seed(t *testing.T) (Source, *memstore.Store) {
	ctx := context.Background()
	st := memstore.New()
	st.SetClock(fixed(at("2026-05-13T00:00:00Z")))
	policy := defaultPolicy(t)
	day := "2026-05-12"
	counters := map[string]int64{
		stats.Received: 1000, stats.Accepted: 984, stats.Rejected: 10, stats.Ignored: 5, stats.Refused: 1,
		stats.RejectedPrefix + "bad_signature": 6, stats.RejectedPrefix + "stale_timestamp": 4,
		stats.RefusedPrefix + "too_large": 1, stats.InvalidPayload: 1, stats.InvalidPrefix + "schema": 1,
		stats.Duplicates: 20, stats.Processed: 963, stats.Retried: 7, stats.Failed: 9, stats.DeadLettered: 2,
		stats.Spooled: 3, stats.Backfilled: 4, stats.SlowMessages: 1, stats.Opened: 40, stats.Resolved: 31,
		stats.TagPrefix + "billing": 12, stats.TagPrefix + "shipping": 30, stats.TagPrefix + "refund": 12, stats.TagPrefix + "urgent": 3,
	}
	// The delivery log of the same day: 984 accepted (396, 349 and 239 in
	// 09:00, 10:00 and 11:00) and 963 processed (one of a webhook of the
	// day before, at midnight; two of 09:00's in 10:00).
	logged(t, st, store.DeliveryProcessed, 1, at("2026-05-11T23:59:58Z"), 5*time.Second)
	logged(t, st, store.DeliveryProcessed, 390, at("2026-05-12T09:00:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryDuplicate, 4, at("2026-05-12T09:30:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryProcessed, 2, at("2026-05-12T09:59:50Z"), 30*time.Second)
	logged(t, st, store.DeliveryProcessed, 340, at("2026-05-12T10:00:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryDuplicate, 9, at("2026-05-12T10:30:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryProcessed, 230, at("2026-05-12T11:00:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryDuplicate, 7, at("2026-05-12T11:30:00Z"), 2*time.Second)
	logged(t, st, store.DeliveryInvalid, 1, at("2026-05-12T11:40:00Z"), 0)
	logged(t, st, store.DeliveryDeadLettered, 1, at("2026-05-12T11:45:00Z"), 5*time.Second)
	// Not webhooks of their own: failed attempts, a redelivery; ignored
	// events are not accepted.
	logged(t, st, store.DeliveryFailed, 2, at("2026-05-12T11:45:00Z"), time.Second)
	logged(t, st, store.DeliveryRedelivered, 1, at("2026-05-12T10:20:00Z"), 3*time.Second)
	logged(t, st, store.DeliveryIgnored, 5, at("2026-05-12T10:15:00Z"), 0)
	// 900 messages took 2 ms, 59 took 50 ms, 1 took 1.5 s.
	counters[stats.Processing.Counter(2*time.Millisecond)] += 900
	counters[stats.Processing.Counter(50*time.Millisecond)] += 59
	counters[stats.Processing.Counter(1500*time.Millisecond)] += 1
	// The drafting agent: 25 suggestions, 12 requests without one, a
	// failure.
	counters[stats.DraftsMade], counters[stats.DraftsFailed] = 25, 1
	counters[stats.DraftsSkipped] = 12
	counters[stats.DraftsSkippedPrefix+"answered"], counters[stats.DraftsSkippedPrefix+"no_good_draft"] = 4, 8
	counters[stats.Drafting.Counter(900*time.Millisecond)] += 20
	counters[stats.Drafting.Counter(4*time.Second)] += 5
	require.NoError(t, st.AddCounters(ctx, day, counters))

	for _, r := range []sla.Record{
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
	} {
		file(t, st, policy, r)
	}
	for _, id := range []string{"7:3:angry_language", "7:4:sla_breach", "7:9:vip", "7:3:vip"} {
		require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: "escalation", ID: id, Data: "{}", At: at("2026-05-12T13:00:00Z")}))
	}
	require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: AlertKind, ID: "queue-alert-1",
		Data: "events queue above 50 (63 waiting)", At: at("2026-05-12T14:02:00Z")}))
	return Source{Store: st, Policy: policy, Now: fixed(at("2026-05-13T00:00:00Z"))}, st
}

func TestHandComputedFigures(t *testing.T) {
	src, _ := seed(t)
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	assert.True(t, d.Complete, "generated as the day ended")
	require.NotNil(t, d.DeliveryPct)
	assert.InDelta(t, 100*982.0/985.0, *d.DeliveryPct, 1e-9, "(accepted − dead letters not recovered) / (accepted + refused)")
	assert.Equal(t, [3]int64{2, 0, 2}, [3]int64{d.DeadLettered, d.Recovered, d.StillDead})
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

	assert.True(t, d.Hourly)
	var accepted, processed int64
	for _, h := range d.Hours {
		accepted += h.Accepted
		processed += h.Processed
	}
	assert.Equal(t, d.Counters[stats.Accepted], accepted, "the hours add up to the day")
	assert.Equal(t, d.Counters[stats.Processed], processed)
	assert.Equal(t, [4]int64{0, 396, 349, 239}, [4]int64{d.Hours[0].Accepted, d.Hours[9].Accepted, d.Hours[10].Accepted, d.Hours[11].Accepted},
		"accepted by the hour they came: processed, duplicates, invalid and dead-lettered; not failed attempts, redeliveries or ignored events")
	assert.Equal(t, [4]int64{1, 390, 342, 230}, [4]int64{d.Hours[0].Processed, d.Hours[9].Processed, d.Hours[10].Processed, d.Hours[11].Processed},
		"processed by the hour they completed")
	assert.Equal(t, Summary{N: 1, Avg: 300, Median: 300, P90: 300}, d.Hours[9].FRT, "first responses by the hour the wait started")
	assert.Equal(t, 1, d.Hours[12].Waiting, "unanswered, breached: still waiting")
	assert.Equal(t, 2, d.Hours[23].Waiting)
}

// TestOpenPeriodsJudgedWhenGenerated pins a day's first-response figures
// as reports generated at several instants of it, and after it, say them:
// an open waiting period is judged at the generation time, whatever state
// a later sweep stored, so no breach is counted before its due time.
func TestOpenPeriodsJudgedWhenGenerated(t *testing.T) {
	st := memstore.New()
	policy := defaultPolicy(t)
	for _, r := range []sla.Record{
		// Met and breached early in the evening.
		{AccountID: 7, ConversationID: 1, Start: at("2026-05-12T19:00:00Z"), RespondedAt: at("2026-05-12T19:05:00Z")},
		{AccountID: 7, ConversationID: 2, Start: at("2026-05-12T18:00:00Z"), RespondedAt: at("2026-05-12T18:30:00Z")},
		// Due 20:05, never answered.
		{AccountID: 7, ConversationID: 3, Start: at("2026-05-12T19:50:00Z")},
		// Due 20:24; a sweep at 20:30 stored it breached.
		{AccountID: 7, ConversationID: 4, Start: at("2026-05-12T20:09:00Z"), State: sla.Breached, Due: at("2026-05-12T20:24:00Z")},
		// Starts at 20:20, answered at 20:30: met.
		{AccountID: 7, ConversationID: 5, Start: at("2026-05-12T20:20:00Z"), RespondedAt: at("2026-05-12T20:30:00Z")},
	} {
		file(t, st, policy, r)
	}
	for _, tc := range []struct {
		name                           string
		now                            string
		complete                       bool
		met, breached, atRisk, pending int
		breaches                       []int64
		compliance                     float64
		answered                       int
	}{
		// 19:50's wait is overdue; 20:09's has 14 of 15 min left; 20:20's has not begun.
		{name: "20:10, before a due time", now: "2026-05-12T20:10:00Z", met: 1, breached: 2, pending: 1,
			breaches: []int64{2, 3}, compliance: 100.0 / 3, answered: 2},
		// 20:09's wait has 2 min left (at most 3 min: at risk); 20:20's, 13.
		{name: "20:22, close to it", now: "2026-05-12T20:22:00Z", met: 1, breached: 2, atRisk: 1, pending: 1,
			breaches: []int64{2, 3}, compliance: 100.0 / 3, answered: 2},
		// 20:09's wait is now overdue; 20:20's was answered at 20:30 in 10 min.
		{name: "20:30, after it", now: "2026-05-12T20:30:00Z", met: 2, breached: 3,
			breaches: []int64{2, 3, 4}, compliance: 40, answered: 3},
		{name: "after the day", now: "2026-05-13T09:00:00Z", complete: true, met: 2, breached: 3,
			breaches: []int64{2, 3, 4}, compliance: 40, answered: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Build(context.Background(), Source{Store: st, Policy: policy, Now: fixed(at(tc.now))}, "2026-05-12")
			require.NoError(t, err)
			assert.Equal(t, tc.complete, d.Complete)
			assert.Equal(t, [4]int{tc.met, tc.breached, tc.atRisk, tc.pending}, [4]int{d.SLAMet, d.SLABreached, d.SLAAtRisk, d.SLAPending},
				"met, breached, at risk, pending")
			var breached []int64
			for _, r := range d.Breaches {
				breached = append(breached, r.ConversationID)
				assert.False(t, r.Due.After(at(tc.now)), "conversation %d listed as breached before its due time %s", r.ConversationID, r.Due)
			}
			assert.ElementsMatch(t, tc.breaches, breached)
			require.NotNil(t, d.CompliancePct)
			assert.InDelta(t, tc.compliance, *d.CompliancePct, 1e-9)
			assert.Equal(t, tc.answered, d.FRTWall.N, "answers given by the generation time")

			md := string(Render(d))
			title, first, _ := strings.Cut(md, "\n\n")
			first, _, _ = strings.Cut(first, "\n\n")
			if tc.complete {
				assert.Equal(t, "# Support health report — 2026-05-12 (UTC)", title)
				assert.Contains(t, first, "the day is complete")
			} else {
				assert.Equal(t, "# Support health report — 2026-05-12 (UTC), so far", title)
				assert.True(t, strings.HasPrefix(first, "So far: generated 2026-05-12 "+tc.now[11:16]+" UTC"), first)
			}
		})
	}
}

func TestFutureDayRefused(t *testing.T) {
	src := Source{Store: memstore.New(), Policy: defaultPolicy(t), Now: fixed(at("2026-05-12T20:10:00Z"))}
	for _, day := range []string{"2026-05-13", "2099-01-01"} {
		_, err := Build(context.Background(), src, day)
		require.ErrorIs(t, err, ErrFutureDay, day)
		assert.Contains(t, err.Error(), day, "the error names the day")
		_, err = Write(context.Background(), src, &bucket{}, day)
		assert.ErrorIs(t, err, ErrFutureDay, "nothing written for %s", day)
	}
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err, "today is reported, so far")
	assert.False(t, d.Complete)
}

// TestEmptyDay: sections without figures say so in words.
func TestEmptyDay(t *testing.T) {
	for _, tc := range []struct {
		name, now, period string
	}{
		{"finished", "2026-05-13T09:00:00Z", "this day"},
		{"today", "2026-05-12T08:00:00Z", "so far today"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Build(context.Background(), Source{Store: memstore.New(), Policy: defaultPolicy(t), Now: fixed(at(tc.now))}, "2026-05-12")
			require.NoError(t, err)
			md := string(Render(d))
			assert.NotContains(t, md, "n/a")
			for _, want := range []string{
				"- Delivery success: no webhook was accepted or refused " + tc.period + ".\n",
				"- Dead letters: none.\n",
				"- First-response SLA: No conversations waited for a first response " + tc.period + ".\n",
				"## First response\n\nNo conversations waited for a first response " + tc.period + ".\n",
				"## SLA (first response)\n\nNo conversations waited for a first response " + tc.period + ".\n",
				"| processing time p50 / p95 / p99 | nothing processed |\n",
				"No conversation was escalated " + tc.period + ".\n",
				"No customer message was tagged " + tc.period + ".\n",
				"Nothing needs attention.\n",
			} {
				assert.Contains(t, md, want)
			}
			svg := string(Chart(d))
			assert.Contains(t, svg, "No conversations waited for a first response")
			assert.Equal(t, 24, len(points(t, Chart(d))["accepted"]), "an empty day still has its 24 hours")
			assert.Contains(t, svg, "No webhook was accepted or processed "+tc.period+".")
		})
	}
}

// points parses the chart as XML and returns, per series, the hours of its
// points in document order.
func points(t *testing.T, svg []byte) map[string][]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	out := map[string][]string{}
	var series []string // the data-series of each open element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the chart is well-formed XML")
		switch e := tok.(type) {
		case xml.StartElement:
			s := ""
			if len(series) > 0 {
				s = series[len(series)-1]
			}
			var class, hour string
			for _, a := range e.Attr {
				switch a.Name.Local {
				case "data-series":
					s = a.Value
				case "class":
					class = a.Value
				case "data-hour":
					hour = a.Value
				}
			}
			if class == "point" {
				out[s] = append(out[s], hour)
			}
			series = append(series, s)
		case xml.EndElement:
			series = series[:len(series)-1]
		}
	}
	return out
}

func TestChart(t *testing.T) {
	src, _ := seed(t)
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	svg := Chart(d)
	pts := points(t, svg)
	var hours []string
	for h := range 24 {
		hours = append(hours, time.Date(2026, 5, 12, h, 0, 0, 0, time.UTC).Format("15"))
	}
	for _, s := range []string{"accepted", "processed", "first_response"} {
		assert.Equal(t, hours, pts[s], "one point per hour in %s", s)
	}

	var doc struct {
		XMLName xml.Name `xml:"svg"`
		Role    string   `xml:"role,attr"`
		Title   string   `xml:"title"`
		Desc    string   `xml:"desc"`
	}
	require.NoError(t, xml.Unmarshal(svg, &doc))
	assert.Equal(t, "img", doc.Role)
	assert.Equal(t, "Support, 2026-05-12 (UTC), by hour", doc.Title)
	assert.Contains(t, doc.Desc, "Webhooks accepted per hour, by the hour they came, from 00:00 to 23:00 UTC: 0, 0, 0, 0, 0, 0, 0, 0, 0, 396, 349, 239, 0,")
	assert.Contains(t, doc.Desc, "Events processed per hour, by the hour they completed, from 00:00 to 23:00 UTC: 1, 0, 0, 0, 0, 0, 0, 0, 0, 390, 342, 230, 0,")
	assert.Contains(t, string(svg), webSubtitle, "says where the series come from")
	assert.Contains(t, doc.Desc, "09:00–10:00 UTC: median 5m over 1 answered")
	for _, banned := range []string{"<script", "href", "@import", "url("} {
		assert.NotContains(t, string(svg), banned, "self-contained: no scripts, links or external fonts")
	}
	assert.Equal(t, svg, Chart(d), "deterministic")

	today, err := Build(context.Background(), Source{Store: src.Store, Policy: src.Policy, Now: fixed(at("2026-05-12T20:10:00Z"))}, "2026-05-12")
	require.NoError(t, err)
	assert.Contains(t, string(Chart(today)), "so far (generated 20:10 UTC)")
	assert.Contains(t, string(Chart(today)), `class="not-yet"`, "the hours after generation are marked")
}

// bucket records what Write puts.
type bucket struct {
	keys, types []string
	data        map[string][]byte
}

func (b *bucket) Put(_ context.Context, key string, data []byte, contentType string) error {
	if b.data == nil {
		b.data = map[string][]byte{}
	}
	b.keys, b.types = append(b.keys, key), append(b.types, contentType)
	b.data[key] = data
	return nil
}

func TestWriteReportAndChart(t *testing.T) {
	src, _ := seed(t)
	b := &bucket{}
	key, err := Write(context.Background(), src, b, "2026-05-12")
	require.NoError(t, err)
	assert.Equal(t, "reports/support/2026-05-12.md", key)
	assert.Equal(t, []string{"reports/support/2026-05-12.svg", "reports/support/2026-05-12.md"}, b.keys, "the chart first: the report never links a missing image")
	assert.Equal(t, []string{"image/svg+xml", "text/markdown; charset=utf-8"}, b.types)
	assert.Contains(t, string(b.data[key]), "](2026-05-12.svg)", "linked by a relative path")
}

func TestGolden(t *testing.T) {
	src, _ := seed(t)
	d, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	for _, f := range []struct {
		path string
		got  []byte
	}{
		{filepath.Join("testdata", "2026-05-12.md"), Render(d)},
		{filepath.Join("testdata", "2026-05-12.svg"), Chart(d)},
		{filepath.Join("..", "..", "..", "docs", "img", "report-chart.svg"), Chart(example(t))},
	} {
		if *update {
			require.NoError(t, os.WriteFile(f.path, f.got, 0o644))
		}
		want, err := os.ReadFile(f.path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(f.got), "%s is stale: go test ./internal/ops/report -run TestGolden -update", f.path)
	}

	again, err := Build(context.Background(), src, "2026-05-12")
	require.NoError(t, err)
	assert.Equal(t, Render(d), Render(again), "same day, same clock, same file")
}

// TestHourlyNotAvailable: the webhooks per hour come from the delivery log,
// read to the generation time. A day the log cannot answer for says so in
// the chart and the report, and keeps its totals and its 24 hours.
func TestHourlyNotAvailable(t *testing.T) {
	src, st := seed(t)
	noLog := memstore.New()
	noLog.SetClock(src.Now)
	c, err := st.Counters(context.Background(), "2026-05-12")
	require.NoError(t, err)
	require.NoError(t, noLog.AddCounters(context.Background(), "2026-05-12", c))
	for _, tc := range []struct {
		name string
		src  Source
		note string
	}{
		{"older than the log's 14 days", Source{Store: st, Policy: src.Policy, Now: fixed(at("2026-05-26T00:00:01Z"))},
			"they come from the delivery log, which keeps 14 days"},
		{"more entries than the bound", Source{Store: st, Policy: src.Policy, Now: src.Now, LogLimit: 500},
			"the delivery log has more than 500 entries to read for it"},
		{"before the log existed", Source{Store: noLog, Policy: src.Policy, Now: src.Now},
			"the delivery log holds none of its webhooks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Build(context.Background(), tc.src, "2026-05-12")
			require.NoError(t, err)
			assert.False(t, d.Hourly)
			assert.Contains(t, d.HourlyNote, tc.note)
			assert.Equal(t, [2]int64{}, [2]int64{d.Hours[9].Accepted, d.Hours[9].Processed}, "no partial series")
			assert.Equal(t, int64(984), d.Counters[stats.Accepted], "the totals stay")
			svg := Chart(d)
			assert.Contains(t, string(svg), esc(d.HourlyNote), "the chart says why it has no series")
			for _, s := range []string{"accepted", "processed"} {
				assert.Len(t, points(t, svg)[s], 24, s)
			}
			assert.Contains(t, string(Render(d)), d.HourlyNote)
		})
	}

	// The scheduled run reads the day on the next morning; a run 13 days
	// later still finds all of it.
	late := at("2026-05-25T09:00:00Z")
	st.SetClock(fixed(late))
	d, err := Build(context.Background(), Source{Store: st, Policy: src.Policy, Now: fixed(late)}, "2026-05-12")
	require.NoError(t, err)
	require.True(t, d.Hourly, d.HourlyNote)
	assert.Equal(t, int64(396), d.Hours[9].Accepted)
}
