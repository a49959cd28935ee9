package awscost

import (
	"fmt"
	"io"
)

// List prices, us-east-1, on-demand, arm64 Lambda; free tiers ignored.
const (
	PriceHTTPAPIRequest = 1.00 / 1e6
	PriceLambdaRequest  = 0.20 / 1e6
	PriceLambdaGBs      = 0.0000133334 // arm64
	PriceSQSRequest     = 0.40 / 1e6   // per 64 KB chunk
	PriceWRU            = 0.625 / 1e6
	PriceRRU            = 0.125 / 1e6
	PriceLogsGB         = 0.50
	PriceXRayRecorded   = 5.00 / 1e6    // per trace
	PriceXRayScanned    = 0.50 / 1e6    // per trace retrieved or scanned
	PriceS3Write        = 0.005 / 1000  // PUT, COPY, POST, LIST; DELETE is free
	PriceS3Read         = 0.0004 / 1000 // GET and the other requests
	PriceS3GBMonth      = 0.023         // S3 Standard, first 50 TB

	// Monthly: a metric alarm per metric it reads (standard resolution,
	// or high for periods under a minute); a custom metric, first 10,000.
	PriceAlarmMonth        = 0.10
	PriceHighResAlarmMonth = 0.30
	PriceMetricMonth       = 0.30
	PriceDashboardMonth    = 3.00
	PriceSecretMonth       = 0.40
	PriceKMSKeyMonth       = 1.00
	HoursPerMonth          = 730 // AWS's pricing month
	secondsPerMonth        = HoursPerMonth * 3600
	daysPerMonth           = HoursPerMonth / 24.0
)

// Deployment is what the stack configures and what is estimated rather
// than measured: the functions' memory and time per request or batch, and
// the log bytes written per webhook.
type Deployment struct {
	WebhookMB, ProcessorMB, DrafterMB int
	WebhookMs                         float64 // per request
	ProcessorMs                       float64 // per batch
	DrafterMs                         float64 // per batch
	// WebhookTraced and ProcessorTraced are the functions with active
	// tracing. XRaySampled is the share of their invocations X-Ray records
	// on top of the sampling rule's reservoir (Lambda's rule is one a
	// second plus 5 %); the reservoir is bounded by time, not traffic, and
	// Monthly prices it.
	WebhookTraced, ProcessorTraced, DrafterTraced bool
	XRaySampled                                   float64
	// XRayScans is how often a recorded trace is scanned by a search.
	XRayScans float64
	// ClaimKeptDays is how long a released claim-checked body stays as a
	// noncurrent version in the versioned bucket, AccessLogDays how long
	// the bucket's access logs are kept (infra/stack's lifecycle rules).
	ClaimKeptDays, AccessLogDays float64
}

// DefaultDeployment matches infra/stack (memory, tracing, lifecycle) and
// the figures of docs/benchmarks.md (durations on Lambda are estimates from
// the warm invocations under the emulator, plus DynamoDB round trips). The
// drafter's batch waits on Chatwoot: posting the note and reading the
// conversation's recent messages, ~200 ms each, one after the other, and
// its requests run at once; retrieval takes milliseconds, a model more
// (docs/cost.md).
var DefaultDeployment = Deployment{WebhookMB: 128, ProcessorMB: 512, DrafterMB: 256, WebhookMs: 20, ProcessorMs: 250, DrafterMs: 500,
	WebhookTraced: true, ProcessorTraced: true, DrafterTraced: true, XRaySampled: 0.05, XRayScans: 1, ClaimKeptDays: 7, AccessLogDays: 90}

// AccessLogExample is API Gateway's access log line (infra/stack's
// accessLogFormat) for an accepted webhook; CloudWatch Logs bills each event
// at its size plus LogEventOverhead bytes.
const (
	AccessLogExample = `{"requestId":"Zk3jHhVfoAMEbXw=",` +
		`"route":"POST /webhooks/chatwoot","status":"202","latencyMs":"23","error":"-"}`
	LogEventOverhead = 26
)

// S3AccessLogExample is the record S3 writes to the access-log bucket for
// a request to the data bucket (here the processor reading a claim-checked
// body); the delivery is free, the stored records are billed.
const S3AccessLogExample = `79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be supportstack-bucket83908e77-1x2y3z4w5v6u ` +
	`[06/Dec/2026:21:46:39 +0000] 10.0.12.34 arn:aws:sts::123456789012:assumed-role/SupportStack-ProcessorRole1A2B3C4D-AbCdEfGhIjKl/` +
	`SupportStack-ProcessorFunctionE1AA307D-MnOpQrStUvWx 3E57427F3EXAMPLE REST.GET.OBJECT ` +
	`claims/2026-12-06/0b9f3c1e-6a7d-4f2b-9c1e-2d3f4a5b6c7d "GET /claims/2026-12-06/0b9f3c1e-6a7d-4f2b-9c1e-2d3f4a5b6c7d?x-id=GetObject HTTP/1.1" ` +
	`200 - 1348211 1348211 41 40 "-" "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.0 md/GOOS#linux md/GOARCH#arm64 api/s3#1.114.10 m/E,Z" ` +
	`Vx3ELOcQ1aZ2oL8fDBq6RDUO0EXAMPLE s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ` +
	`TLS_AES_128_GCM_SHA256 AuthHeader supportstack-bucket83908e77-1x2y3z4w5v6u.s3.us-east-1.amazonaws.com TLSv1.3 - -`

