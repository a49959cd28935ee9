// Package stats names the pipeline's daily counters and turns the processing
// time histogram, stored as counters, into percentiles.
package stats

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Counter names. Rejections are also counted per reason as "rejected.<reason>".
const (
	Received = "received"
	Accepted = "accepted"
	Rejected = "rejected"
	Ignored  = "ignored"
	Spooled  = "spooled"
	// Refused counts webhooks that may have been authentic and were not
	// kept: too large to read, or the queue and the spool both failed.
	// Chatwoot does not retry them; reconciliation is their only way back.
	Refused = "refused"
	// InvalidPayload counts authentic webhooks the decoder cannot use,
	// kept in the DLQ for review (also counted as dead-lettered).
	InvalidPayload = "invalid_payload"
	// AccountMismatch counts webhooks whose path names another account
	// than the signed payload (a misconfigured URL, or a forged path).
	AccountMismatch = "account_mismatch"
	Duplicates      = "duplicates"
	Processed       = "processed"
	Retried         = "retried"
	Failed          = "failed"
	DeadLettered    = "dead_lettered"
	Redriven        = "redriven"
	SlowMessages    = "processing_over_1s"
	Backfilled      = "backfilled"
	Opened          = "conversations_opened"
	Resolved        = "conversations_resolved"
	Breaches        = "sla_breaches"
	TagPrefix       = "tag."
	RejectedPrefix  = "rejected."
	RefusedPrefix   = "refused."
	InvalidPrefix   = "invalid_payload."

	// Recovered counts events redriven from the DLQ and then completed, on
	// the day they were received, where their dead letter was counted.
	Recovered = "recovered"

	// The drafter's: a suggestion posted, a request it left without one
	// (by reason, "drafts_skipped.<reason>"), a provider or posting that
	// failed, and the tokens models read and wrote. Their names, and its
	// histogram's, begin with "draft": the DynamoDB store keeps them in an
	// item of their own, apart from the one every processor batch writes.
	DraftsMade          = "drafts_made"
	DraftsSkipped       = "drafts_skipped"
	DraftsSkippedPrefix = "drafts_skipped."
	DraftsFailed        = "drafts_failed"
	DraftInputTokens    = "draft_input_tokens"
	DraftOutputTokens   = "draft_output_tokens"

	// BreachEscalationsDropped counts SLA breaches whose escalation had
	// failed when the customer was answered (or the conversation resolved),
	// given up then rather than posted late (docs/reliability.md).
	BreachEscalationsDropped = "sla_breach_escalations_dropped"
)

// Histogram is a latency histogram stored as daily counters, one per
// bucket, named by its prefix.
type Histogram string

// The pipeline's histograms: the processing time of an event, and the
// drafter's time from a request's receipt to its outcome.
const (
	Processing Histogram = "processing_us."
	Drafting   Histogram = "draft_us."
)

// Day is the UTC calendar day of t as YYYY-MM-DD, the counters' partition.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Buckets are log-spaced upper bounds in microseconds, 10 per decade from
// 10 µs to 100 s, so any percentile is known to within ~12 %.
var bucketBounds = func() []float64 {
	var b []float64
	for e := 1.0; e <= 8.0+1e-9; e += 0.1 {
		b = append(b, math.Round(math.Pow(10, e)))
	}
	return b
}()

// Counter is the counter name of the bucket holding d.
func (h Histogram) Counter(d time.Duration) string {
	us := float64(d.Microseconds())
	i := sort.SearchFloat64s(bucketBounds, us)
	if i >= len(bucketBounds) {
		i = len(bucketBounds) - 1
	}
	return string(h) + strconv.Itoa(i)
}

