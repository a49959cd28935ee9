package lambdaenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/report"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/drafting/providers"
)

// HTTPHandler is a Lambda handler behind API Gateway's HTTP API (payload 2.0).
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Webhook is the webhook function's handler. It neither calls Chatwoot nor
// may read its token. Counts and metrics reach the store and the log before
// each answer, so a frozen or recycled instance keeps none; a failure there
// costs a count, never the event, which is already durable.
func (e *Env) Webhook(ctx context.Context) (HTTPHandler, error) {
	secret, err := e.Secret(ctx, "CHATWOOT_WEBHOOK_SECRET_ARN", "CHATWOOT_WEBHOOK_SECRET")
	if err != nil {
		return nil, err
	}
	secrets, err := chatwoot.ParseSecrets(secret)
	if err != nil {
		return nil, err
	}
	p, err := e.pipeline(ctx, false)
	if err != nil {
		return nil, err
	}
	return WebhookHandler(p, secrets, metrics.New(os.Stdout, "webhook")), nil
}

// WebhookHandler is the webhook function's handler on p, writing its
// metrics to m.
func WebhookHandler(p *compose.Pipeline, secrets []string, m *metrics.Recorder) HTTPHandler {
	counters := stats.NewBuffer(p.Store)
	counters.MarkEvery = time.Minute
	h := p.Edge(secrets, counters, m)
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := h.Handle(ctx, req)
		if ferr := counters.Flush(ctx); ferr != nil {
			p.Log.Error("counters not written", "error", ferr)
		}
		_ = m.Flush()
		return resp, err
	}
}

// SQSHandler is an SQS-triggered function's handler.
type SQSHandler = func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Processor is the SQS-triggered function's handler: the processor on the
// batch, its failed records reported as partial batch failures.
func (e *Env) Processor(ctx context.Context) (SQSHandler, error) {
	p, err := e.escalating(ctx)
	if err != nil {
		return nil, err
	}
	tagger, scorer, err := compose.Classifiers(e.Settings.File)
	if err != nil {
		return nil, err
	}
	m := metrics.New(os.Stdout, "processor")
	return QueueHandler(p.Processor(tagger, scorer, m), m), nil
}

// Drafter is the drafts queue's function: suggested replies from the
// configured provider, posted in Chatwoot. openBedrock is bedrock.Open,
// given by the drafter's main so that no other function links Bedrock's
// client.
func (e *Env) Drafter(ctx context.Context, openBedrock func(context.Context, *aws.Config, string, string) (llm.Model, error)) (SQSHandler, error) {
	if e.drafts == nil {
		return nil, fmt.Errorf("environment variables SUPPORT_DRAFTS_QUEUE_URL and SUPPORT_DRAFTS_DLQ_URL are not set")
	}
	p, err := e.pipeline(ctx, true)
	if err != nil {
		return nil, err
	}
	key := ""
	if e.Settings.File.Drafting.Provider == drafting.OpenAI {
		if key, err = e.Secret(ctx, providers.OpenAIKeyARNEnv, providers.OpenAIKeyEnv); err != nil {
			return nil, err
		}
	}
	provider, err := compose.DraftingProvider(ctx, e.Settings,
		providers.Deps{Chatwoot: p.Chatwoot, AWS: &e.AWS, OpenAIKey: key, Bedrock: openBedrock, Log: p.Log})
	if err != nil {
		return nil, err
	}
	m := metrics.New(os.Stdout, "drafter")
	return QueueHandler(p.Drafter(provider, e.drafts, m), m), nil
}

// Consumer is what a queue's function runs on a batch: the processor or
// the drafter. It returns the ids of the messages to retry.
type Consumer interface {
	Process(ctx context.Context, msgs []queue.Message) (failed []string)
}

// QueueHandler is an SQS-triggered function's handler on c, its failed
// records reported as partial batch failures, writing the metrics c
// recorded in m after each batch.
func QueueHandler(c Consumer, m *metrics.Recorder) SQSHandler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		msgs := make([]queue.Message, len(ev.Records))
		for i, r := range ev.Records {
			msgs[i] = Message(r)
		}
		var resp events.SQSEventResponse
		for _, id := range c.Process(ctx, msgs) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		_ = m.Flush()
		return resp, nil
	}
}

// Message is the queue message an SQS event record carries.
func Message(r events.SQSMessage) queue.Message {
	m := queue.Message{ID: r.MessageId, ReceiptHandle: r.ReceiptHandle, Body: []byte(r.Body), Attributes: map[string]string{}}
	for k, v := range r.MessageAttributes {
		if v.StringValue != nil {
			m.Attributes[k] = *v.StringValue
		}
	}
	if n, err := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); err == nil {
		m.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64); err == nil {
		m.SentAt = time.UnixMilli(ms).UTC()
	}
	return m
}

// Record is the SQS event record the event source mapping makes of m: what
// Message reads back (tests and the cost measurement feed the handler with it).
func Record(m queue.Message) events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(m.Attributes))
	for k, v := range m.Attributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{
		MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, Body: string(m.Body), MessageAttributes: attrs, EventSource: "aws:sqs",
		Attributes: map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
			"SentTimestamp":           strconv.FormatInt(m.SentAt.UnixMilli(), 10),
		},
	}
}

// API is the read API function's handler (health cached per instance).
func (e *Env) API(ctx context.Context) (HTTPHandler, error) {
	token, err := e.Secret(ctx, "SUPPORT_API_TOKEN_ARN", "SUPPORT_API_TOKEN")
	if err != nil {
		return nil, err
	}
	p, err := e.pipeline(ctx, true)
	if err != nil {
		return nil, err
	}
	return p.API(token, p.Health()).Handle, nil
}

// Report is the daily report function's handler: the previous UTC day of
// the scheduled time, or the day an event's detail names
// ({"date":"YYYY-MM-DD"}).
func (e *Env) Report(ctx context.Context) (func(context.Context, events.EventBridgeEvent) (map[string]string, error), error) {
	p, err := e.pipeline(ctx, false)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev events.EventBridgeEvent) (map[string]string, error) {
		day := report.Yesterday(scheduled(ev))
		var detail struct {
			Date string `json:"date"`
		}
		if json.Unmarshal(ev.Detail, &detail) == nil && detail.Date != "" {
			day = detail.Date
		}
		key, err := p.WriteReport(ctx, day)
		if err != nil {
			return nil, err
		}
		return map[string]string{"key": key}, nil
	}, nil
}

// Sweeper is the every-minute function's handler: one round of the jobs,
// whose spool figures become the metrics its alarms read.
func (e *Env) Sweeper(ctx context.Context) (func(context.Context, events.EventBridgeEvent) (compose.Round, error), error) {
	p, err := e.escalating(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev events.EventBridgeEvent) (compose.Round, error) {
		r := p.Jobs(ctx, scheduled(ev))
		m := metrics.New(os.Stdout, "sweeper")
		m.Count(metrics.SpoolFailures, int64(r.SpoolFailed))
		m.Count(metrics.SpoolDeadLetters, int64(r.SpoolDeadLettered))
		m.Gauge(metrics.SpoolOldestAge, r.SpoolOldest.Seconds())
		_ = m.Flush()
		return r, nil
	}, nil
}

// scheduled is the time EventBridge scheduled ev for, or now.
func scheduled(ev events.EventBridgeEvent) time.Time {
	if ev.Time.IsZero() {
		return time.Now()
	}
	return ev.Time
}
