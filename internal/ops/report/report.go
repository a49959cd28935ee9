// Package report builds the daily support health report (Markdown, with an
// hourly SVG chart beside it) for one UTC day from pre-aggregated counters,
// the day's SLA and escalation records and, for the chart's webhooks per
// hour, the day's delivery log — key lookups and the log's time line only,
// never a scan.
//
// A report is true as of the moment it is generated: waiting periods still
// open are judged then, so today's report says "so far" and counts no
// breach whose due time has not come, and a finished day's report counts
// the dead letters recovered since.
package report

import (
	"context"
	"errors"
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

// ChartKey is where the day's chart is written, beside the report, which
// links to it by its file name.
func ChartKey(day string) string { return "reports/support/" + day + ".svg" }

// ErrFutureDay is returned for a day that has not begun at generation time:
// there is nothing to report yet.
var ErrFutureDay = errors.New("the day has not begun")

// DeliveryTarget is the delivery success objective.
const DeliveryTarget = 99.9

// maxRecords bounds the per-day record reads (one Query each on DynamoDB).
const maxRecords = 1_000_000

// DefaultLogLimit bounds the delivery log entries a report reads for its
// webhooks per hour: those recorded from the day's start to the generation
// time, about 1.4 days' worth at the scheduled 09:00 run. A busier span
// gets no hourly webhook series rather than a run that outlasts its
// function's timeout.
const DefaultLogLimit = 1_000_000

// Source is what the report reads.
type Source struct {
	Store  store.Store
	Queue  queue.Queue
	Policy sla.Policy
	// Now is the generation time: open waiting periods are judged at it,
	// and it tells a finished day from today. Nil reads the system clock.
	Now func() time.Time
	// LogLimit bounds the delivery log entries read (DefaultLogLimit
	// when 0).
	LogLimit int
}

func (s Source) logLimit() int {
	if s.LogLimit <= 0 {
		return DefaultLogLimit
	}
	return s.LogLimit
}

func (s Source) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
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
	Target              time.Duration // the first-response target
	CompliancePct       *float64
	Breaches            []sla.Record
	Escalations         map[string]int
	TopTags             []TagCount
	QueueDepth          queue.Depth
	DLQDepth            queue.Depth
	DeadLetters         []queue.DeadLetter
	Alerts              []store.DayRecord
	DepthErr            bool
	// Drafts is the drafting agent's day: suggestions made, skipped by
	// reason, failed, their latency and the tokens models used.
	Drafts stats.Drafts

	// GeneratedAt is when the figures were read; Complete says the day had
	// ended by then. A report of today is "so far".
	GeneratedAt time.Time
	Complete    bool

	// Dead letters of the day's webhooks: those recovered (redriven and
	// then completed) count as delivered; StillDead are neither, so far.
	DeadLettered, Recovered, StillDead int64

	// Hours are the day's figures by UTC hour, for the chart. Hourly says
	// the webhook figures were read from the delivery log; when they could
	// not be, HourlyNote says why (the log keeps 14 days, and holds
	// nothing from before it existed).
	Hours      [24]Hour
	Hourly     bool
	HourlyNote string
}

