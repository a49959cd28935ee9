// Command webhook is the Lambda behind POST /webhooks/chatwoot: verify,
// enqueue (or spool), acknowledge. The logic is in internal/ingest.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/app"
	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ingest"
	"supportpipe/internal/lambdaenv"
	"supportpipe/internal/metrics"
	"supportpipe/internal/stats"
)

func main() {
	ctx := context.Background()
	env, err := lambdaenv.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	secrets, err := env.Secret(ctx, "CHATWOOT_WEBHOOK_SECRET_ARN", "CHATWOOT_WEBHOOK_SECRET")
	if err != nil {
		log.Fatal(err)
	}
	rec := stats.NewRecorder(env.Store)
	emf := metrics.New(os.Stdout, "webhook")
	h := &ingest.Handler{
		Verifier: chatwoot.NewVerifier(chatwoot.ParseSecrets(secrets), chatwoot.DefaultTolerance),
		Queue:    env.Queue, Spool: env.Spool, Counters: rec, Log: env.Log, Now: time.Now,
		// SDK retries included, so that with the spool write the request stays under 3 s.
		EnqueueTimeout: 1200 * time.Millisecond, DefaultAccount: env.Account,
		Replays:    ingest.NewReplayCache(2*chatwoot.DefaultTolerance, 10_000),
		OnAccepted: func(t time.Time) { rec.Mark(app.MarkLastAccepted, t) },
		Metrics:    emf,
	}
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := h.Handle(ctx, req)
		// Counters go out before the instance may be frozen; a failure here
		// costs a count, never the event, which is already durable.
		if ferr := rec.Flush(ctx); ferr != nil {
			env.Log.Error("counters not written", "error", ferr)
		}
		_ = emf.Flush()
		return resp, err
	})
}
