// Package report builds the daily support health report (Markdown) for one
// UTC day from pre-aggregated counters and the day's SLA and escalation
// records — key lookups only, never a scan, so its cost does not grow with
// the number of events.
package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

// Key is where the report for day is written (bucket key or path under the
// working directory).
func Key(day string) string { return "reports/support/" + day + ".md" }

// DeliveryTarget is the delivery success objective.
const DeliveryTarget = 99.9

// maxRecords bounds the per-day record reads (one Query each on DynamoDB).
const maxRecords = 1_000_000

// Source is what the report reads.
type Source struct {
	Store  store.Store
	Queue  queue.Queue
	Policy sla.Policy
}

// Data is everything the report shows, computed before rendering so tests
// can check figures without parsing Markdown.
type Data struct {
	Day                 string
	Counters            map[string]int64
	DeliveryPct         *float64
	Processing          [3]float64 // p50, p95, p99 ms
	FRTBusiness         Summary
	FRTWall             Summary
	SLAMet, SLABreached int
	SLAAtRisk           int
	SLAPending          int
	SLAClosed           int
	CompliancePct       *float64
	Breaches            []sla.Record
	Escalations         map[string]int
	TopTags             []TagCount
	QueueDepth          queue.Depth
	DLQDepth            queue.Depth
	DeadLetters         []queue.DeadLetter
	Alerts              []store.DayRecord
	DepthErr            bool
}

// Summary is average, median and p90 of response times in seconds.
type Summary struct {
	N                int
	Avg, Median, P90 float64
}

// TagCount is a tag and how many customer messages carried it.
type TagCount struct {
	Tag   string
	Count int64
}

// Build gathers the day's figures. ref is the moment open waiting periods
// are judged at: the end of the day, so a report rendered twice for a past
// day says the same thing.
func Build(ctx context.Context, src Source, day string) (*Data, error) {
	start, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return nil, fmt.Errorf("report day %q: %w", day, err)
	}
	ref := start.Add(24 * time.Hour)
	d := &Data{Day: day, Escalations: map[string]int{}}
	if d.Counters, err = src.Store.Counters(ctx, day); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	c := d.Counters
	// Refusals count against delivery: they may have been authentic.
	// Rejections do not: nothing showed they came from Chatwoot.
	if attempts := c[stats.Accepted] + c[stats.Refused]; attempts > 0 {
		pct := 100 * float64(c[stats.Accepted]-c[stats.DeadLettered]) / float64(attempts)
		d.DeliveryPct = &pct
	}
	p := stats.Processing.Percentiles(c, 0.5, 0.95, 0.99)
	copy(d.Processing[:], p)

	recs, err := src.Store.DayRecords(ctx, day, sla.DayRecordKind, maxRecords)
	if err != nil {
		return nil, fmt.Errorf("read SLA records: %w", err)
	}
	var business, wall []float64
	for _, dr := range recs {
		r, err := sla.ParseRecord(dr.Data)
		if err != nil {
			continue
		}
		r = rejudge(src.Policy, r, ref)
		switch r.State {
		case sla.Met:
			d.SLAMet++
		case sla.Breached:
			d.SLABreached++
			d.Breaches = append(d.Breaches, r)
		case sla.AtRisk:
			d.SLAAtRisk++
		case sla.Pending:
			d.SLAPending++
		case sla.Closed:
			d.SLAClosed++
		}
		if !r.RespondedAt.IsZero() {
			business = append(business, r.BusinessSeconds)
			wall = append(wall, r.WallSeconds)
		}
	}
	if n := d.SLAMet + d.SLABreached; n > 0 {
		pct := 100 * float64(d.SLAMet) / float64(n)
		d.CompliancePct = &pct
	}
	d.FRTBusiness, d.FRTWall = summarise(business), summarise(wall)

	escs, err := src.Store.DayRecords(ctx, day, escalation.DayRecordKind, maxRecords)
	if err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	for _, e := range escs {
		// IDs are "<account>:<conversation>:<reason>".
		if parts := strings.SplitN(e.ID, ":", 3); len(parts) == 3 {
			d.Escalations[parts[2]]++
		}
	}
	for k, v := range c {
		if tag, ok := strings.CutPrefix(k, stats.TagPrefix); ok && v > 0 {
			d.TopTags = append(d.TopTags, TagCount{tag, v})
		}
	}
	sort.Slice(d.TopTags, func(i, j int) bool {
		if d.TopTags[i].Count != d.TopTags[j].Count {
			return d.TopTags[i].Count > d.TopTags[j].Count
		}
		return d.TopTags[i].Tag < d.TopTags[j].Tag
	})
	if len(d.TopTags) > 10 {
		d.TopTags = d.TopTags[:10]
	}
	if d.Alerts, err = src.Store.DayRecords(ctx, day, AlertKind, 100); err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	d.DepthErr = src.Queue == nil
	if src.Queue != nil {
		qd, err1 := src.Queue.Depth(ctx)
		dd, err2 := src.Queue.DLQDepth(ctx)
		dl, err3 := src.Queue.ListDeadLetters(ctx, 10)
		d.QueueDepth, d.DLQDepth, d.DeadLetters = qd, dd, dl
		d.DepthErr = err1 != nil || err2 != nil || err3 != nil
	}
	return d, nil
}

// AlertKind is the kind of day records that queue monitoring files.
const AlertKind = "alert"

// rejudge settles a record that was still open when filed, as of ref.
func rejudge(p sla.Policy, r sla.Record, ref time.Time) sla.Record {
	if r.Final() || p.Calendar == nil {
		return r
	}
	s := sla.Evaluate(p.Target, p.AtRiskFraction, p.Calendar(r.InboxID), r.Start, r.RespondedAt, ref)
	r.State, r.Due = s.State, s.DueAt
	return r
}

func summarise(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	rank := func(q float64) float64 { return s[int(math.Ceil(q*float64(len(s))))-1] }
	return Summary{N: len(s), Avg: sum / float64(len(s)), Median: rank(0.5), P90: rank(0.9)}
}

// Bucket is where reports are written (blob.Bucket satisfies it).
type Bucket interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
}

// Write builds, renders and stores the report for day and returns its key.
func Write(ctx context.Context, src Source, dst Bucket, day string) (string, error) {
	d, err := Build(ctx, src, day)
	if err != nil {
		return "", err
	}
	key := Key(day)
	if err := dst.Put(ctx, key, Render(d), "text/markdown; charset=utf-8"); err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return key, nil
}

// Yesterday is the day the scheduled 09:00 UTC run reports on.
func Yesterday(now time.Time) string {
	return now.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
}
