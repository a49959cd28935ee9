// Command sweeper is the Lambda EventBridge runs every minute: it marks
// first-response SLA breaches on time, escalates them, and re-enqueues
// events the webhook had to spool.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, err := lambdaenv.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	deps, err := env.Deps(ctx)
	if err != nil {
		log.Fatal(err)
	}
	tr := deps.Triage()
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (map[string]int, error) {
		breaches, err := tr.Sweep(ctx, 10000)
		if err != nil {
			return nil, err
		}
		spooled, err := env.Spool.Drain(ctx, env.Queue.Send, 500)
		if err != nil {
			env.Log.Error("spool drain", "error", err, "sent", spooled)
		}
		return map[string]int{"breaches": breaches, "respooled": spooled}, nil
	})
}