// s3RequestPrice is what S3 bills for one request of an operation.
func s3RequestPrice(op string) float64 {
	switch op {
	case "DeleteObject", "DeleteObjects":
		return 0
	case "PutObject", "ListObjectsV2", "CreateBucket":
		return PriceS3Write
	}
	return PriceS3Read
}

// Line is one priced row.
type Line struct {
	Item    string
	Units   string
	Dollars float64 // per million webhooks
}

// Price turns a measured run into the cost per million webhooks.
func Price(r Result, d Deployment) []Line {
	per := 1e6 / float64(r.Webhooks) // scale to a million webhooks
	gbs := func(mb int, ms float64, n float64) float64 { return float64(mb) / 1024 * ms / 1000 * n }
	batches := float64(r.Batches) * per
	// The event source mapping receives and deletes in batches: one of each
	// per batch.
	sqs := float64(r.QueueSends)*per + 2*batches
	// The functions' lines, and API Gateway's access line per request, each
	// billed with the per-event overhead.
	logBytes := float64(r.IngestLogs.Bytes + r.ProcessingLogs.Bytes + LogEventOverhead*(r.IngestLogs.Lines+r.ProcessingLogs.Lines) +
		r.Webhooks*(len(AccessLogExample)+LogEventOverhead))
	// The claim check: requests, and the released bodies kept as
	// noncurrent versions; every request leaves an access-log record.
	s3 := map[string]int{}
	var s3Dollars float64
	for _, u := range []S3Usage{r.IngestS3, r.ProcessingS3} {
		for op, n := range u.Requests {
			s3[op] += n
			s3Dollars += float64(n) * per * s3RequestPrice(op)
		}
		s3Dollars += float64(u.PutBytes) * per / 1e9 * d.ClaimKeptDays / daysPerMonth * PriceS3GBMonth
	}
	records := float64(r.IngestS3.Total()+r.ProcessingS3.Total()) * per
	var invocations float64
	if d.WebhookTraced {
		invocations += float64(r.Webhooks) * per
	}
	if d.ProcessorTraced {
		invocations += batches
	}
	traces := invocations * d.XRaySampled
	// The last-accepted mark is written at most once a minute per webhook
	// instance, whatever the traffic: Monthly prices it, not the webhooks.
	ingestWRU := r.Ingest.WRU - r.Ingest.Items[MarkItem]
	return []Line{
		{"API Gateway HTTP API", fmt.Sprintf("%.2fM requests", float64(r.Webhooks)*per/1e6), float64(r.Webhooks) * per * PriceHTTPAPIRequest},
		{"webhook Lambda", fmt.Sprintf("%.2fM × %d MB × %.0f ms", 1.0, d.WebhookMB, d.WebhookMs),
			1e6*PriceLambdaRequest + gbs(d.WebhookMB, d.WebhookMs, 1e6)*PriceLambdaGBs},
		{"SQS events queue", fmt.Sprintf("%.2fM requests (send, batched receive and delete)", sqs/1e6), sqs * PriceSQSRequest},
		{"processor Lambda", fmt.Sprintf("%.0f batches × %d MB × %.0f ms", batches, d.ProcessorMB, d.ProcessorMs),
			batches*PriceLambdaRequest + gbs(d.ProcessorMB, d.ProcessorMs, batches)*PriceLambdaGBs},
		{"SQS drafts queue", fmt.Sprintf("%.2fM sends", float64(r.DraftSends)*per/1e6), float64(r.DraftSends) * per * PriceSQSRequest},
		{"DynamoDB writes, webhook", fmt.Sprintf("%.2f WRU per webhook (the last-accepted mark, by time: monthly)", ingestWRU/float64(r.Webhooks)),
			ingestWRU * per * PriceWRU},
		{"DynamoDB writes, processor", fmt.Sprintf("%.2f WRU per webhook (index %.2f)", r.Processing.WRU/float64(r.Webhooks), r.Processing.IndexWRU/float64(r.Webhooks)), r.Processing.WRU * per * PriceWRU},
		{"DynamoDB reads", fmt.Sprintf("%.2f RRU per webhook", (r.Ingest.RRU+r.Processing.RRU)/float64(r.Webhooks)), (r.Ingest.RRU + r.Processing.RRU) * per * PriceRRU},
		{"CloudWatch Logs", fmt.Sprintf("%.0f B per webhook (access log, JSON logs, EMF)", logBytes/float64(r.Webhooks)), logBytes * per / 1e9 * PriceLogsGB},
		{"X-Ray", fmt.Sprintf("%.0f traces recorded and scanned (%.0f %% of %.2fM invocations)", traces, 100*d.XRaySampled, invocations/1e6),
			traces * (PriceXRayRecorded + d.XRayScans*PriceXRayScanned)},
		{"S3 claim check", fmt.Sprintf("%.0f PUT, %.0f GET, %.0f DELETE (bodies over 1 MiB)",
			float64(s3["PutObject"])*per, float64(s3["GetObject"])*per, float64(s3["DeleteObject"])*per), s3Dollars},
		{"S3 access logs", fmt.Sprintf("%.0f records (delivery free, kept %.0f days)", records, d.AccessLogDays),
			records * float64(len(S3AccessLogExample)+1) / 1e9 * d.AccessLogDays / daysPerMonth * PriceS3GBMonth},
	}
}

