// Package metrics writes CloudWatch Embedded Metric Format (EMF): JSON log
// lines that CloudWatch Logs turns into metrics, so a Lambda function reports
// metrics by writing to stdout, with no API call on the hot path.
//
// Every metric has the one dimension Service (the stack's alarms and
// dashboard read exactly that); the function name is a property. Dimensions
// multiply metrics and cost, so nothing with many values (conversation,
// account, delivery ids) is ever a dimension; rejection reasons go into the
// line as a property, searchable in Logs Insights but not a metric of their own.
package metrics

import (
	"supportpipe/internal/ops/stats"

	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of all metrics.
const Namespace = "SupportPipeline"

// Service is the value of the Service dimension.
const Service = "supportpipe"

// Metric names: the daily counter names of package stats, so the alarms,
// the dashboard and the daily report speak of the same things.
const (
	ProcessingTime = "processing_ms" // per message
	Processed      = stats.Processed
	Duplicates     = stats.Duplicates
	Redelivered    = "redelivered"
	Retries        = stats.Retried
	Failures       = stats.Failed // failed attempts: retries plus the last one
	DeadLettered   = stats.DeadLettered
	Rejected       = stats.Rejected
	// Of the sweeper's spool drain: the age of the oldest event left in the
	// spool (0 when empty), sends that failed, events given up to the DLQ.
	SpoolOldestAge   = "spool_oldest_age_seconds"
	SpoolFailures    = "spool_drain_failures"
	SpoolDeadLetters = "spool_dead_lettered"
	// Of the drafter: the time from a draft request's receipt to its
	// outcome, and its outcomes' counts (stats' counter names).
	DraftTime     = "draft_ms"
	DraftsMade    = stats.DraftsMade
	DraftsSkipped = stats.DraftsSkipped
	DraftsFailed  = stats.DraftsFailed
	InputTokens   = stats.DraftInputTokens
	OutputTokens  = stats.DraftOutputTokens
)

// ReasonsProperty is the property holding rejections per reason.
const ReasonsProperty = "RejectedReasons"

// maxValues is EMF's limit of values for one metric in one line.
const maxValues = 100

// outcomeCounts maps the processor's outcomes to the counts they add to.
var outcomeCounts = map[string][]string{
	"processed":     {Processed},
	"duplicate":     {Duplicates},
	"redelivered":   {Redelivered},
	"retry":         {Retries, Failures},
	"dead_lettered": {DeadLettered, Failures},
}

// Recorder collects measurements and writes them as EMF on Flush. It is safe
// for concurrent use.
type Recorder struct {
	w        io.Writer
	function string
	now      func() time.Time

	mu      sync.Mutex
	times   map[string][]float64 // milliseconds, by metric
	counts  map[string]int64
	reasons map[string]int64
	gauges  map[string]float64
}

// New returns a recorder writing to w (stdout on Lambda) for the function.
func New(w io.Writer, function string) *Recorder {
	return &Recorder{w: w, function: function, now: time.Now, counts: map[string]int64{}, reasons: map[string]int64{}}
}

// Message records one message the processor handled: its processing time,
// and a count for its outcome (one of "processed", "duplicate",
// "redelivered", "retry", "dead_lettered"; another adds the time only).
func (r *Recorder) Message(outcome string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.duration(ProcessingTime, d)
	for _, name := range outcomeCounts[outcome] {
		r.counts[name]++
	}
}

// Duration records one value of a time metric (e.g. DraftTime).
func (r *Recorder) Duration(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.duration(name, d)
}

func (r *Recorder) duration(name string, d time.Duration) {
	if r.times == nil {
		r.times = map[string][]float64{}
	}
	r.times[name] = append(r.times[name], math.Round(float64(d)/float64(time.Microsecond))/1000)
}

// Reject records a webhook rejected for reason (e.g. "bad_signature").
func (r *Recorder) Reject(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[Rejected]++
	r.reasons[reason]++
}

// Count adds n to a counter metric (stats.Received, stats.Accepted, …).
func (r *Recorder) Count(name string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[name] += n
}

// Gauge records the value of a measurement taken now (e.g. the age in
// seconds of the oldest spooled event); the last value before Flush wins.
func (r *Recorder) Gauge(name string, value float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gauges == nil {
		r.gauges = map[string]float64{}
	}
	r.gauges[name] = value
}

type metric struct {
	Name string
	Unit string
}

type directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []metric
}

type meta struct {
	Timestamp         int64
	CloudWatchMetrics []directive
}

// Flush writes what was recorded since the last flush as one JSON line, and
// forgets it. Counts are summed; times are listed, and beyond
// EMF's 100 values per metric further lines carry the rest. Nothing recorded
// writes nothing. If writing fails, the values are lost: retrying a broken
// log stream within one invocation would not help.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.times) == 0 && len(r.counts) == 0 && len(r.gauges) == 0 {
		return nil
	}
	times, counts, reasons, gauges := r.times, r.counts, r.reasons, r.gauges
	r.times, r.counts, r.reasons, r.gauges = nil, map[string]int64{}, map[string]int64{}, nil

	ts := r.now().UnixMilli()
	names := slices.Sorted(maps.Keys(times))
	for first := true; first || len(times) > 0; first = false {
		line := map[string]any{"Service": Service, "Function": r.function}
		var ms []metric
		for _, name := range names {
			vs := times[name]
			if len(vs) == 0 {
				continue
			}
			n := min(len(vs), maxValues)
			line[name] = vs[:n]
			ms = append(ms, metric{name, "Milliseconds"})
			if times[name] = vs[n:]; len(times[name]) == 0 {
				delete(times, name)
			}
		}
		if first {
			for _, name := range slices.Sorted(maps.Keys(counts)) {
				line[name] = counts[name]
				ms = append(ms, metric{name, "Count"})
			}
			for _, name := range slices.Sorted(maps.Keys(gauges)) {
				line[name] = gauges[name]
				ms = append(ms, metric{name, "None"})
			}
			if len(reasons) > 0 {
				line[ReasonsProperty] = reasons
			}
		}
		line["_aws"] = meta{Timestamp: ts, CloudWatchMetrics: []directive{{
			Namespace: Namespace, Dimensions: [][]string{{"Service"}}, Metrics: ms,
		}}}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("metrics: encode: %w", err)
		}
		if _, err := r.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("metrics: write: %w", err)
		}
	}
	return nil
}
