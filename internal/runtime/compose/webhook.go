package compose

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/edge"
)

// WebhookOptions are the edge's own adapters.
type WebhookOptions struct {
	Verifier *chatwoot.Verifier
	Queue    edge.Queue
	Spool    edge.Spool        // optional
	Account  int64             // default account id
	Metrics  *metrics.Recorder // optional
}

// Webhook builds the webhook function's handler. Counts reach the store
// before each response returns, so a frozen or recycled instance keeps none.
func (d *Deps) Webhook(o WebhookOptions) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	rec := stats.NewRecorder(d.Store)
	rec.MarkEvery = time.Minute
	h := &edge.Handler{
		Verifier: o.Verifier, Queue: o.Queue, Claims: d.Claims, Spool: o.Spool, Counters: rec, Log: d.Log, Now: d.Now,
		// SDK retries included, so that with the spool write the request stays under 3 s.
		EnqueueTimeout: 1200 * time.Millisecond, DefaultAccount: o.Account,
		Replays:    edge.NewReplayCache(2*chatwoot.DefaultTolerance, 10_000),
		OnAccepted: func(t time.Time) { rec.Mark(MarkLastAccepted, t) },
	}
	if o.Metrics != nil {
		h.Metrics = o.Metrics
	}
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := h.Handle(ctx, req)
		// A failure here costs a count, never the event, which is already durable.
		if ferr := rec.Flush(ctx); ferr != nil {
			d.Log.Error("counters not written", "error", ferr)
		}
		if o.Metrics != nil {
			_ = o.Metrics.Flush()
		}
		return resp, err
	}
}

// ProcessorHandler builds the processor function's handler, with the
// support stages, flushing its metrics after each batch.
func (d *Deps) ProcessorHandler(m *metrics.Recorder) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	d.Metrics = m
	p := d.Processor()
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp, err := p.Handle(ctx, ev)
		_ = m.Flush()
		return resp, err
	}
}
