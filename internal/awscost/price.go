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
)

// Deployment is what the stack configures and what is estimated rather
// than measured: the functions' memory and time per request or batch, and
// the log bytes written per webhook.
type Deployment struct {
	WebhookMB, ProcessorMB int
	WebhookMs              float64 // per request
	ProcessorMs            float64 // per batch
}

// DefaultDeployment matches infra/stack (memory) and the figures of
// docs/benchmarks.md (durations on Lambda are estimates from the warm
// invocations under the emulator, plus DynamoDB round trips).
var DefaultDeployment = Deployment{WebhookMB: 128, ProcessorMB: 512, WebhookMs: 20, ProcessorMs: 250}

// AccessLogExample is API Gateway's access log line (infra/stack's
// accessLogFormat) for an accepted webhook; CloudWatch Logs bills each event
// at its size plus LogEventOverhead bytes.
const (
	AccessLogExample = `{"requestId":"Zk3jHhVfoAMEbXw=","time":"1796004781123",` +
		`"route":"POST /webhooks/chatwoot","status":"202","latencyMs":"23","error":"-"}`
	LogEventOverhead = 26
)

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
	return []Line{
		{"API Gateway HTTP API", fmt.Sprintf("%.2fM requests", float64(r.Webhooks)*per/1e6), float64(r.Webhooks) * per * PriceHTTPAPIRequest},
		{"webhook Lambda", fmt.Sprintf("%.2fM × %d MB × %.0f ms", 1.0, d.WebhookMB, d.WebhookMs),
			1e6*PriceLambdaRequest + gbs(d.WebhookMB, d.WebhookMs, 1e6)*PriceLambdaGBs},
		{"SQS events queue", fmt.Sprintf("%.2fM requests (send, batched receive and delete)", sqs/1e6), sqs * PriceSQSRequest},
		{"processor Lambda", fmt.Sprintf("%.0f batches × %d MB × %.0f ms", batches, d.ProcessorMB, d.ProcessorMs),
			batches*PriceLambdaRequest + gbs(d.ProcessorMB, d.ProcessorMs, batches)*PriceLambdaGBs},
		{"SQS drafts queue", fmt.Sprintf("%.2fM sends", float64(r.DraftSends)*per/1e6), float64(r.DraftSends) * per * PriceSQSRequest},
		{"DynamoDB writes, webhook", fmt.Sprintf("%.2f WRU per webhook", r.Ingest.WRU/float64(r.Webhooks)), r.Ingest.WRU * per * PriceWRU},
		{"DynamoDB writes, processor", fmt.Sprintf("%.2f WRU per webhook (index %.2f)", r.Processing.WRU/float64(r.Webhooks), r.Processing.IndexWRU/float64(r.Webhooks)), r.Processing.WRU * per * PriceWRU},
		{"DynamoDB reads", fmt.Sprintf("%.2f RRU per webhook", (r.Ingest.RRU+r.Processing.RRU)/float64(r.Webhooks)), (r.Ingest.RRU + r.Processing.RRU) * per * PriceRRU},
		{"CloudWatch Logs", fmt.Sprintf("%.0f B per webhook (access log, JSON logs, EMF)", logBytes/float64(r.Webhooks)), logBytes * per / 1e9 * PriceLogsGB},
	}
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