// MarkItem is the kind (Usage.Items) of the store's marks, such as the
// last-accepted mark the webhook function writes once a minute.
const MarkItem = "MARK/MARK"

// PriceDrafting turns the drafter's part of a measured run into its cost
// per million draft requests: its invocations, the drafts queue's
// receives and deletes (the sends are the processor's, in Price), its
// DynamoDB use, its logs and its traces. A model's tokens are not AWS's
// to bill here (docs/cost.md estimates them).
func PriceDrafting(r Result, d Deployment) []Line {
	if r.DraftRequests == 0 {
		return nil
	}
	per := 1e6 / float64(r.DraftRequests) // scale to a million draft requests
	batches := float64(r.DraftBatches) * per
	gbs := float64(d.DrafterMB) / 1024 * d.DrafterMs / 1000 * batches
	logBytes := float64(r.DraftingLogs.Bytes+LogEventOverhead*r.DraftingLogs.Lines) * per
	var traces float64
	if d.DrafterTraced {
		traces = batches * d.XRaySampled
	}
	n := float64(r.DraftRequests)
	return []Line{
		{"drafter Lambda", fmt.Sprintf("%.0f batches (%.1f requests each) × %d MB × %.0f ms", batches, n/float64(r.DraftBatches), d.DrafterMB, d.DrafterMs),
			batches*PriceLambdaRequest + gbs*PriceLambdaGBs},
		{"SQS drafts queue, drafter", fmt.Sprintf("%.2fM requests (batched receive and delete)", 2*batches/1e6), 2 * batches * PriceSQSRequest},
		{"DynamoDB writes, drafter", fmt.Sprintf("%.2f WRU per request", r.Drafting.WRU/n), r.Drafting.WRU * per * PriceWRU},
		{"DynamoDB reads, drafter", fmt.Sprintf("%.2f RRU per request", r.Drafting.RRU/n), r.Drafting.RRU * per * PriceRRU},
		{"CloudWatch Logs, drafter", fmt.Sprintf("%.0f B per request (JSON logs, EMF)", logBytes/1e6), logBytes / 1e9 * PriceLogsGB},
		{"X-Ray, drafter", fmt.Sprintf("%.0f traces recorded and scanned (%.0f %% of its invocations)", traces, 100*d.XRaySampled),
			traces * (PriceXRayRecorded + d.XRayScans*PriceXRayScanned)},
	}
}

// PrintDrafting writes PriceDrafting's lines as a Markdown table, per
// million draft requests and per million webhooks of the run's traffic.
func PrintDrafting(w io.Writer, lines []Line, r Result) {
	share := float64(r.DraftRequests) / float64(r.Webhooks)
	fmt.Fprintf(w, "| piece | per million draft requests | $ | $ per million webhooks (%.3f requests each) |\n", share)
	fmt.Fprintln(w, "|---|---|---:|---:|")
	for _, l := range lines {
		fmt.Fprintf(w, "| %s | %s | %.2f | %.3f |\n", l.Item, l.Units, l.Dollars, l.Dollars*share)
	}
	fmt.Fprintf(w, "| **total** | | **%.2f** | **%.3f** |\n", Total(lines), Total(lines)*share)
}

// Total adds the lines up.
func Total(lines []Line) float64 {
	t := 0.0
	for _, l := range lines {
		t += l.Dollars
	}
	return t
}

// Print writes the lines as a Markdown table.
func Print(w io.Writer, lines []Line) {
	fmt.Fprintln(w, "| piece | per million webhooks | $ |")
	fmt.Fprintln(w, "|---|---|---:|")
	for _, l := range lines {
		fmt.Fprintf(w, "| %s | %s | %.2f |\n", l.Item, l.Units, l.Dollars)
	}
	fmt.Fprintf(w, "| **total** | | **%.2f** |\n", Total(lines))
}

// PrintMonthly writes Monthly's lines as a Markdown table: the fixed
// prices and their total, then the ceilings.
func PrintMonthly(w io.Writer, fixed, upTo []Line) {
	fmt.Fprintln(w, "| piece | a month | $ |")
	fmt.Fprintln(w, "|---|---|---:|")
	for _, l := range fixed {
		fmt.Fprintf(w, "| %s | %s | %.2f |\n", l.Item, l.Units, l.Dollars)
	}
	fmt.Fprintf(w, "| **fixed total** | | **%.2f** |\n", Total(fixed))
	for _, l := range upTo {
		fmt.Fprintf(w, "| %s | up to %s | ≤ %.2f |\n", l.Item, l.Units, l.Dollars)
	}
}