// Hour is one UTC hour of the day: authentic webhooks accepted (by the hour
// the edge took them), events processed (by the hour they completed), and
// the first responses to the waiting periods that started in it.
type Hour struct {
	Accepted, Processed int64
	// FRT summarises the business-time first responses of the hour's
	// waiting periods answered by generation time; Waiting counts those
	// still unanswered then (closed ones are in neither).
	FRT     Summary
	Waiting int
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

// Build gathers the day's figures as of the generation time (src.Now).
// Waiting periods still open then are judged then, so a report of today
// counts no breach whose due time has not come, and one of a finished day
// rendered again says what is true by then: later answers, breaches whose
// due time has passed, dead letters recovered. A day that has not begun
// is refused with ErrFutureDay.
func Build(ctx context.Context, src Source, day string) (*Data, error) {
	start, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return nil, fmt.Errorf("report day %q: %w", day, err)
	}
	now := src.now()
	if now.Before(start) {
		return nil, fmt.Errorf("report for %s: %w (it is %s UTC)", day, ErrFutureDay, now.Format("2006-01-02 15:04"))
	}
	d := &Data{Day: day, GeneratedAt: now, Complete: !now.Before(start.Add(24 * time.Hour)), Target: src.Policy.Target,
		Escalations: map[string]int{}}
	if d.Counters, err = src.Store.Counters(ctx, day); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	c := d.Counters
	// A dead letter redriven and completed was delivered after all; both
	// are counted on the day the webhook came.
	d.DeadLettered, d.Recovered = c[stats.DeadLettered], c[stats.Recovered]
	d.StillDead = max(d.DeadLettered-d.Recovered, 0)
	// Refusals count against delivery: they may have been authentic.
	// Rejections do not: nothing showed they came from Chatwoot.
	if attempts := c[stats.Accepted] + c[stats.Refused]; attempts > 0 {
		pct := 100 * float64(c[stats.Accepted]-d.StillDead) / float64(attempts)
		d.DeliveryPct = &pct
	}
	p := stats.Processing.Percentiles(c, 0.5, 0.95, 0.99)
	copy(d.Processing[:], p)
	d.Drafts = stats.Summarise(day, c).Drafts
	if err := readHours(ctx, src, d, start, now); err != nil {
		return nil, err
	}

	recs, err := src.Store.DayRecords(ctx, day, sla.DayRecordKind, maxRecords)
	if err != nil {
		return nil, fmt.Errorf("read SLA records: %w", err)
	}
	var business, wall []float64
	var hourly [24][]float64
	for _, dr := range recs {
		r, err := sla.ParseRecord(dr.Data)
		if err != nil {
			continue
		}
		r, ok := src.Policy.Judge(r, now)
		if !ok {
			continue
		}
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
		h := r.Start.UTC().Hour()
		switch {
		case !r.RespondedAt.IsZero():
			business = append(business, r.BusinessSeconds)
			wall = append(wall, r.WallSeconds)
			hourly[h] = append(hourly[h], r.BusinessSeconds)
		case r.State != sla.Closed:
			d.Hours[h].Waiting++
		}
	}
	if n := d.SLAMet + d.SLABreached; n > 0 {
		pct := 100 * float64(d.SLAMet) / float64(n)
		d.CompliancePct = &pct
	}
	d.FRTBusiness, d.FRTWall = summarise(business), summarise(wall)
	for h, xs := range hourly {
		d.Hours[h].FRT = summarise(xs)
	}

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

// acceptedOutcomes are the outcomes that end an accepted webhook's way: each
// accepted webhook has one such entry, but for a redriven message's, whose
// webhook was counted at its dead letter (as the day's counters count it).
var acceptedOutcomes = []string{store.DeliveryProcessed, store.DeliveryDuplicate, store.DeliveryInvalid, store.DeliveryDeadLettered}

// readHours fills the webhook series of d.Hours from the delivery log, which
// keeps every webhook the pipeline accepted with the time the edge took it
// and the time of each outcome: accepted webhooks by the hour they came,
// events processed by the hour they completed. The day's counters have only
// totals, since hourly counters on their one item would make every write of
// it dearer as the day goes on (docs/cost.md). Rejected and refused requests
// leave no entry: they are in the totals only.
//
// The log is read from the day's start to the generation time, newest
// first, so that a webhook of the day processed after it (queued at
// midnight, redriven later) is counted, as its counters count it. A day
// older than the log's retention, or with more entries than src.LogLimit
// to read, gets a note instead of a series.
func readHours(ctx context.Context, src Source, d *Data, start, now time.Time) error {
	if start.Before(now.Add(-store.DeliveryRetention)) {
		d.HourlyNote = fmt.Sprintf("Hourly webhook figures are not available for this day: they come from the delivery log, which keeps %d days. The report has the day's totals.",
			int(store.DeliveryRetention.Hours()/24))
		return nil
	}
	end := start.Add(24 * time.Hour)
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	var hours [24]Hour
	read, limit := 0, src.logLimit()
	q := store.DeliveryQuery{Since: start, Limit: store.MaxDeliveryPage}
	for {
		page, err := src.Store.Deliveries(ctx, q)
		if err != nil {
			return fmt.Errorf("read the delivery log: %w", err)
		}
		for _, e := range page.Deliveries {
			if e.Outcome == store.DeliveryProcessed && in(e.At) {
				hours[e.At.UTC().Hour()].Processed++
			}
			received := e.ReceivedAt
			if received.IsZero() {
				received = e.At // as the processor counts a message without its receipt time
			}
			if !e.Redriven && slices.Contains(acceptedOutcomes, e.Outcome) && in(received) {
				hours[received.UTC().Hour()].Accepted++
			}
		}
		read += len(page.Deliveries)
		if page.Next == "" {
			break
		}
		if read >= limit {
			d.HourlyNote = fmt.Sprintf("Hourly webhook figures are not available for this day: the delivery log has more than %d entries to read for it. The report has the day's totals.", limit)
			return nil
		}
		q.Cursor = page.Next
	}
	var total int64
	for h := range hours {
		d.Hours[h].Accepted, d.Hours[h].Processed = hours[h].Accepted, hours[h].Processed
		total += hours[h].Accepted + hours[h].Processed
	}
	if total == 0 && d.Counters[stats.Accepted]+d.Counters[stats.Processed] > 0 {
		d.HourlyNote = "Hourly webhook figures are not available for this day: the delivery log holds none of its webhooks (they came before it existed). The report has the day's totals."
		return nil
	}
	d.Hourly = true
	return nil
}

// AlertKind is the kind of day records that queue monitoring files.
const AlertKind = "alert"

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

// Write builds the report for day, renders it and its chart and stores
// both, the chart first so that the report never links a missing image,
// and returns the report's key.
func Write(ctx context.Context, src Source, dst Bucket, day string) (string, error) {
	d, err := Build(ctx, src, day)
	if err != nil {
		return "", err
	}
	if err := dst.Put(ctx, ChartKey(day), Chart(d), "image/svg+xml"); err != nil {
		return "", fmt.Errorf("write %s: %w", ChartKey(day), err)
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