// Percentiles reads the histogram's counters and returns the q-quantiles
// in milliseconds. Each value is the upper bound of the bucket that holds it.
func (h Histogram) Percentiles(c map[string]int64, qs ...float64) []float64 {
	counts := make([]int64, len(bucketBounds))
	var total int64
	for k, v := range c {
		if rest, ok := strings.CutPrefix(k, string(h)); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 0 && i < len(counts) && v > 0 {
				counts[i] += v
				total += v
			}
		}
	}
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	for j, q := range qs {
		rank := int64(math.Ceil(q * float64(total)))
		if rank < 1 {
			rank = 1
		}
		var cum int64
		for i, n := range counts {
			cum += n
			if cum >= rank {
				out[j] = bucketBounds[i] / 1000
				break
			}
		}
	}
	return out
}

// Daily is the contract shape of GET /support/stats.
type Daily struct {
	Date           string           `json:"date"`
	Received       int64            `json:"received"`
	Accepted       int64            `json:"accepted"`
	Rejected       int64            `json:"rejected"`
	Duplicates     int64            `json:"duplicates"`
	Ignored        int64            `json:"ignored"`
	Processed      int64            `json:"processed"`
	Retried        int64            `json:"retried"`
	Failed         int64            `json:"failed"`
	DeadLettered   int64            `json:"dead_lettered"`
	InvalidPayload int64            `json:"invalid_payload"`
	Refused        int64            `json:"refused"`
	Spooled        int64            `json:"spooled"`
	Slow           int64            `json:"processing_over_1s"`
	RejectedBy     map[string]int64 `json:"rejected_by_reason,omitempty"`
	RefusedBy      map[string]int64 `json:"refused_by_reason,omitempty"`
	InvalidBy      map[string]int64 `json:"invalid_payload_by_reason,omitempty"`
	ProcessingMS   Percentile       `json:"processing_ms"`
	Drafts         Drafts           `json:"drafts"`
}

// Drafts is the drafter's day: suggestions posted, requests left without
// one and why, failures, the time from a request's receipt to its outcome,
// and the tokens models used.
type Drafts struct {
	Made         int64            `json:"made"`
	Skipped      int64            `json:"skipped"`
	SkippedBy    map[string]int64 `json:"skipped_by_reason,omitempty"`
	Failed       int64            `json:"failed"`
	LatencyMS    Percentile       `json:"latency_ms"`
	InputTokens  int64            `json:"input_tokens"`
	OutputTokens int64            `json:"output_tokens"`
}

// Percentile is p50/p95/p99 in milliseconds.
type Percentile struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Summarise builds the contract view of one day's counters.
func Summarise(day string, c map[string]int64) Daily {
	p := Processing.Percentiles(c, 0.50, 0.95, 0.99)
	d := Daily{
		Date: day, Received: c[Received], Accepted: c[Accepted], Rejected: c[Rejected],
		Duplicates: c[Duplicates], Ignored: c[Ignored], Processed: c[Processed], Retried: c[Retried],
		Failed: c[Failed], DeadLettered: c[DeadLettered], InvalidPayload: c[InvalidPayload], Refused: c[Refused],
		Spooled: c[Spooled], Slow: c[SlowMessages],
		RejectedBy: ByReason(c, RejectedPrefix), RefusedBy: ByReason(c, RefusedPrefix), InvalidBy: ByReason(c, InvalidPrefix),
		ProcessingMS: Percentile{P50: p[0], P95: p[1], P99: p[2]},
	}
	dp := Drafting.Percentiles(c, 0.50, 0.95, 0.99)
	d.Drafts = Drafts{Made: c[DraftsMade], Skipped: c[DraftsSkipped], SkippedBy: ByReason(c, DraftsSkippedPrefix),
		Failed: c[DraftsFailed], LatencyMS: Percentile{P50: dp[0], P95: dp[1], P99: dp[2]},
		InputTokens: c[DraftInputTokens], OutputTokens: c[DraftOutputTokens]}
	return d
}

// ByReason returns the counters under prefix by the rest of their name,
// or nil when there are none.
func ByReason(c map[string]int64, prefix string) map[string]int64 {
	var out map[string]int64
	for k, v := range c {
		if reason, ok := strings.CutPrefix(k, prefix); ok && v > 0 {
			if out == nil {
				out = map[string]int64{}
			}
			out[reason] = v
		}
	}
	return out
}
